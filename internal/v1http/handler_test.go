package v1http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdgo/etcd/internal/server"
	"github.com/etcdgo/etcd/internal/server/servertest"
)

// startServer starts a single in-process member on free ports and waits
// until it is ready; it stops at cleanup.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	peer := "http://" + l.Addr().String()
	l.Close()
	cfg := servertest.Config(t, "m0", t.TempDir(), peer)
	cfg.ClientURLs = []string{"http://127.0.0.1:4001"}
	cfg.InitialClusterToken = "v1http-test"
	return servertest.Start(t, cfg)
}

// newTestAPI serves the v1 API of a fresh member with httptest.
func newTestAPI(t *testing.T) (*server.Server, *Handler, *httptest.Server) {
	t.Helper()
	s := startServer(t)
	h := New(s, Config{MaxRequestBytes: 4096})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	t.Cleanup(h.Close)
	return s, h, ts
}

func call(t *testing.T, ts *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestExactAnswers checks the answers byte for byte (field order and
// omission), the index being the store's revision.
func TestExactAnswers(t *testing.T) {
	s, _, ts := newTestAPI(t)
	rev := func() int64 { return s.Header().GetRevision() }
	for _, c := range []struct{ method, path, body, want string }{
		{"POST", "/v1/keys/message", "value=Hello+world", `{"action":"SET","key":"/message","value":"Hello world","newKey":true,"index":%d}`},
		{"GET", "/v1/keys/message", "", `{"action":"GET","key":"/message","value":"Hello world","index":%d}`},
		{"PUT", "/v1/keys/message", "value=Hello+etcd", `{"action":"SET","key":"/message","prevValue":"Hello world","value":"Hello etcd","index":%d}`},
		{"DELETE", "/v1/keys/message", "", `{"action":"DELETE","key":"/message","prevValue":"Hello etcd","index":%d}`},
		{"POST", "//v1/keys//a///b/?value=q", "", `{"action":"SET","key":"/a/b","value":"q","newKey":true,"index":%d}`},
		{"POST", "/v1/keys/a/c", "value=r", `{"action":"SET","key":"/a/c","value":"r","newKey":true,"index":%d}`},
		{"GET", "/v1/keys", "", `[{"action":"GET","key":"/a","dir":true,"index":%d}]`},
		{"GET", "/v1/keys/a", "", `[{"action":"GET","key":"/a/b","value":"q","index":%[1]d},{"action":"GET","key":"/a/c","value":"r","index":%[1]d}]`},
		{"POST", "/v1/testAndSet/a/b", "prevValue=q&value=s", `{"action":"SET","key":"/a/b","prevValue":"q","value":"s","index":%d}`},
	} {
		path := c.path
		if strings.HasPrefix(path, "//") {
			path = path[1:]
		}
		st, b := call(t, ts, c.method, path, c.body)
		if want := fmt.Sprintf(c.want, rev()); st != 200 || b != want {
			t.Errorf("%s %s: %d %s\nwant %s", c.method, path, st, b, want)
		}
	}
	st, b := call(t, ts, "POST", "/v1/testAndSet/a/b", "prevValue=q&value=t")
	if st != 400 || b != "Test s==q fails" {
		t.Errorf("failed testAndSet: %d %q", st, b)
	}
	st, b = call(t, ts, "POST", "/v1/keys/a/b", "prevValue=q&value=t")
	if want := fmt.Sprintf(`{"errorCode":101,"message":"The given PrevValue is not equal to the value of the key","cause":"[q != s]","index":%d}`, rev()); st != 400 || b != want {
		t.Errorf("failed prevValue set: %d %s", st, b)
	}
}

// TestTTLAnswer checks the shape of a TTL answer and that the key is
// attached to a lease of that TTL.
func TestTTLAnswer(t *testing.T) {
	s, _, ts := newTestAPI(t)
	st, b := call(t, ts, "POST", "/v1/keys/foo", "value=bar&ttl=5")
	re := regexp.MustCompile(`^\{"action":"SET","key":"/foo","value":"bar","newKey":true,"expiration":"([^"]+)","ttl":([45]),"index":\d+\}$`)
	m := re.FindStringSubmatch(b)
	if st != 200 || m == nil {
		t.Fatalf("set with ttl: %d %s", st, b)
	}
	exp, err := time.Parse(time.RFC3339Nano, m[1])
	if err != nil || exp.Before(time.Now().Add(3*time.Second)) || exp.After(time.Now().Add(6*time.Second)) {
		t.Errorf("expiration %s: %v", m[1], err)
	}
	if _, off := exp.Zone(); func() int { _, o := time.Now().Zone(); return o }() != off {
		t.Errorf("expiration %s is not in the local zone", m[1])
	}
	rr, err := s.Range(context.Background(), &pb.RangeRequest{Key: []byte("/foo")})
	if err != nil || len(rr.Kvs) != 1 || rr.Kvs[0].Lease == 0 {
		t.Fatalf("v3 view: %v %v", rr, err)
	}
	lr, err := s.LeaseTimeToLive(context.Background(), &pb.LeaseTimeToLiveRequest{ID: rr.Kvs[0].Lease})
	if err != nil || lr.GrantedTTL != 5 {
		t.Fatalf("lease: %v %v", lr, err)
	}
}

// TestWatchEndsWithClient checks that a watch returns when its request's
// context ends, and that Close ends the long-polls with error 301.
func TestWatchEndsWithClient(t *testing.T) {
	_, h, ts := newTestAPI(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.watch(ctx, "/nothing", 0)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("watch after hang-up: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not end with its context")
	}

	got := make(chan string, 1)
	go func() {
		st, b := call(t, ts, "GET", "/v1/watch/nothing", "")
		got <- fmt.Sprint(st, " ", b)
	}()
	time.Sleep(50 * time.Millisecond)
	h.Close()
	select {
	case b := <-got:
		if !strings.HasPrefix(b, "503 ") || !strings.Contains(b, `"errorCode":301`) {
			t.Fatalf("watch at shutdown: %s", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the long-poll")
	}
}

// TestWatchRoot checks a watch of the whole keyspace and that a change
// of a sibling with the watched key as prefix is not reported.
func TestWatchRoot(t *testing.T) {
	_, _, ts := newTestAPI(t)
	call(t, ts, "POST", "/v1/keys/ab", "value=1")
	call(t, ts, "POST", "/v1/keys/a/x", "value=2")
	if st, b := call(t, ts, "POST", "/v1/watch/", "index=1"); st != 200 || !strings.Contains(b, `"key":"/ab"`) {
		t.Errorf("root watch from history: %d %s", st, b)
	}
	if st, b := call(t, ts, "POST", "/v1/watch/a", "index=1"); st != 200 || !strings.Contains(b, `"key":"/a/x"`) {
		t.Errorf("watch of /a from history: %d %s", st, b)
	}
}
