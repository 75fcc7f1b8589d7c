package etcdmain_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// v1Call sends a v1 request with a form body (nil: none) and returns the
// status and body.
func v1Call(t *testing.T, m *testMember, method, path string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(m.ctx(), method, m.clientURL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, string(b)
}

// v1Obj decodes a JSON object answer, checks that its index is a positive
// number and returns it without the index.
func v1Obj(t *testing.T, body string) (map[string]any, int64) {
	t.Helper()
	var o map[string]any
	if err := json.Unmarshal([]byte(body), &o); err != nil {
		t.Fatalf("not a JSON object: %q: %v", body, err)
	}
	idx, ok := o["index"].(float64)
	if !ok || idx <= 0 {
		t.Fatalf("no positive index in %s", body)
	}
	delete(o, "index")
	return o, int64(idx)
}

// wantV1 checks a JSON answer against the seed's expected JSON, index
// aside, and returns the answer's index.
func wantV1(t *testing.T, status int, body string, wantStatus int, want string) int64 {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d; body %s", status, wantStatus, body)
	}
	got, idx := v1Obj(t, body)
	exp, _ := v1Obj(t, want)
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("answer %s\nwant (index aside) %s", body, want)
	}
	return idx
}

func v1Form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// v1WaitGone polls GET path until it answers 404, within startTimeout.
func v1WaitGone(t *testing.T, m *testMember, path string) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		st, _ := v1Call(t, m, http.MethodGet, path, nil)
		if st == http.StatusNotFound {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still there after %v", path, startTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestV1Seed runs every v1 curl line of the seed README, in its order, and
// checks each answer against the README's (index aside).
func TestV1Seed(t *testing.T) {
	m := startMember(t)
	st, b := v1Call(t, m, "POST", "/v1/keys/message", v1Form("value", "Hello world"))
	i1 := wantV1(t, st, b, 200, `{"action":"SET","key":"/message","value":"Hello world","newKey":true,"index":3}`)
	st, b = v1Call(t, m, "GET", "/v1/keys/message", nil)
	if i := wantV1(t, st, b, 200, `{"action":"GET","key":"/message","value":"Hello world","index":3}`); i != i1 {
		t.Errorf("GET index %d, want the store's revision %d", i, i1)
	}
	st, b = v1Call(t, m, "POST", "/v1/keys/message", v1Form("value", "Hello etcd"))
	i2 := wantV1(t, st, b, 200, `{"action":"SET","key":"/message","prevValue":"Hello world","value":"Hello etcd","index":4}`)
	st, b = v1Call(t, m, "DELETE", "/v1/keys/message", nil)
	i3 := wantV1(t, st, b, 200, `{"action":"DELETE","key":"/message","prevValue":"Hello etcd","index":5}`)
	if !(i1 < i2 && i2 < i3) {
		t.Errorf("write indexes %d, %d, %d do not increase", i1, i2, i3)
	}

	// TTL: the seed waits for the key to expire; a watcher sees the delete.
	st, b = v1Call(t, m, "POST", "/v1/keys/foo", v1Form("value", "bar", "ttl", "5"))
	if st != 200 {
		t.Fatalf("set with ttl: %d %s", st, b)
	}
	o, _ := v1Obj(t, b)
	checkTTL(t, o, 5)
	delete(o, "expiration")
	delete(o, "ttl")
	if want := map[string]any{"action": "SET", "key": "/foo", "value": "bar", "newKey": true}; !reflect.DeepEqual(o, want) {
		t.Fatalf("set with ttl: %s", b)
	}
	watched := make(chan string, 1)
	go func() {
		_, b := v1Call(t, m, "GET", "/v1/watch/foo", nil)
		watched <- b
	}()
	// ttl counts down on GETs.
	first := -1.0
	deadline := time.Now().Add(startTimeout)
	for {
		st, b = v1Call(t, m, "GET", "/v1/keys/foo", nil)
		if st != 200 {
			t.Fatalf("GET of a key with a TTL before it ran out: %d %s", st, b)
		}
		o, _ := v1Obj(t, b)
		checkTTL(t, o, 5)
		if o["action"] != "GET" || o["value"] != "bar" {
			t.Fatalf("GET: %s", b)
		}
		if first < 0 {
			first = o["ttl"].(float64)
		} else if o["ttl"].(float64) < first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ttl did not count down from %v", first)
		}
		time.Sleep(100 * time.Millisecond)
	}
	v1WaitGone(t, m, "/v1/keys/foo")
	select {
	case b := <-watched:
		wantV1(t, 200, b, 200, `{"action":"DELETE","key":"/foo","prevValue":"bar","index":7}`)
	case <-time.After(startTimeout):
		t.Fatal("the watcher did not see the expiry")
	}

	// testAndSet.
	st, b = v1Call(t, m, "POST", "/v1/keys/testAndSet", v1Form("value", "one"))
	wantV1(t, st, b, 200, `{"action":"SET","key":"/testAndSet","value":"one","newKey":true,"index":9}`)
	st, b = v1Call(t, m, "POST", "/v1/testAndSet/testAndSet", v1Form("prevValue", "two", "value", "three"))
	if st != 400 || b != "Test one==two fails" {
		t.Fatalf("failed testAndSet: %d %q", st, b)
	}
	st, b = v1Call(t, m, "POST", "/v1/testAndSet/testAndSet", v1Form("prevValue", "one", "value", "two"))
	wantV1(t, st, b, 200, `{"action":"SET","key":"/testAndSet","prevValue":"one","value":"two","index":10}`)

	// Listing.
	st, b = v1Call(t, m, "POST", "/v1/keys/foo/foo", v1Form("value", "barbar"))
	wantV1(t, st, b, 200, `{"action":"SET","key":"/foo/foo","value":"barbar","newKey":true,"index":11}`)
	st, b = v1Call(t, m, "POST", "/v1/keys/foo/foo_dir/foo", v1Form("value", "barbarbar"))
	wantV1(t, st, b, 200, `{"action":"SET","key":"/foo/foo_dir/foo","value":"barbarbar","newKey":true,"index":12}`)
	for _, p := range []string{"/v1/keys/foo/", "/v1/keys/foo"} {
		st, b = v1Call(t, m, "GET", p, nil)
		var list []map[string]any
		if st != 200 || json.Unmarshal([]byte(b), &list) != nil || len(list) != 2 {
			t.Fatalf("GET %s: %d %s", p, st, b)
		}
		for i, want := range []string{
			`{"action":"GET","key":"/foo/foo","value":"barbar","index":10}`,
			`{"action":"GET","key":"/foo/foo_dir","dir":true,"index":10}`,
		} {
			e, _ := json.Marshal(list[i])
			wantV1(t, 200, string(e), 200, want)
		}
	}
}

