package humanize

import "testing"

func TestBytesAsGoHumanize(t *testing.T) {
	for n, want := range map[uint64]string{
		0:          "0 B",
		9:          "9 B",
		1500:       "1.5 kB",
		16384:      "16 kB",
		20480:      "20 kB",
		524288:     "524 kB",
		82854982:   "83 MB",
		2147483648: "2.1 GB",
		8589934592: "8.6 GB",
	} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
