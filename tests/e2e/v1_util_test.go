package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/etcdgo/etcd/tests/framework"
)

// v1CallTimeout bounds one v1 request of the e2e tests (watches included).
const v1CallTimeout = 20 * time.Second

// v1Node is an etcd process started from a 2013-style command line
// (`etcd -c PORT -s PORT -d DIR [-C PEER]`) on free 127.0.0.1 ports.
type v1Node struct {
	*framework.Process
	name         string
	cport, pport int
	dataDir      string
}

// clientURL is http://127.0.0.1:<-c port>.
func (n *v1Node) clientURL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.cport) }

// peerURL is http://127.0.0.1:<-s port>.
func (n *v1Node) peerURL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.pport) }

// peerAddr is the peer address as -C takes it.
func (n *v1Node) peerAddr() string { return fmt.Sprintf("127.0.0.1:%d", n.pport) }

// newV1Node prepares (does not start) `etcd -c C -s S [-C join] -d dataDir`
// run in the working directory wd (dataDir is relative to it, as in the
// seed's `-d nod/node2`).
func newV1Node(t *testing.T, name, wd, dataDir, join string) *v1Node {
	t.Helper()
	n := &v1Node{name: name, cport: framework.FreePort(t), pport: framework.FreePort(t), dataDir: filepath.Join(wd, dataDir)}
	args := []string{"-c", strconv.Itoa(n.cport), "-s", strconv.Itoa(n.pport)}
	if join != "" {
		args = append(args, "-C", join)
	}
	args = append(args, "-d", dataDir)
	n.Process = framework.NewProcess(t, framework.ProcessConfig{Name: name, Bin: framework.EtcdBinary(t), Args: args, Dir: wd})
	return n
}

// startV1Node is newV1Node and Start.
func startV1Node(t *testing.T, name, wd, dataDir, join string) *v1Node {
	t.Helper()
	n := newV1Node(t, name, wd, dataDir, join)
	if err := n.Start(); err != nil {
		t.Fatalf("start %s: %v\n%s", name, err, n.Tail(40))
	}
	return n
}

// v1Do sends a v1 request (form: nil for none) and returns status and body.
func v1Do(t *testing.T, method, u string, form url.Values) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), v1CallTimeout)
	defer cancel()
	return v1DoCtx(t, ctx, method, u, form)
}

func v1DoCtx(t *testing.T, ctx context.Context, method, u string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, u, err)
	}
	return resp.StatusCode, string(b)
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// v1Answer is one decoded v1 JSON object with its index and expiration
// checked and set aside.
type v1Answer struct {
	fields     map[string]any
	index      int64
	expiration time.Time
	ttl        int64
	hasTTL     bool
}

// decodeV1 decodes a JSON object answer: index must be a positive whole
// number; expiration, if present, an RFC 3339 time with nanoseconds; ttl,
// if present, a non-negative whole number.
func decodeV1(t *testing.T, body string) v1Answer {
	t.Helper()
	var o map[string]any
	if err := json.Unmarshal([]byte(body), &o); err != nil {
		t.Fatalf("not a JSON object: %q: %v", body, err)
	}
	a := v1Answer{fields: o}
	idx, ok := o["index"].(float64)
	if !ok || idx <= 0 || idx != float64(int64(idx)) {
		t.Fatalf("index is not a positive whole number in %s", body)
	}
	a.index = int64(idx)
	delete(o, "index")
	if e, ok := o["expiration"]; ok {
		s, ok := e.(string)
		exp, err := time.Parse(time.RFC3339Nano, s)
		if !ok || err != nil {
			t.Fatalf("expiration %v is not an RFC 3339 time: %v", e, err)
		}
		a.expiration = exp
		delete(o, "expiration")
	}
	if v, ok := o["ttl"]; ok {
		f, ok := v.(float64)
		if !ok || f < 0 || f != float64(int64(f)) {
			t.Fatalf("ttl %v is not a whole number of seconds", v)
		}
		a.ttl, a.hasTTL = int64(f), true
		delete(o, "ttl")
	}
	return a
}

// wantSeed checks an answer against the seed's JSON field by field: the
// same fields with the same values, index a positive number (returned),
// expiration and ttl present exactly when the seed shows them, the ttl at
// most the seed's and the expiration that far ahead.
func wantSeed(t *testing.T, status int, body string, wantStatus int, seed string) v1Answer {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d; body %s", status, wantStatus, body)
	}
	got, want := decodeV1(t, body), decodeV1(t, seed)
	if !reflect.DeepEqual(got.fields, want.fields) {
		t.Fatalf("answer %s\nwant (index, expiration and ttl aside) %s", body, seed)
	}
	// ttl is omitted when empty, as every field: with less than a second
	// left it is 0 and absent, the expiration still there.
	if got.expiration.IsZero() != want.expiration.IsZero() || (got.hasTTL && !want.hasTTL) {
		t.Fatalf("answer %s: expiration/ttl presence differs from the seed's %s", body, seed)
	}
	if !got.expiration.IsZero() {
		if got.ttl > want.ttl+1 {
			t.Fatalf("ttl %d, the seed's request asked for about %d", got.ttl, want.ttl)
		}
		if d := time.Until(got.expiration); d < -time.Second || d > time.Duration(want.ttl+2)*time.Second {
			t.Fatalf("expiration %s is %v away, ttl %d", got.expiration, d, got.ttl)
		}
	}
	return got
}

// v1Error decodes an error answer and checks its status and code.
func v1Error(t *testing.T, status int, body string, wantStatus, wantCode int) {
	t.Helper()
	var e struct {
		ErrorCode int    `json:"errorCode"`
		Message   string `json:"message"`
		Index     int64  `json:"index"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || status != wantStatus || e.ErrorCode != wantCode || e.Message == "" || e.Index <= 0 {
		t.Fatalf("answer %d %s, want status %d with errorCode %d", status, body, wantStatus, wantCode)
	}
}

// waitV1 polls GET u until it answers status with a body holding sub.
func waitV1(t *testing.T, u string, status int, sub string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := http.DefaultClient.Do(req)
		var st int
		var b []byte
		if err == nil {
			st = resp.StatusCode
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		cancel()
		if err == nil && st == status && strings.Contains(string(b), sub) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %s (%v), want %d with %q", u, st, b, err, status, sub)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// asyncV1 runs a v1 request in the background; its answer comes on the
// returned channel as "status body".
func asyncV1(t *testing.T, ctx context.Context, method, u string, f url.Values) <-chan [2]string {
	ch := make(chan [2]string, 1)
	go func() {
		var body io.Reader
		if f != nil {
			body = strings.NewReader(f.Encode())
		}
		req, _ := http.NewRequestWithContext(ctx, method, u, body)
		if f != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			ch <- [2]string{"error", err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		ch <- [2]string{strconv.Itoa(resp.StatusCode), string(b)}
	}()
	return ch
}

// recvV1 waits for an asyncV1 answer, which must be a 200.
func recvV1(t *testing.T, ch <-chan [2]string, what string) string {
	t.Helper()
	select {
	case r := <-ch:
		if r[0] != "200" {
			t.Fatalf("%s: %s %s", what, r[0], r[1])
		}
		return r[1]
	case <-time.After(v1CallTimeout):
		t.Fatalf("%s: no answer within %v", what, v1CallTimeout)
		return ""
	}
}