// checkTTL checks that o has an RFC 3339 expiration in the future and a
// ttl of at most max whole seconds.
func checkTTL(t *testing.T, o map[string]any, max float64) {
	t.Helper()
	exp, err := time.Parse(time.RFC3339Nano, o["expiration"].(string))
	if err != nil || !exp.After(time.Now().Add(-time.Second)) {
		t.Fatalf("expiration %v: %v", o["expiration"], err)
	}
	if ttl, ok := o["ttl"].(float64); !ok || ttl < 0 || ttl > max {
		t.Fatalf("ttl %v, want 0..%v", o["ttl"], max)
	}
}

// TestV1V3OneStore checks that v1 keys are v3 keys: written through one
// API, read and watched through the other.
func TestV1V3OneStore(t *testing.T) {
	m := startMember(t)
	ctx := m.ctx()
	wch := m.cli.Watch(ctx, "/message")
	st, b := v1Call(t, m, "PUT", "/v1/keys/message", v1Form("value", "from v1"))
	idx := wantV1(t, st, b, 200, `{"action":"SET","key":"/message","value":"from v1","newKey":true,"index":1}`)
	gr, err := m.cli.Get(ctx, "/message")
	if err != nil || len(gr.Kvs) != 1 || string(gr.Kvs[0].Value) != "from v1" || gr.Kvs[0].ModRevision != idx {
		t.Fatalf("v3 get of a v1 key: %v %v", gr, err)
	}
	select {
	case wr := <-wch:
		if len(wr.Events) != 1 || string(wr.Events[0].Kv.Value) != "from v1" {
			t.Fatalf("v3 watch: %+v", wr)
		}
	case <-time.After(callTimeout):
		t.Fatal("the v3 watch did not fire on a v1 set")
	}
	pr, err := m.cli.Put(ctx, "/dir/from-v3", "v3 value")
	if err != nil {
		t.Fatal(err)
	}
	st, b = v1Call(t, m, "GET", "/v1/keys/dir/from-v3", nil)
	if i := wantV1(t, st, b, 200, `{"action":"GET","key":"/dir/from-v3","value":"v3 value","index":1}`); i != pr.Header.Revision {
		t.Errorf("index %d, want revision %d", i, pr.Header.Revision)
	}
	// A v1 TTL is a lease.
	st, b = v1Call(t, m, "POST", "/v1/keys/leased?ttl=30&value=x", nil)
	if st != 200 {
		t.Fatalf("set with query params: %d %s", st, b)
	}
	gr, err = m.cli.Get(ctx, "/leased")
	if err != nil || len(gr.Kvs) != 1 || gr.Kvs[0].Lease == 0 {
		t.Fatalf("v3 view of a v1 TTL key: %v %v", gr, err)
	}
	ttl, err := m.cli.TimeToLive(ctx, clientv3.LeaseID(gr.Kvs[0].Lease))
	if err != nil || ttl.GrantedTTL != 30 {
		t.Fatalf("lease of a v1 TTL key: %+v %v", ttl, err)
	}
	// A set without ttl makes the key permanent again; the old lease goes.
	st, b = v1Call(t, m, "POST", "/v1/keys/leased", v1Form("value", "y"))
	wantV1(t, st, b, 200, `{"action":"SET","key":"/leased","prevValue":"x","value":"y","index":1}`)
	gr, err = m.cli.Get(ctx, "/leased")
	if err != nil || len(gr.Kvs) != 1 || gr.Kvs[0].Lease != 0 {
		t.Fatalf("v3 view after a permanent set: %v %v", gr, err)
	}
	if ttl, err := m.cli.TimeToLive(ctx, ttl.ID); err == nil && ttl.TTL > 0 {
		t.Errorf("the old lease of a key made permanent is still alive: %+v", ttl)
	}
}

