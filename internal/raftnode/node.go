package raftnode

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdgo/etcd/internal/failpoint"
)

// Config is what a Node needs.
type Config struct {
	Logger *slog.Logger
	// Node is the started (or restarted) raft node.
	Node raft.Node
	// RaftStorage is the in-memory raft log that Node reads; the loop appends
	// to it after every write.
	RaftStorage *raft.MemoryStorage
	// Storage makes entries, hard state and snapshots durable.
	Storage Storage
	// Transport sends messages to other members; nil for a lone member.
	Transport Transport
	// TickInterval is the heartbeat interval.
	TickInterval time.Duration
	// ID is this member's raft ID.
	ID uint64
}

// Node runs the Ready loop.
type Node struct {
	raft.Node
	id        uint64
	lg        *slog.Logger
	storage   *raft.MemoryStorage
	disk      Storage
	transport Transport
	tick      time.Duration

	applyc     chan Apply
	readStatec chan raft.ReadState

	lead  atomic.Uint64
	term  atomic.Uint64
	index atomic.Uint64 // commit index of the last HardState
	// advanced is the last committed entry index passed to Advance.
	advanced atomic.Uint64
	// leaderChanges counts the times a new leader became known.
	leaderChanges atomic.Uint64

	leaderChanged chan struct{}
	mu            sync.Mutex // guards leaderChanged replacement

	stop    chan struct{}
	done    chan struct{}
	errc    chan error
	stopped sync.Once
}

// New returns a Node; call Start to run its loop.
func New(cfg Config) *Node {
	return &Node{
		Node:          cfg.Node,
		id:            cfg.ID,
		lg:            cfg.Logger,
		storage:       cfg.RaftStorage,
		disk:          cfg.Storage,
		transport:     cfg.Transport,
		tick:          cfg.TickInterval,
		applyc:        make(chan Apply),
		readStatec:    make(chan raft.ReadState, 1),
		leaderChanged: make(chan struct{}),
		stop:          make(chan struct{}),
		done:          make(chan struct{}),
		errc:          make(chan error, 1),
	}
}

// Apply returns the channel of committed work, in log order.
func (n *Node) Apply() <-chan Apply { return n.applyc }

// ReadStates returns the channel of answers to ReadIndex requests. It holds at
// most one pending answer: a newer one replaces an unread older one, since
// readers only need the latest index.
func (n *Node) ReadStates() <-chan raft.ReadState { return n.readStatec }

// Leader returns the current leader's ID, 0 when none is known.
func (n *Node) Leader() uint64 { return n.lead.Load() }

// Term returns the current raft term.
func (n *Node) Term() uint64 { return n.term.Load() }

// CommittedIndex returns the commit index of the last hard state.
func (n *Node) CommittedIndex() uint64 { return n.index.Load() }

// AdvancedIndex returns the index of the last committed entry raft was told
// is applied (by Advance). Raft accepts a new conf change proposal only once
// the previous one is past this index.
func (n *Node) AdvancedIndex() uint64 { return n.advanced.Load() }

// LeaderChanges returns how many times a new leader became known (etcd's
// etcd_server_leader_changes_seen_total).
func (n *Node) LeaderChanges() uint64 { return n.leaderChanges.Load() }

// LeaderChanged returns a channel closed at the next change of leader.
func (n *Node) LeaderChanged() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leaderChanged
}

// Done is closed when the loop has ended.
func (n *Node) Done() <-chan struct{} { return n.done }

// Err returns the error that stopped the loop, if one did (for example a
// failed WAL write, after which the member must not go on).
func (n *Node) Err() <-chan error { return n.errc }

// Start runs the Ready loop in its own goroutine until Stop.
func (n *Node) Start() {
	go n.run()
}

// Stop ends the loop and stops raft. It does not close the Storage: the
// apply path may still write a snapshot through it until it has stopped, so
// its owner closes it after that. It is safe to call more than once.
func (n *Node) Stop() {
	n.stopped.Do(func() { close(n.stop) })
	<-n.done
}

