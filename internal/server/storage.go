package server

import (
	"fmt"
	"sync"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdgo/etcd/internal/snap"
	"github.com/etcdgo/etcd/internal/wal"
)

// diskStorage is the raftnode.Storage of a member: its WAL and its snapshot
// files. The Ready loop and the snapshot path both write through it, so it
// serialises them.
type diskStorage struct {
	mu      sync.Mutex
	w       *wal.WAL
	s       *snap.Snapshotter
	walDir  string
	snapDir string
}

// Save appends to the WAL (one sync per call when raft requires it).
func (d *diskStorage) Save(st *raftpb.HardState, ents []*raftpb.Entry) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.w.Save(st, ents)
}

// SaveSnap writes the snapshot file first and its WAL marker second, so that
// a restart only ever picks a snapshot file whose marker is in the WAL.
func (d *diskStorage) SaveSnap(sn *raftpb.Snapshot) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.s.SaveSnap(sn); err != nil {
		return fmt.Errorf("save snapshot file: %w", err)
	}
	md := sn.GetMetadata()
	return d.w.SaveSnapshot(wal.SnapshotMark{Index: md.GetIndex(), Term: md.GetTerm(), ConfState: md.GetConfState()})
}

// Release lets the WAL drop segments older than the snapshot.
func (d *diskStorage) Release(sn *raftpb.Snapshot) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.w.ReleaseLockTo(sn.GetMetadata().GetIndex())
}

// Purge removes snapshot files and WAL segments beyond the limits.
func (d *diskStorage) Purge(maxSnaps, maxWALs int) error {
	if err := snap.Purge(d.snapDir, maxSnaps); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.w.Purge(maxWALs)
}

// Close closes the WAL.
func (d *diskStorage) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.w.Close()
}
