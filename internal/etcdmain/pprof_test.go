package etcdmain_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestPprofFlag: --enable-pprof serves Go's runtime profiles under
// /debug/pprof/ on the client URL, as etcd does; without it they are not
// there.
func TestPprofFlag(t *testing.T) {
	on := startMember(t, "--enable-pprof")
	code, _, body := httpGet(t, on.clientURL+"/debug/pprof/goroutine?debug=1")
	if code != http.StatusOK || !strings.Contains(body, "goroutine profile:") {
		t.Fatalf("with --enable-pprof: %d %.200s", code, body)
	}
	if code, _, body := httpGet(t, on.clientURL+"/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "heap") {
		t.Fatalf("with --enable-pprof, the index: %d %.200s", code, body)
	}
	if !on.waitLog(0, `"msg":"pprof is enabled"`) {
		t.Error("no log line says pprof is enabled")
	}
	on.stop()

	off := startMember(t)
	if code, _, _ := httpGet(t, off.clientURL+"/debug/pprof/goroutine?debug=1"); code != http.StatusNotFound {
		t.Fatalf("without --enable-pprof: status %d, want 404", code)
	}
}