// TestV1TTLPermanentAgain checks that a key set with a TTL and then
// without one outlives the TTL.
func TestV1TTLPermanentAgain(t *testing.T) {
	m := startMember(t)
	if st, b := v1Call(t, m, "POST", "/v1/keys/k", v1Form("value", "a", "ttl", "1")); st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	if st, b := v1Call(t, m, "POST", "/v1/keys/t", v1Form("value", "a", "ttl", "1")); st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	if st, b := v1Call(t, m, "POST", "/v1/keys/k", v1Form("value", "b")); st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	v1WaitGone(t, m, "/v1/keys/t")
	st, b := v1Call(t, m, "GET", "/v1/keys/k", nil)
	wantV1(t, st, b, 200, `{"action":"GET","key":"/k","value":"b","index":1}`)
}

// TestV1Watch checks the long-poll, events under the prefix, the
// index-based history and a hang-up.
func TestV1Watch(t *testing.T) {
	m := startMember(t)
	got := make(chan string, 1)
	go func() {
		_, b := v1Call(t, m, "GET", "/v1/watch/foo", nil)
		got <- b
	}()
	// Writes outside foo and foo/ do not wake it.
	time.Sleep(200 * time.Millisecond)
	v1Call(t, m, "POST", "/v1/keys/foobar", v1Form("value", "x"))
	v1Call(t, m, "POST", "/v1/keys/fo", v1Form("value", "x"))
	st, b := v1Call(t, m, "POST", "/v1/keys/foo/bar", v1Form("value", "v"))
	idx := wantV1(t, st, b, 200, `{"action":"SET","key":"/foo/bar","value":"v","newKey":true,"index":1}`)
	select {
	case w := <-got:
		if wi := wantV1(t, 200, w, 200, b); wi != idx {
			t.Fatalf("watch index %d, want %d", wi, idx)
		}
	case <-time.After(callTimeout):
		t.Fatal("the long-poll did not return")
	}
	// History: the first change at index >= N at once.
	st, b = v1Call(t, m, "POST", "/v1/keys/foo/bar", v1Form("value", "w"))
	idx2 := wantV1(t, st, b, 200, `{"action":"SET","key":"/foo/bar","prevValue":"v","value":"w","index":1}`)
	st, b = v1Call(t, m, "POST", "/v1/watch/foo", v1Form("index", "1"))
	if i := wantV1(t, st, b, 200, `{"action":"SET","key":"/foo/bar","value":"v","newKey":true,"index":1}`); i != idx {
		t.Fatalf("index 1 gave %d, want %d", i, idx)
	}
	st, b = v1Call(t, m, "POST", "/v1/watch/foo", v1Form("index", strconv.FormatInt(idx+1, 10)))
	if i := wantV1(t, st, b, 200, `{"action":"SET","key":"/foo/bar","prevValue":"v","value":"w","index":1}`); i != idx2 {
		t.Fatalf("index %d gave %d, want %d", idx+1, i, idx2)
	}
	// A future index waits for it; a delete is answered as DELETE.
	got2 := make(chan string, 1)
	go func() {
		_, b := v1Call(t, m, "POST", "/v1/watch/foo/bar", v1Form("index", strconv.FormatInt(idx2+1, 10)))
		got2 <- b
	}()
	st, b = v1Call(t, m, "DELETE", "/v1/keys/foo/bar", nil)
	wantV1(t, st, b, 200, `{"action":"DELETE","key":"/foo/bar","prevValue":"w","index":1}`)
	select {
	case w := <-got2:
		wantV1(t, 200, w, 200, b)
	case <-time.After(callTimeout):
		t.Fatal("the index watch did not return")
	}
	// A client that hangs up ends its watch.
	ctx, cancel := context.WithCancel(m.ctx())
	req, _ := http.NewRequestWithContext(ctx, "GET", m.clientURL+"/v1/watch/nothing", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("a watch answered although nothing changed")
		}
	case <-time.After(callTimeout):
		t.Fatal("canceling the request did not end it")
	}
}

