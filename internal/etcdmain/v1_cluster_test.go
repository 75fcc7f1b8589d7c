package etcdmain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcdgo/etcd/internal/config"
	"github.com/etcdgo/etcd/internal/etcdmain"
)

// legacyMember is a member started in-process from a 2013-style command
// line (-c -s -d [-C] [-n] [-f]) on free 127.0.0.1 ports, with short raft
// timings and its log in a file (set on the parsed configuration: the
// 2013 flags cannot be mixed with etcd's).
type legacyMember struct {
	t         *testing.T
	args      []string
	dataDir   string
	logPath   string
	clientURL string
	peerURL   string

	cancel context.CancelFunc
	done   chan error
}

// newLegacyMember prepares, without starting it, a member with data dir
// dir/data that joins the peers join (none: a member of its own).
func newLegacyMember(t *testing.T, join string, extra ...string) *legacyMember {
	t.Helper()
	dir := t.TempDir()
	cport, pport := freePort(t), freePort(t)
	m := &legacyMember{
		t:         t,
		dataDir:   filepath.Join(dir, "data"),
		logPath:   filepath.Join(dir, "etcd.log"),
		clientURL: fmt.Sprintf("http://127.0.0.1:%d", cport),
		peerURL:   fmt.Sprintf("http://127.0.0.1:%d", pport),
	}
	m.args = []string{"-c", fmt.Sprint(cport), "-s", fmt.Sprint(pport), "-d", m.dataDir}
	if join != "" {
		m.args = append(m.args, "-C", join)
	}
	m.args = append(m.args, extra...)
	t.Cleanup(m.stop)
	return m
}

// peerAddr is the member's peer address as -C takes it.
func (m *legacyMember) peerAddr() string { return strings.TrimPrefix(m.peerURL, "http://") }

// tm is a testMember for v1Call.
func (m *legacyMember) tm() *testMember {
	return &testMember{t: m.t, clientURL: m.clientURL, peerURL: m.peerURL, logPath: m.logPath}
}

