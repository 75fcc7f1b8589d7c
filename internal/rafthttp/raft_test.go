package rafthttp

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// raftMember drives one raft.Node: a tick loop and a Ready loop that appends
// to memory storage, sends through the transport and applies committed
// entries.
type raftMember struct {
	id      uint64
	node    raft.Node
	storage *raft.MemoryStorage
	m       *member

	mu      sync.Mutex
	applied []string
	stop    chan struct{}
	done    chan struct{}
}

// raftAdapter is the Raft the transport delivers to.
type raftAdapter struct{ r *raftMember }

func (a raftAdapter) Process(ctx context.Context, m *raftpb.Message) error {
	return a.r.node.Step(ctx, m)
}
func (a raftAdapter) IsIDRemoved(uint64) bool     { return false }
func (a raftAdapter) ReportUnreachable(id uint64) { a.r.node.ReportUnreachable(id) }
func (a raftAdapter) ReportSnapshot(id uint64, s raft.SnapshotStatus) {
	a.r.node.ReportSnapshot(id, s)
}

func (r *raftMember) run(t *testing.T) {
	defer close(r.done)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			r.node.Tick()
		case rd := <-r.node.Ready():
			if !raft.IsEmptyHardState(rd.HardState) {
				if err := r.storage.SetHardState(rd.HardState); err != nil {
					t.Error(err)
				}
			}
			if err := r.storage.Append(rd.Entries); err != nil {
				t.Error(err)
			}
			r.m.tr.Send(rd.Messages)
			for _, e := range rd.CommittedEntries {
				switch e.GetType() {
				case raftpb.EntryType_EntryNormal:
					if len(e.GetData()) > 0 {
						r.mu.Lock()
						r.applied = append(r.applied, string(e.GetData()))
						r.mu.Unlock()
					}
				case raftpb.EntryType_EntryConfChange:
					cc := &raftpb.ConfChange{}
					if err := proto.Unmarshal(e.GetData(), cc); err != nil {
						t.Error(err)
					}
					r.node.ApplyConfChange(cc)
				}
			}
			r.node.Advance()
		case <-r.stop:
			return
		}
	}
}

func (r *raftMember) appliedCopy() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.applied...)
}

func TestRaftClusterOverTransports(t *testing.T) {
	peers := []raft.Peer{{ID: 1}, {ID: 2}, {ID: 3}}
	var rs []*raftMember
	var ms []*member
	for _, p := range peers {
		r := &raftMember{id: p.ID, storage: raft.NewMemoryStorage(), stop: make(chan struct{}), done: make(chan struct{})}
		r.node = raft.StartNode(&raft.Config{
			ID:              p.ID,
			ElectionTick:    10,
			HeartbeatTick:   1,
			Storage:         r.storage,
			MaxSizePerMsg:   1 << 20,
			MaxInflightMsgs: 256,
			CheckQuorum:     true,
			PreVote:         true,
		}, peers)
		r.m = startMember(t, p.ID, 77, "127.0.0.1:0", func(c *Config) { c.Raft = raftAdapter{r} })
		rs = append(rs, r)
		ms = append(ms, r.m)
	}
	connect(ms...)
	for _, r := range rs {
		go r.run(t)
	}
	t.Cleanup(func() {
		for _, r := range rs {
			close(r.stop)
			<-r.done
			r.node.Stop()
		}
	})

	// Wait for a leader all agree on.
	var lead uint64
	deadline := time.Now().Add(30 * time.Second)
	for lead == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no leader elected")
		}
		l := rs[0].node.Status().Lead
		if l != 0 && rs[1].node.Status().Lead == l && rs[2].node.Status().Lead == l {
			lead = l
		}
		time.Sleep(10 * time.Millisecond)
	}

	const n = 20
	var want []string
	for i := range n {
		v := fmt.Sprintf("put-%d", i)
		want = append(want, v)
		// Proposals on followers are forwarded to the leader by the transport.
		r := rs[i%3]
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := r.node.Propose(ctx, []byte(v)); err != nil {
			cancel()
			t.Fatalf("propose %s on %d: %v", v, r.id, err)
		}
		cancel()
		// Wait for it, so that the order of proposals is the order of the log.
		waitApplied(t, rs, want)
	}
	for _, r := range rs {
		if got := r.appliedCopy(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("member %d applied %v, want %v", r.id, got, want)
		}
	}
}

func waitApplied(t *testing.T, rs []*raftMember, want []string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, r := range rs {
		for len(r.appliedCopy()) < len(want) {
			if time.Now().After(deadline) {
				t.Fatalf("member %d applied %v, want %v", r.id, r.appliedCopy(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
