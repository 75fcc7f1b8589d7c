package rafthttp

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

func msgSnap(from, to, index uint64) *raftpb.Message {
	return &raftpb.Message{
		Type: raftpb.MessageType_MsgSnap.Enum(),
		From: &from,
		To:   &to,
		Term: new(uint64(2)),
		Snapshot: &raftpb.Snapshot{
			Data: []byte(`{"v2store":"json"}`),
			Metadata: &raftpb.SnapshotMetadata{
				Index:     &index,
				Term:      new(uint64(2)),
				ConfState: &raftpb.ConfState{Voters: []uint64{1, 2}},
			},
		},
	}
}

func TestSnapshotStreamedAndVerified(t *testing.T) {
	a := startMember(t, 1, 6, "127.0.0.1:0")
	b := startMember(t, 2, 6, "127.0.0.1:0")
	connect(a, b)
	db := make([]byte, 5<<20)
	if _, err := rand.Read(db); err != nil {
		t.Fatal(err)
	}
	a.snaps.dbs[42] = db
	savedFirst := make(chan bool, 1)
	b.raft.onProcess = func(m *raftpb.Message) {
		if m.GetType() == raftpb.MessageType_MsgSnap {
			_, ok := b.snaps.get(42)
			savedFirst <- ok
		}
	}

	a.tr.Send([]*raftpb.Message{msgSnap(1, 2, 42)})
	a.raft.waitFor(t, "snapshot report", func() bool { return len(a.raft.snapReports) > 0 })
	if got := a.raft.snapReports; len(got) != 1 || got[0] != raft.SnapshotFinish {
		t.Fatalf("snapshot reports %v", got)
	}
	if !<-savedFirst {
		t.Fatal("MsgSnap delivered before its db was saved")
	}
	got, _ := b.snaps.get(42)
	if !bytes.Equal(got, db) {
		t.Fatalf("saved db differs (%d bytes, want %d)", len(got), len(db))
	}
	var snap *raftpb.Message
	for _, m := range b.raft.received(1) {
		if m.GetType() == raftpb.MessageType_MsgSnap {
			snap = m
		}
	}
	if snap == nil || string(snap.GetSnapshot().GetData()) != `{"v2store":"json"}` || snap.GetSnapshot().GetMetadata().GetIndex() != 42 {
		t.Fatalf("delivered MsgSnap %v", snap)
	}
	if !strings.Contains(b.log.String(), "checksum-verified=true") {
		t.Fatal("receiver did not verify the checksum")
	}
}

// corruptingProxy forwards TCP to target and, in the client-to-server
// direction, turns the first 'Z' after 1 MiB of a connection into 'Y'.
func corruptingProxy(t *testing.T, target string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			wg.Go(func() {
				defer s.Close()
				buf := make([]byte, 32*1024)
				var off int64
				flipped := false
				for {
					n, err := c.Read(buf)
					if !flipped {
						for i := 0; i < n; i++ {
							if off+int64(i) >= 1<<20 && buf[i] == 'Z' {
								buf[i] = 'Y'
								flipped = true
								break
							}
						}
					}
					off += int64(n)
					if _, werr := s.Write(buf[:n]); werr != nil || err != nil {
						return
					}
				}
			})
			wg.Go(func() {
				defer c.Close()
				_, _ = io.Copy(c, s)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

func TestCorruptedSnapshotRejected(t *testing.T) {
	a := startMember(t, 1, 6, "127.0.0.1:0")
	b := startMember(t, 2, 6, "127.0.0.1:0")
	b.tr.AddPeer(1, []string{a.url()})
	a.tr.AddPeer(2, []string{corruptingProxy(t, b.addr)})
	a.snaps.dbs[42] = bytes.Repeat([]byte("Z"), 5<<20)

	a.tr.Send([]*raftpb.Message{msgSnap(1, 2, 42)})
	a.raft.waitFor(t, "snapshot report", func() bool { return len(a.raft.snapReports) > 0 })
	if got := a.raft.snapReports; len(got) != 1 || got[0] != raft.SnapshotFailure {
		t.Fatalf("snapshot reports %v", got)
	}
	if a.raft.unreachable[2] == 0 {
		t.Fatal("failed snapshot not reported unreachable")
	}
	if _, ok := b.snaps.get(42); ok {
		t.Fatal("corrupted db was kept")
	}
	for _, m := range b.raft.received(1) {
		if m.GetType() == raftpb.MessageType_MsgSnap {
			t.Fatal("corrupted snapshot delivered")
		}
	}
	if !strings.Contains(b.log.String(), ErrChecksumMismatch.Error()) {
		t.Fatalf("receiver did not log the mismatch:\n%s", b.log.String())
	}
}

// TestSnapshotTrailer checks the receiver directly: a declared checksum that
// does not match is refused, none at all (as etcd sends) is accepted.
func TestSnapshotTrailer(t *testing.T) {
	b := startMember(t, 2, 6, "127.0.0.1:0")
	db := bytes.Repeat([]byte("db"), 100000)
	good := sha256.Sum256(db)
	for _, tc := range []struct {
		name    string
		trailer http.Header
		index   uint64
		want    int
	}{
		{"matching", http.Header{trailerSnapSHA256: {hex.EncodeToString(good[:])}}, 1, http.StatusNoContent},
		{"mismatching", http.Header{trailerSnapSHA256: {strings.Repeat("0", 64)}}, 2, http.StatusBadRequest},
		{"empty", http.Header{trailerSnapSHA256: {""}}, 3, http.StatusBadRequest},
		{"absent", nil, 4, http.StatusNoContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head, err := appendFrame(nil, msgSnap(1, 2, tc.index))
			if err != nil {
				t.Fatal(err)
			}
			body := io.MultiReader(bytes.NewReader(head), bytes.NewReader(db))
			req, _ := http.NewRequest(http.MethodPost, b.url()+pathSnapshot, io.NopCloser(body))
			req.ContentLength = -1
			if tc.trailer != nil {
				req.Trailer = http.Header{trailerSnapSHA256: nil}
			}
			req.Header.Set(hdrClusterID, "6")
			req.Header.Set(hdrFrom, "1")
			// The trailer values are set once the body is read.
			req.Body = io.NopCloser(&eofHook{r: body, f: func() {
				for k, v := range tc.trailer {
					req.Trailer[k] = v
				}
			}})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("got %s, want %d", resp.Status, tc.want)
			}
			_, saved := b.snaps.get(tc.index)
			if saved != (tc.want == http.StatusNoContent) {
				t.Fatalf("saved=%v", saved)
			}
		})
	}
}

type eofHook struct {
	r    io.Reader
	f    func()
	done bool
}

func (h *eofHook) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if err == io.EOF && !h.done {
		h.done = true
		h.f()
	}
	return n, err
}

func TestStalledSnapshotFails(t *testing.T) {
	a := startMember(t, 1, 6, "127.0.0.1:0", func(c *Config) { c.SnapshotStallTimeout = 300 * time.Millisecond })
	a.tr.AddPeer(2, []string{blackhole(t)})
	a.snaps.dbs[42] = bytes.Repeat([]byte("s"), 1<<20)
	a.tr.Send([]*raftpb.Message{msgSnap(1, 2, 42)})
	a.raft.waitFor(t, "snapshot report", func() bool { return len(a.raft.snapReports) > 0 })
	if got := a.raft.snapReports; got[0] != raft.SnapshotFailure {
		t.Fatalf("snapshot reports %v", got)
	}
	if !strings.Contains(a.log.String(), "no progress") {
		t.Fatalf("no stall in the log:\n%s", a.log.String())
	}
}
