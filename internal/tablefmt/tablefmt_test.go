package tablefmt

import "testing"

// TestRender checks the layout against etcdctl's for cells of different
// widths, and a header title with an underscore.
func TestRender(t *testing.T) {
	got := Render([]string{"endpoint", "hash_revision"}, [][]string{{"127.0.0.1:2379", "7"}})
	want := "" +
		"┌────────────────┬───────────────┐\n" +
		"│    ENDPOINT    │ HASH REVISION │\n" +
		"├────────────────┼───────────────┤\n" +
		"│ 127.0.0.1:2379 │             7 │\n" +
		"└────────────────┴───────────────┘\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
