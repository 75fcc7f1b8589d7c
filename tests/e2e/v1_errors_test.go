package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestV1Errors sends the bad inputs of the spec's error table to the
// built binary (started with 2013 flags, --max-request-bytes through its
// environment variable) and checks status and errorCode of each.
func TestV1Errors(t *testing.T) {
	wd := t.TempDir()
	n := newV1Node(t, "node1", wd, "nod/node1", "")
	n.SetEnv([]string{"ETCD_MAX_REQUEST_BYTES=1024"})
	if err := n.Start(); err != nil {
		t.Fatalf("start: %v\n%s", err, n.Tail(40))
	}
	base := n.clientURL()
	v1Do(t, "POST", base+"/v1/keys/file", form("value", "one"))
	v1Do(t, "POST", base+"/v1/keys/dir/child", form("value", "c"))
	for _, c := range []struct {
		name, method, path string
		body               []string
		status, code       int
	}{
		{"missing key", "GET", "/v1/keys/missing", nil, 404, 100},
		{"prevValue mismatch", "POST", "/v1/keys/file", []string{"value", "x", "prevValue", "two"}, 400, 101},
		{"value on a directory", "POST", "/v1/keys/dir", []string{"value", "x"}, 400, 102},
		{"delete a directory", "DELETE", "/v1/keys/dir", nil, 400, 102},
		{"key under a value", "PUT", "/v1/keys/file/sub", []string{"value", "x"}, 400, 104},
		{"missing value", "POST", "/v1/keys/new", []string{"ttl", "5"}, 400, 200},
		{"non-numeric ttl", "POST", "/v1/keys/new", []string{"value", "x", "ttl", "soon"}, 400, 202},
		{"negative ttl", "POST", "/v1/keys/new", []string{"value", "x", "ttl", "-5"}, 400, 202},
		{"non-numeric index", "POST", "/v1/watch/file", []string{"index", "first"}, 400, 203},
	} {
		t.Run(c.name, func(t *testing.T) {
			var f map[string][]string
			if c.body != nil {
				f = form(c.body...)
			}
			st, b := v1Do(t, c.method, base+c.path, f)
			v1Error(t, st, b, c.status, c.code)
		})
	}
	if st, b := v1Do(t, "GET", base+"/v1/keys/file", nil); st != 200 || !strings.Contains(b, `"value":"one"`) {
		t.Errorf("a refused write changed /file: %d %s", st, b)
	}
	for _, c := range [][2]string{{"PATCH", "/v1/keys/file"}, {"DELETE", "/v1/watch/file"}, {"GET", "/v1/testAndSet/file"}, {"POST", "/v1/machines"}} {
		if st, b := v1Do(t, c[0], base+c[1], nil); st != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d %s, want 405", c[0], c[1], st, b)
		}
	}
	if st, b := v1Do(t, "POST", base+"/v1/keys/big", form("value", strings.Repeat("x", 4096))); st != http.StatusRequestEntityTooLarge {
		t.Errorf("a body above --max-request-bytes: %d %s, want 413", st, b)
	}
}