func (n *Node) run() {
	defer close(n.done)
	defer n.Node.Stop()
	ticker := time.NewTicker(n.tick)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			n.Tick()
		case rd := <-n.Ready():
			if err := n.handle(rd); err != nil {
				n.lg.Error("raft loop stopped", "error", err)
				n.errc <- err
				return
			}
		case <-n.stop:
			return
		}
	}
}

// handle processes one Ready; see the package documentation for the order.
func (n *Node) handle(rd raft.Ready) error {
	if rd.SoftState != nil {
		n.updateSoftState(rd.SoftState)
	}
	if hs := rd.HardState; hs != nil && !raft.IsEmptyHardState(hs) {
		n.term.Store(hs.GetTerm())
		n.index.Store(hs.GetCommit())
	}
	for _, rs := range rd.ReadStates {
		n.publishReadState(rs)
	}

	persisted := make(chan struct{})
	if len(rd.CommittedEntries) > 0 || !raft.IsEmptySnap(rd.Snapshot) {
		ap := Apply{Entries: rd.CommittedEntries, Snapshot: rd.Snapshot, Persisted: persisted}
		select {
		case n.applyc <- ap:
		case <-n.stop:
			return nil
		}
	}

	isLeader := n.lead.Load() == n.ID()
	if isLeader {
		n.send(rd.Messages)
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		failpoint.Hit("raftBeforeSaveSnap")
		if err := n.disk.SaveSnap(rd.Snapshot); err != nil {
			return fmt.Errorf("save snapshot: %w", err)
		}
		failpoint.Hit("raftAfterSaveSnap")
	}
	failpoint.Hit("raftBeforeSave")
	if err := n.disk.Save(rd.HardState, rd.Entries); err != nil {
		return fmt.Errorf("save to wal: %w", err)
	}
	failpoint.Hit("raftAfterSave")
	if !raft.IsEmptySnap(rd.Snapshot) {
		failpoint.Hit("raftBeforeApplySnap")
		if err := n.storage.ApplySnapshot(rd.Snapshot); err != nil {
			return fmt.Errorf("apply snapshot to raft log: %w", err)
		}
		failpoint.Hit("raftAfterApplySnap")
		if err := n.disk.Release(rd.Snapshot); err != nil {
			return fmt.Errorf("release wal: %w", err)
		}
	}
	if hs := rd.HardState; hs != nil && !raft.IsEmptyHardState(hs) {
		if err := n.storage.SetHardState(hs); err != nil {
			return fmt.Errorf("set hard state: %w", err)
		}
	}
	if err := n.storage.Append(rd.Entries); err != nil {
		return fmt.Errorf("append to raft log: %w", err)
	}
	close(persisted)
	if !isLeader {
		n.send(rd.Messages)
	}
	n.Advance()
	if k := len(rd.CommittedEntries); k > 0 {
		n.advanced.Store(rd.CommittedEntries[k-1].GetIndex())
	}
	return nil
}

func (n *Node) updateSoftState(ss *raft.SoftState) {
	old := n.lead.Swap(ss.Lead)
	if old == ss.Lead {
		return
	}
	if ss.Lead != raft.None {
		n.leaderChanges.Add(1)
	}
	n.lg.Info("leader changed", "local-member-id", fmt.Sprintf("%x", n.ID()),
		"old-leader", fmt.Sprintf("%x", old), "new-leader", fmt.Sprintf("%x", ss.Lead))
	n.mu.Lock()
	close(n.leaderChanged)
	n.leaderChanged = make(chan struct{})
	n.mu.Unlock()
}

func (n *Node) publishReadState(rs raft.ReadState) {
	for {
		select {
		case n.readStatec <- rs:
			return
		default:
		}
		// Drop the stale, unread answer and publish the newer one.
		select {
		case <-n.readStatec:
		default:
		}
	}
}

func (n *Node) send(msgs []*raftpb.Message) {
	if len(msgs) == 0 || n.transport == nil {
		return
	}
	n.transport.Send(msgs)
}

// ID returns this member's raft ID.
func (n *Node) ID() uint64 { return n.id }
