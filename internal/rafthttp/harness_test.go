package rafthttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// fakeRaft records what the transport delivers and reports.
type fakeRaft struct {
	mu          sync.Mutex
	recv        []*raftpb.Message
	removed     map[uint64]bool
	unreachable map[uint64]int
	snapReports []raft.SnapshotStatus
	block       chan struct{} // when set, Process waits for it to close
	onProcess   func(m *raftpb.Message)
	changed     chan struct{}
}

func newFakeRaft() *fakeRaft {
	return &fakeRaft{removed: map[uint64]bool{}, unreachable: map[uint64]int{}, changed: make(chan struct{})}
}

// notify wakes waiters; callers hold mu.
func (f *fakeRaft) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeRaft) Process(ctx context.Context, m *raftpb.Message) error {
	f.mu.Lock()
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.onProcess != nil {
		f.onProcess(m)
	}
	f.recv = append(f.recv, m)
	f.notify()
	return nil
}

func (f *fakeRaft) IsIDRemoved(id uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.removed[id]
}

func (f *fakeRaft) ReportUnreachable(id uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unreachable[id]++
	f.notify()
}

func (f *fakeRaft) ReportSnapshot(id uint64, status raft.SnapshotStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snapReports = append(f.snapReports, status)
	f.notify()
}

// waitFor waits until cond (called with mu held) holds.
func (f *fakeRaft) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		f.mu.Lock()
		ok := cond()
		ch := f.changed
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (f *fakeRaft) received(from uint64) []*raftpb.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*raftpb.Message
	for _, m := range f.recv {
		if m.GetFrom() == from {
			out = append(out, m)
		}
	}
	return out
}

// memSnaps is an in-memory SnapshotStore.
type memSnaps struct {
	mu  sync.Mutex
	dbs map[uint64][]byte
}

func newMemSnaps() *memSnaps { return &memSnaps{dbs: map[uint64][]byte{}} }

func (s *memSnaps) Open(index uint64) (io.ReadCloser, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.dbs[index]
	if !ok {
		return nil, 0, fmt.Errorf("no db for index %d", index)
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
}

func (s *memSnaps) Save(index uint64, r io.Reader) (string, error) {
	b, err := io.ReadAll(r) // keeps nothing when the reader fails
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dbs[index] = b
	return fmt.Sprintf("mem:%016x.snap.db", index), nil
}

func (s *memSnaps) get(index uint64) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.dbs[index]
	return b, ok
}

// logBuf is a goroutine-safe log sink.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// member is one transport served on a real 127.0.0.1 listener.
type member struct {
	id, cid uint64
	addr    string
	raft    *fakeRaft
	snaps   *memSnaps
	tr      *Transport
	srv     *http.Server
	log     *logBuf
	removed chan struct{}
	done    chan struct{}
}

func (m *member) url() string { return "http://" + m.addr }

type memberOpt func(*Config)

// startMember serves a transport on addr ("127.0.0.1:0" for a new port).
func startMember(t *testing.T, id, cid uint64, addr string, opts ...memberOpt) *member {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; ; i++ { // a restarted member may have to wait for its port
		ln, err = net.Listen("tcp", addr)
		if err == nil || i == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	m := &member{id: id, cid: cid, addr: ln.Addr().String(), raft: newFakeRaft(), snaps: newMemSnaps(),
		log: &logBuf{}, removed: make(chan struct{}), done: make(chan struct{})}
	var once sync.Once
	cfg := Config{
		Logger:      slog.New(slog.NewTextHandler(m.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ID:          id,
		ClusterID:   cid,
		URLs:        []string{m.url()},
		Raft:        m.raft,
		Snapshots:   m.snaps,
		ReadTimeout: 2 * time.Second,
		OnRemoved:   func() { once.Do(func() { close(m.removed) }) },
	}
	for _, o := range opts {
		o(&cfg)
	}
	m.tr = New(cfg)
	m.srv = &http.Server{Handler: m.tr.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(m.done)
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(m.stop)
	return m
}

// stop stops the transport, then the server.
func (m *member) stop() {
	m.tr.Stop()
	_ = m.srv.Close()
	<-m.done
}

// connect makes every member a peer of every other.
func connect(ms ...*member) {
	for _, a := range ms {
		for _, b := range ms {
			if a != b {
				a.tr.AddPeer(b.id, []string{b.url()})
			}
		}
	}
}

// waitStreams waits until every member has a stream writer attached by every
// other member, so that messages travel on streams, in order.
func waitStreams(t *testing.T, ms ...*member) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, a := range ms {
		for _, b := range ms {
			if a == b {
				continue
			}
			for {
				p := a.tr.peer(b.id)
				if p != nil && p.stream.Load() {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no stream from %x to %x", a.id, b.id)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
}

func msgApp(from, to, index uint64, data []byte) *raftpb.Message {
	return &raftpb.Message{
		Type:    raftpb.MessageType_MsgApp.Enum(),
		From:    &from,
		To:      &to,
		Term:    new(uint64(1)),
		Index:   &index,
		Entries: []*raftpb.Entry{{Term: new(uint64(1)), Index: new(index + 1), Data: data}},
	}
}