// start runs the member and waits until it answers a linearizable v1 read.
func (m *legacyMember) start() {
	t := m.t
	t.Helper()
	cfg, err := config.Parse(m.args, nil)
	if err != nil {
		t.Fatalf("parse %q: %v", m.args, err)
	}
	cfg.HeartbeatInterval = 10 * time.Millisecond
	cfg.ElectionTimeout = 100 * time.Millisecond
	cfg.LogOutputs = []string{m.logPath}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.done = make(chan error, 1)
	go func() { m.done <- etcdmain.Run(ctx, cfg) }()
	deadline := time.Now().Add(2 * startTimeout)
	for {
		select {
		case err := <-m.done:
			m.done <- err
			t.Fatalf("member %q exited before it was ready: %v\nlog:\n%s", m.args, err, m.tm().log())
		default:
		}
		if st, _ := m.get("/v1/keys/ready-probe"); st == http.StatusNotFound {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("member %q not ready\nlog:\n%s", m.args, m.tm().log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// get is a GET that tolerates a member that does not answer (status 0).
func (m *legacyMember) get(path string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.clientURL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// stop stops the member (safe to call more than once).
func (m *legacyMember) stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	m.cancel = nil
	select {
	case err := <-m.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			m.t.Errorf("member %q stopped with %v", m.args, err)
		}
	case <-time.After(stopTimeout):
		m.t.Errorf("member %q did not stop within %v", m.args, stopTimeout)
	}
}

// members lists the cluster's members through m's v3 API.
func (m *legacyMember) members() []*clientv3Member {
	t := m.t
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.clientURL}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	resp, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatalf("member list: %v", err)
	}
	var out []*clientv3Member
	for _, x := range resp.Members {
		out = append(out, &clientv3Member{ID: x.ID, Name: x.Name, PeerURLs: x.PeerURLs, ClientURLs: x.ClientURLs})
	}
	return out
}

type clientv3Member struct {
	ID         uint64
	Name       string
	PeerURLs   []string
	ClientURLs []string
}

// startSeedCluster starts the seed's three members from 2013 command lines:
// the first alone, the two others joining it with -C and no -n.
func startSeedCluster(t *testing.T) []*legacyMember {
	t.Helper()
	first := newLegacyMember(t, "")
	first.start()
	ms := []*legacyMember{first}
	for range 2 {
		m := newLegacyMember(t, first.peerAddr())
		m.start()
		ms = append(ms, m)
	}
	return ms
}

// waitV1 polls GET path on m until it answers status with a body holding
// sub, within convergeTimeout.
func waitV1(t *testing.T, m *legacyMember, path string, status int, sub string) string {
	t.Helper()
	deadline := time.Now().Add(convergeTimeout)
	for {
		st, b := m.get(path)
		if st == status && strings.Contains(b, sub) {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s on %s: %d %s, want %d with %q", path, m.clientURL, st, b, status, sub)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestV1SelfJoinCluster builds the seed's cluster from 2013 command lines
// and checks that the v1 API works on every member: names, machines and
// leader, writes anywhere read everywhere, a TTL set on one member seen to
// expire by a watcher on another, v3 writes seen by v1 watches, a member
// down, and a member restarted with its data dir (ignoring -C).
func TestV1SelfJoinCluster(t *testing.T) {
	ms := startSeedCluster(t)
	a, b, c := ms[0], ms[1], ms[2]

	// Each joiner got a name of its own: its peer address.
	mems := a.members()
	var names []string
	for _, x := range mems {
		names = append(names, x.Name)
	}
	slices.Sort(names)
	want := []string{b.peerAddr(), c.peerAddr(), "default"}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("member names %q, want %q", names, want)
	}

	// /v1/machines lists every member's client URL; /v1/leader agrees.
	exp := []string{a.clientURL, b.clientURL, c.clientURL}
	slices.Sort(exp)
	for _, m := range ms {
		// A member lists another's client URL once that one published it.
		waitV1(t, m, "/v1/machines", 200, c.clientURL)
		body := waitV1(t, m, "/machines", 200, b.clientURL)
		got := strings.Split(body, ", ")
		slices.Sort(got)
		if !slices.Equal(got, exp) {
			t.Errorf("machines on %s: %q, want %q", m.clientURL, body, exp)
		}
	}
	_, lead := a.get("/v1/leader")
	for _, m := range ms {
		if st, l := m.get("/leader"); st != 200 || l != lead || !slices.Contains([]string{a.peerURL, b.peerURL, c.peerURL}, l) {
			t.Errorf("leader on %s: %d %q, on the first member %q", m.clientURL, st, l, lead)
		}
	}

	// A key set through one member is read through the others, with the
	// same index.
	st, body := v1Call(t, b.tm(), "POST", "/v1/keys/foo", v1Form("value", "bar"))
	idx := wantV1(t, st, body, 200, `{"action":"SET","key":"/foo","value":"bar","newKey":true,"index":1}`)
	for _, m := range ms {
		st, body := v1Call(t, m.tm(), "GET", "/v1/keys/foo", nil)
		if i := wantV1(t, st, body, 200, `{"action":"GET","key":"/foo","value":"bar","index":1}`); i < idx {
			t.Errorf("GET on %s: index %d below the write's %d (not linearizable)", m.clientURL, i, idx)
		}
	}
	// testAndSet through a third member.
	st, body = v1Call(t, c.tm(), "POST", "/v1/testAndSet/foo", v1Form("prevValue", "bar", "value", "baz"))
	wantV1(t, st, body, 200, `{"action":"SET","key":"/foo","prevValue":"bar","value":"baz","index":1}`)
	st, body = v1Call(t, a.tm(), "POST", "/v1/testAndSet/foo", v1Form("prevValue", "bar", "value", "x"))
	if st != 400 || body != "Test baz==bar fails" {
		t.Errorf("failed testAndSet on another member: %d %q", st, body)
	}

	// A TTL key set on one member: its ttl is read on another, and a
	// watcher on a third sees it expire.
	watched := make(chan string, 1)
	go func() {
		_, body := v1Call(t, a.tm(), "GET", "/v1/watch/ttl", nil)
		watched <- body
	}()
	time.Sleep(100 * time.Millisecond)
	st, body = v1Call(t, c.tm(), "POST", "/v1/keys/ttl", v1Form("value", "v", "ttl", "2"))
	if st != 200 {
		t.Fatalf("set with ttl on a member: %d %s", st, body)
	}
	_, setIdx := v1Obj(t, body)
	expired := make(chan string, 1)
	go func() {
		_, body := v1Call(t, b.tm(), "POST", "/v1/watch/ttl", v1Form("index", fmt.Sprint(setIdx+1)))
		expired <- body
	}()
	select {
	case w := <-watched:
		o, _ := v1Obj(t, w)
		if o["action"] != "SET" || o["value"] != "v" || o["ttl"] == nil || o["expiration"] == nil {
			t.Fatalf("watch of the TTL set on another member: %s", w)
		}
	case <-time.After(callTimeout):
		t.Fatal("a watcher on one member did not see a set made through another")
	}
	st, body = v1Call(t, b.tm(), "GET", "/v1/keys/ttl", nil)
	if st == 200 {
		o, _ := v1Obj(t, body)
		checkTTL(t, o, 2)
	}
	// From history on yet another member, at once.
	st, body = v1Call(t, a.tm(), "POST", "/v1/watch/ttl", v1Form("index", fmt.Sprint(setIdx)))
	if o, i := v1Obj(t, body); st != 200 || i != setIdx || o["action"] != "SET" || o["key"] != "/ttl" || o["newKey"] != true {
		t.Fatalf("watch from index %d: %d %s", setIdx, st, body)
	}
	select {
	case w := <-expired:
		wantV1(t, 200, w, 200, `{"action":"DELETE","key":"/ttl","prevValue":"v","index":1}`)
	case <-time.After(callTimeout):
		t.Fatal("a watcher on another member did not see the TTL key expire")
	}
	v1WaitGone(t, c.tm(), "/v1/keys/ttl")

	// A v3 write through one member wakes a v1 watch on another.
	got := make(chan string, 1)
	go func() {
		_, body := v1Call(t, c.tm(), "GET", "/v1/watch/v3", nil)
		got <- body
	}()
	time.Sleep(100 * time.Millisecond)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{a.clientURL}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	pr, err := cli.Put(a.tm().ctx(), "/v3/k", "from v3")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case w := <-got:
		if i := wantV1(t, 200, w, 200, `{"action":"SET","key":"/v3/k","value":"from v3","newKey":true,"index":1}`); i != pr.Header.Revision {
			t.Errorf("watch index %d, want the v3 revision %d", i, pr.Header.Revision)
		}
	case <-time.After(callTimeout):
		t.Fatal("a v1 watch did not see a v3 write made through another member")
	}

	// One member down: the others still serve reads and writes.
	c.stop()
	st, body = v1Call(t, a.tm(), "POST", "/v1/keys/while-down", v1Form("value", "1"))
	if st != 200 {
		t.Fatalf("write with one member down: %d %s", st, body)
	}
	waitV1(t, b, "/v1/keys/while-down", 200, `"value":"1"`)

	// Restarted with the same -d (and -C, now ignored), it comes back with
	// its identity and its data, and catches up.
	idBefore := memberID(t, a, c.peerURL)
	c.start()
	waitV1(t, c, "/v1/keys/while-down", 200, `"value":"1"`)
	waitV1(t, c, "/v1/keys/foo", 200, `"value":"baz"`)
	if idAfter := memberID(t, a, c.peerURL); idAfter != idBefore || len(a.members()) != 3 {
		t.Errorf("restarted member: ID %x, was %x; %d members", idAfter, idBefore, len(a.members()))
	}
	if !strings.Contains(c.tm().log(), "restarting local member") {
		t.Error("the restarted member did not restart from its WAL")
	}
}

// memberID is the ID of the member with peer URL u, as m lists it.
func memberID(t *testing.T, m *legacyMember, u string) uint64 {
	t.Helper()
	for _, x := range m.members() {
		if slices.Contains(x.PeerURLs, u) {
			return x.ID
		}
	}
	t.Fatalf("no member with peer URL %s", u)
	return 0
}

// TestV1ForceNewMember checks -f: a member restarted with -f over its old
// data dir is discarded and joins again as a new member (new ID), replacing
// its old self in the member list; the cluster's data reaches it.
func TestV1ForceNewMember(t *testing.T) {
	ms := startSeedCluster(t)
	a, c := ms[0], ms[2]
	st, body := v1Call(t, a.tm(), "POST", "/v1/keys/kept", v1Form("value", "yes"))
	if st != 200 {
		t.Fatalf("%d %s", st, body)
	}
	old := memberID(t, a, c.peerURL)
	c.stop()
	c.args = append(c.args, "-f")
	c.start()
	waitV1(t, c, "/v1/keys/kept", 200, `"value":"yes"`)
	mems := a.members()
	if id := memberID(t, a, c.peerURL); id == old || len(mems) != 3 {
		t.Fatalf("after -f: member ID %x (old %x), %d members", id, old, len(mems))
	}
	st, body = v1Call(t, c.tm(), "POST", "/v1/keys/after", v1Form("value", "f"))
	if st != 200 {
		t.Fatalf("write through the new member: %d %s", st, body)
	}
	waitV1(t, a, "/v1/keys/after", 200, `"value":"f"`)
}

// TestPeerJoinEndpoint checks POST /join on a peer URL directly: a repeated
// request for the same peer URLs (a lost answer) gets the same member, a
// started member's peer URLs are refused (409), bad requests 400 and other
// methods 405.
func TestPeerJoinEndpoint(t *testing.T) {
	a := newLegacyMember(t, "")
	a.start()
	post := func(body string) (int, string) {
		resp, err := http.Post(a.peerURL+"/join", "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	ghost := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	req := fmt.Sprintf(`{"name":"ghost","peerURLs":[%q]}`, ghost)
	var first struct {
		MemberID, ClusterID string
		Members             []json.RawMessage
	}
	st, body := post(req)
	if st != 200 || json.Unmarshal([]byte(body), &first) != nil || first.MemberID == "" || first.ClusterID == "" || len(first.Members) != 2 {
		t.Fatalf("join: %d %s", st, body)
	}
	if !strings.Contains(body, ghost) || !strings.Contains(body, a.peerURL) {
		t.Errorf("join answer does not list both members: %s", body)
	}
	// The ghost never starts, so the cluster of two has no quorum now; the
	// answers below need none.
	st, body = post(req)
	if st != 200 || !strings.Contains(body, `"memberID":"`+first.MemberID+`"`) {
		t.Errorf("repeated join: %d %s, want member %s again", st, body, first.MemberID)
	}
	if st, body := post(fmt.Sprintf(`{"peerURLs":[%q]}`, a.peerURL)); st != 409 {
		t.Errorf("join with a started member's peer URL: %d %s, want 409", st, body)
	}
	for _, bad := range []string{`{"peerURLs":["not a url"]}`, `{"peerURLs":[]}`, `not json`} {
		if st, body := post(bad); st != 400 {
			t.Errorf("join %s: %d %s, want 400", bad, st, body)
		}
	}
	resp, err := http.Get(a.peerURL + "/join")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET /join: %d, want 405", resp.StatusCode)
	}
}
