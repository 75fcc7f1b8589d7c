// Package raftnode runs the Ready loop of one member: it drives a go.etcd.io/raft
// node, makes what raft hands out durable, sends messages and passes committed
// entries to the apply path.
//
// The contract with raft, step by step for each Ready:
//
//  1. SoftState and ReadStates are published at once (leader, term, read indexes).
//  2. Committed entries and the snapshot go to the apply path as one Apply. raft
//     hands out only entries already on stable storage, so applying them while
//     this Ready's new entries are still being written is safe.
//  3. A leader sends its messages before writing (it may write in parallel with
//     its followers); a follower sends them after.
//  4. The snapshot (if any) is saved, then HardState and Entries go to the WAL with
//     one fsync for the batch when raft says MustSync; nothing is acknowledged to
//     anyone before that.
//  5. The in-memory raft log learns the snapshot and the entries, Apply.Persisted
//     is closed, and the node Advances.
package raftnode

import (
	"go.etcd.io/raft/v3/raftpb"
)

// Storage is where the Ready loop makes raft's state durable: the WAL and the
// snapshot files of the member.
type Storage interface {
	// Save appends the entries and the hard state to the log and syncs it when
	// raft requires durability.
	Save(st *raftpb.HardState, ents []*raftpb.Entry) error
	// SaveSnap writes the snapshot file, then its marker in the log.
	SaveSnap(snap *raftpb.Snapshot) error
	// Release tells the log that nothing before the snapshot is needed anymore.
	Release(snap *raftpb.Snapshot) error
}

// Transport carries raft messages to the other members. A single member
// has nobody to talk to; clusters plug the peer transport in here.
type Transport interface {
	// Send queues the messages; it never blocks on a slow or dead peer.
	Send(msgs []*raftpb.Message)
}

// Apply is one batch of work for the apply path.
type Apply struct {
	// Entries are committed and durable; apply them in order.
	Entries []*raftpb.Entry
	// Snapshot, when not empty, replaces the state machine before Entries.
	Snapshot *raftpb.Snapshot
	// Persisted is closed once this Ready's own writes (entries, hard state,
	// snapshot) are on disk. The apply path waits for it before it takes a
	// snapshot of its own, so that no snapshot runs ahead of the log.
	Persisted <-chan struct{}
}
