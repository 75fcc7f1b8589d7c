package rafthttp

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/version"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// checkInOrder checks that from sent n messages with indexes 0..n-1 to r,
// all arrived, in order.
func checkInOrder(t *testing.T, r *fakeRaft, from uint64, n int) {
	t.Helper()
	r.waitFor(t, fmt.Sprintf("%d messages from %x", n, from), func() bool {
		c := 0
		for _, m := range r.recv {
			if m.GetFrom() == from {
				c++
			}
		}
		return c >= n
	})
	got := r.received(from)
	if len(got) != n {
		t.Fatalf("got %d messages from %x, want %d", len(got), from, n)
	}
	for i, m := range got {
		if m.GetIndex() != uint64(i) || m.GetType() != raftpb.MessageType_MsgApp {
			t.Fatalf("message %d from %x: got %v index %d", i, from, m.GetType(), m.GetIndex())
		}
	}
}

func TestTwoMembersDeliverInOrder(t *testing.T) {
	a := startMember(t, 1, 100, "127.0.0.1:0")
	b := startMember(t, 2, 100, "127.0.0.1:0")
	connect(a, b)
	waitStreams(t, a, b)
	const n = 3000
	data := bytes.Repeat([]byte("x"), 100)
	for i := range n {
		a.tr.Send([]*raftpb.Message{msgApp(1, 2, uint64(i), data)})
		b.tr.Send([]*raftpb.Message{msgApp(2, 1, uint64(i), data)})
	}
	checkInOrder(t, b.raft, 1, n)
	checkInOrder(t, a.raft, 2, n)
	if got := b.raft.received(1)[5].GetEntries()[0].GetData(); !bytes.Equal(got, data) {
		t.Fatalf("entry data %q", got)
	}
	if a.tr.ActiveSince(2).IsZero() || b.tr.ActiveSince(1).IsZero() {
		t.Fatal("peers with streams up are not active")
	}
}

func TestThreeMembersDeliverInOrder(t *testing.T) {
	ms := []*member{
		startMember(t, 1, 7, "127.0.0.1:0"),
		startMember(t, 2, 7, "127.0.0.1:0"),
		startMember(t, 3, 7, "127.0.0.1:0"),
	}
	connect(ms...)
	waitStreams(t, ms...)
	const n = 1000
	var wg sync.WaitGroup
	for _, a := range ms {
		wg.Go(func() {
			for i := range n {
				var batch []*raftpb.Message
				for _, b := range ms {
					if b != a {
						batch = append(batch, msgApp(a.id, b.id, uint64(i), []byte("v")))
					}
				}
				a.tr.Send(batch)
			}
		})
	}
	wg.Wait()
	for _, a := range ms {
		for _, b := range ms {
			if a != b {
				checkInOrder(t, b.raft, a.id, n)
			}
		}
	}
}

// blackhole accepts connections and never answers.
func blackhole(t *testing.T) string {
	u, stop := blackholeStop(t)
	t.Cleanup(stop)
	return u
}

func blackholeStop(t *testing.T) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	var once sync.Once
	return "http://" + ln.Addr().String(), func() {
		once.Do(func() {
			ln.Close()
			<-done
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				c.Close()
			}
		})
	}
}

func TestDeadPeerDoesNotBlockLivePeer(t *testing.T) {
	a := startMember(t, 1, 9, "127.0.0.1:0")
	b := startMember(t, 2, 9, "127.0.0.1:0")
	connect(a, b)
	a.tr.AddPeer(3, []string{blackhole(t)})         // accepts, never answers
	a.tr.AddPeer(4, []string{"http://127.0.0.1:1"}) // refuses
	waitStreams(t, a, b)

	const n = 2000
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		big := bytes.Repeat([]byte("d"), 4096)
		for i := range n {
			a.tr.Send([]*raftpb.Message{
				msgApp(1, 3, uint64(i), big),
				msgApp(1, 2, uint64(i), nil),
				msgApp(1, 4, uint64(i), big),
			})
		}
	}()
	select {
	case <-sent:
	case <-time.After(60 * time.Second):
		t.Fatal("Send blocked on a dead peer")
	}
	checkInOrder(t, b.raft, 1, n)
	a.raft.waitFor(t, "unreachable reports for dead peers", func() bool {
		return a.raft.unreachable[3] > 0 && a.raft.unreachable[4] > 0
	})
	if !a.tr.ActiveSince(3).IsZero() || !a.tr.ActiveSince(4).IsZero() {
		t.Fatal("dead peers reported active")
	}
}