// TestV1Errors checks every error code of the spec with its status.
func TestV1Errors(t *testing.T) {
	m := startMember(t, "--max-request-bytes", "1024")
	v1Call(t, m, "POST", "/v1/keys/file", v1Form("value", "one"))
	v1Call(t, m, "POST", "/v1/keys/dir/child", v1Form("value", "c"))
	for _, c := range []struct {
		name, method, path string
		form               url.Values
		status, code       int
	}{
		{"get missing", "GET", "/v1/keys/missing", nil, 404, 100},
		{"list missing", "GET", "/v1/keys/missing/", nil, 404, 100},
		{"delete missing", "DELETE", "/v1/keys/missing", nil, 404, 100},
		{"prevValue mismatch", "POST", "/v1/keys/file", v1Form("value", "x", "prevValue", "two"), 400, 101},
		{"set a dir", "POST", "/v1/keys/dir", v1Form("value", "x"), 400, 102},
		{"delete a dir", "DELETE", "/v1/keys/dir", nil, 400, 102},
		{"key under a value", "POST", "/v1/keys/file/sub", v1Form("value", "x"), 400, 104},
		{"no value", "POST", "/v1/keys/new", v1Form(), 400, 200},
		{"empty value", "PUT", "/v1/keys/new", v1Form("value", ""), 400, 200},
		{"ttl not a number", "POST", "/v1/keys/new", v1Form("value", "x", "ttl", "abc"), 400, 202},
		{"negative ttl", "POST", "/v1/keys/new", v1Form("value", "x", "ttl", "-1"), 400, 202},
		{"index not a number", "POST", "/v1/watch/file", v1Form("index", "abc"), 400, 203},
		{"negative index", "POST", "/v1/watch/file", v1Form("index", "-3"), 400, 203},
		{"ttl not a number on testAndSet", "POST", "/v1/testAndSet/file", v1Form("prevValue", "one", "value", "x", "ttl", "1.5"), 400, 202},
		{"value on the root", "POST", "/v1/keys/", v1Form("value", "x"), 400, 102},
		{"testAndSet without prevValue", "POST", "/v1/testAndSet/file", v1Form("value", "x"), 400, 201},
	} {
		st, b := v1Call(t, m, c.method, c.path, c.form)
		var e struct {
			ErrorCode int    `json:"errorCode"`
			Message   string `json:"message"`
			Cause     string `json:"cause"`
			Index     int64  `json:"index"`
		}
		if err := json.Unmarshal([]byte(b), &e); err != nil || st != c.status || e.ErrorCode != c.code || e.Message == "" || e.Index <= 0 {
			t.Errorf("%s: %d %s, want status %d error %d", c.name, st, b, c.status, c.code)
		}
	}
	if _, b := v1Call(t, m, "GET", "/v1/keys/file", nil); !strings.Contains(b, `"value":"one"`) {
		t.Errorf("a failed write changed the key: %s", b)
	}
	if _, b := v1Call(t, m, "GET", "/v1/keys/new", nil); !strings.Contains(b, `"errorCode":100`) {
		t.Errorf("a refused set created the key: %s", b)
	}

	// 401: a watch from a compacted index.
	for i := 0; i < 3; i++ {
		v1Call(t, m, "POST", "/v1/keys/file", v1Form("value", strconv.Itoa(i)))
	}
	gr, err := m.cli.Get(m.ctx(), "/file")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.cli.Compact(m.ctx(), gr.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	st, b := v1Call(t, m, "POST", "/v1/watch/file", v1Form("index", "2"))
	if st != 400 || !strings.Contains(b, `"errorCode":401`) {
		t.Errorf("watch from a compacted index: %d %s", st, b)
	}

	// 405 and 413.
	for _, c := range [][2]string{{"PATCH", "/v1/keys/file"}, {"DELETE", "/v1/watch/file"}, {"GET", "/v1/testAndSet/file"}, {"POST", "/v1/machines"}, {"DELETE", "/leader"}} {
		if st, b := v1Call(t, m, c[0], c[1], nil); st != 405 {
			t.Errorf("%s %s: %d %s, want 405", c[0], c[1], st, b)
		}
	}
	if st, b := v1Call(t, m, "POST", "/v1/keys/big", v1Form("value", strings.Repeat("x", 2048))); st != 413 {
		t.Errorf("a body above --max-request-bytes: %d %s, want 413", st, b)
	}
}

// TestV1MachinesLeader checks the membership endpoints.
func TestV1MachinesLeader(t *testing.T) {
	m := startMember(t)
	for _, p := range []string{"/v1/machines", "/machines"} {
		if st, b := v1Call(t, m, "GET", p, nil); st != 200 || b != m.clientURL {
			t.Errorf("GET %s: %d %q, want %q", p, st, b, m.clientURL)
		}
	}
	for _, p := range []string{"/v1/leader", "/leader"} {
		if st, b := v1Call(t, m, "GET", p, nil); st != 200 || b != m.peerURL {
			t.Errorf("GET %s: %d %q, want %q", p, st, b, m.peerURL)
		}
	}
}