func TestReconnectAfterReceiverRestarts(t *testing.T) {
	a := startMember(t, 1, 5, "127.0.0.1:0")
	b := startMember(t, 2, 5, "127.0.0.1:0")
	connect(a, b)
	waitStreams(t, a, b)
	a.tr.Send([]*raftpb.Message{msgApp(1, 2, 0, nil)})
	checkInOrder(t, b.raft, 1, 1)

	addr := b.addr
	b.stop()
	a.raft.waitFor(t, "a to notice b is gone", func() bool { return !a.tr.peer(2).stream.Load() })

	b2 := startMember(t, 2, 5, addr)
	b2.tr.AddPeer(1, []string{a.url()})
	waitStreams(t, a, b2)
	for i := range 10 {
		a.tr.Send([]*raftpb.Message{msgApp(1, 2, uint64(i), nil)})
		b2.tr.Send([]*raftpb.Message{msgApp(2, 1, uint64(i), nil)})
	}
	checkInOrder(t, b2.raft, 1, 10)
	checkInOrder(t, a.raft, 2, 10)
}

// rawRequest sends a request to m's handler as peer from would.
func rawRequest(t *testing.T, m *member, method, path string, from, cid uint64, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, m.url()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(hdrFrom, idString(from))
	req.Header.Set(hdrVersion, version.Version)
	req.Header.Set(hdrMinCluster, version.MinClusterVersion)
	req.Header.Set(hdrClusterID, idString(cid))
	req.Header.Set(hdrTo, idString(m.id))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestClusterIDMismatchRefused(t *testing.T) {
	a := startMember(t, 1, 0xaaa, "127.0.0.1:0")
	b := startMember(t, 2, 0xbbb, "127.0.0.1:0")
	connect(a, b)

	// b dials a's stream; a posts to b's pipeline: both refused.
	a.tr.Send([]*raftpb.Message{msgApp(1, 2, 0, nil)})
	a.raft.waitFor(t, "pipeline failure", func() bool { return a.raft.unreachable[2] > 0 })
	for _, m := range []*member{a, b} {
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(m.log.String(), "rejected peer request: cluster ID mismatch") {
			if time.Now().After(deadline) {
				t.Fatalf("member %x logged no cluster ID mismatch:\n%s", m.id, m.log.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !strings.Contains(b.log.String(), "cluster ID mismatch") {
		t.Fatal("dialing side did not log the refusal")
	}
	if n := len(b.raft.received(1)) + len(a.raft.received(2)); n != 0 {
		t.Fatalf("%d messages of another cluster delivered", n)
	}
	if a.tr.peer(2).stream.Load() || b.tr.peer(1).stream.Load() {
		t.Fatal("stream attached across clusters")
	}

	for _, path := range []string{"/raft/stream/message/2", "/raft", "/raft/snapshot"} {
		method := http.MethodPost
		if strings.HasPrefix(path, "/raft/stream") {
			method = http.MethodGet
		}
		code, body := rawRequest(t, a, method, path, 2, 0xbbb, nil)
		if code != http.StatusPreconditionFailed || body != "cluster ID mismatch" {
			t.Fatalf("%s: got %d %q", path, code, body)
		}
	}
}

func TestRemovedMemberRefused(t *testing.T) {
	a := startMember(t, 1, 3, "127.0.0.1:0")
	b := startMember(t, 2, 3, "127.0.0.1:0")
	a.raft.mu.Lock()
	a.raft.removed[2] = true
	a.raft.mu.Unlock()
	b.tr.AddPeer(1, []string{a.url()}) // a no longer dials b

	select {
	case <-b.removed:
	case <-time.After(30 * time.Second):
		t.Fatal("removed member was not told")
	}
	if !strings.Contains(a.log.String(), "rejected stream from removed member") {
		t.Fatalf("no log line for the refusal:\n%s", a.log.String())
	}
	// Without a stream, b's messages go by pipeline and are refused.
	b.tr.Send([]*raftpb.Message{msgApp(2, 1, 0, nil)})
	b.raft.waitFor(t, "pipeline refusal", func() bool { return b.raft.unreachable[1] > 0 })
	if n := len(a.raft.received(2)); n != 0 {
		t.Fatalf("%d messages of a removed member delivered", n)
	}
	if code, body := rawRequest(t, a, http.MethodGet, "/raft/stream/message/2", 2, 3, nil); code != http.StatusGone || body != "removed member" {
		t.Fatalf("stream: got %d %q", code, body)
	}
	if code, _ := rawRequest(t, a, http.MethodPost, "/raft", 2, 3, mustMarshal(t, msgApp(2, 1, 0, nil))); code != http.StatusForbidden {
		t.Fatalf("pipeline: got %d", code)
	}
	// A member that was not removed is served.
	if code, _ := rawRequest(t, a, http.MethodPost, "/raft", 9, 3, mustMarshal(t, msgApp(9, 1, 0, nil))); code != http.StatusNoContent {
		t.Fatalf("pipeline from a live member: got %d", code)
	}
	// A stream from a member a does not know is refused.
	if code, _ := rawRequest(t, a, http.MethodGet, "/raft/stream/message/9", 9, 3, nil); code != http.StatusNotFound {
		t.Fatalf("stream from unknown member: got %d", code)
	}

	// When a still dials b, what b writes on that stream is dropped.
	a.tr.AddPeer(2, []string{b.url()})
	waitAttached(t, b, 1)
	b.tr.Send([]*raftpb.Message{msgApp(2, 1, 0, nil)})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(a.log.String(), "dropped raft message from removed member") {
		if time.Now().After(deadline) {
			t.Fatal("stream message of a removed member not dropped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(a.raft.received(2)); n != 0 {
		t.Fatalf("%d messages of a removed member delivered", n)
	}
}

func mustMarshal(t *testing.T, m *raftpb.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStreamQueueOverflowDropsAndReportsUnreachable(t *testing.T) {
	a := startMember(t, 1, 4, "127.0.0.1:0", func(c *Config) { c.StreamQueueSize = 8 })
	a.tr.AddPeer(2, []string{blackhole(t)})
	// "Member 2" attaches a stream to a and never reads from it.
	req, _ := http.NewRequest(http.MethodGet, a.url()+"/raft/stream/message/2", nil)
	req.Header.Set(hdrFrom, "2")
	req.Header.Set(hdrClusterID, "4")
	req.Header.Set(hdrTo, "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %s", resp.Status)
	}
	waitAttached(t, a, 2)

	big := bytes.Repeat([]byte("q"), 256*1024)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := range 400 { // 100 MiB, far beyond socket buffers
			a.tr.Send([]*raftpb.Message{msgApp(1, 2, uint64(i), big)})
		}
	}()
	select {
	case <-sent:
	case <-time.After(60 * time.Second):
		t.Fatal("Send blocked on a full queue")
	}
	a.raft.waitFor(t, "unreachable report", func() bool { return a.raft.unreachable[2] > 0 })
	if !strings.Contains(a.log.String(), "queue to peer is full") {
		t.Fatal("no log line for the drop")
	}
}

func TestPipelineQueueOverflowDropsAndReportsUnreachable(t *testing.T) {
	a := startMember(t, 1, 4, "127.0.0.1:0", func(c *Config) { c.PipelineQueueSize = 1 })
	a.tr.AddPeer(2, []string{blackhole(t)})
	for i := range 100 {
		a.tr.Send([]*raftpb.Message{msgApp(1, 2, uint64(i), nil)})
	}
	// At most pipelineWorkers+1 of them fit; the rest are dropped at once.
	a.raft.waitFor(t, "drops", func() bool { return a.raft.unreachable[2] >= 100-pipelineWorkers-1 })
}

func waitAttached(t *testing.T, m *member, id uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !m.tr.peer(id).stream.Load() {
		if time.Now().After(deadline) {
			t.Fatal("stream not attached")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStopLeavesNoGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		ms := []*member{
			startMember(t, 1, 8, "127.0.0.1:0"),
			startMember(t, 2, 8, "127.0.0.1:0"),
			startMember(t, 3, 8, "127.0.0.1:0"),
		}
		connect(ms...)
		hole, stopHole := blackholeStop(t)
		defer stopHole()
		ms[0].tr.AddPeer(4, []string{hole})
		waitStreams(t, ms...)
		for i := range 100 {
			for _, a := range ms {
				for _, b := range ms {
					if a != b {
						a.tr.Send([]*raftpb.Message{msgApp(a.id, b.id, uint64(i), nil)})
					}
				}
			}
			ms[0].tr.Send([]*raftpb.Message{msgApp(1, 4, uint64(i), nil)})
		}
		checkInOrder(t, ms[1].raft, 1, 100)
		ms[0].tr.RemovePeer(2)
		ms[0].tr.RemovePeer(4)
		for _, m := range ms {
			m.stop()
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left (had %d):\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
