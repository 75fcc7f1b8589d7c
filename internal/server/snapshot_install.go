package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/failpoint"
	"github.com/etcdgo/etcd/internal/raftnode"
	"github.com/etcdgo/etcd/internal/schema"
)

// snapDBPath is where the transport saves the backend that comes with a
// snapshot of the given index, as etcd names it.
func snapDBPath(snapDir string, index uint64) string {
	return filepath.Join(snapDir, fmt.Sprintf("%016x.snap.db", index))
}

// applySnapshot installs a snapshot sent by the leader, once raft's copy of
// it is durable (a restart then finds the snapshot in the WAL, and the db
// either already installed or still at its .snap.db path). The backend is
// replaced by the db that came with it, and the store, the leases, the
// member set and the transport's peers are rebuilt from it.
func (s *Server) applySnapshot(ap raftnode.Apply) error {
	sn := ap.Snapshot
	idx := sn.GetMetadata().GetIndex()
	if applied := s.consistIndex.Load(); idx <= applied {
		return fmt.Errorf("received snapshot at index %d, not past the applied index %d", idx, applied)
	}
	select {
	case <-ap.Persisted:
	case <-s.r.Done():
		return nil
	}
	s.lg.Info("applying snapshot", "incoming-leader-snapshot-index", idx,
		"incoming-leader-snapshot-term", sn.GetMetadata().GetTerm(), "current-applied-index", s.consistIndex.Load())
	path := snapDBPath(s.storage.snapDir, idx)
	failpoint.Hit("applyBeforeOpenSnapshot")
	if err := s.installBackend(path, idx); err != nil {
		return err
	}
	failpoint.Hit("applyAfterOpenSnapshot")
	if err := s.afterBackendReplaced(); err != nil {
		return err
	}
	s.applyMu.Lock()
	s.confState = sn.GetMetadata().GetConfState()
	s.applyMu.Unlock()
	s.snapshotIndex = idx
	s.applyWait.Applied(s.consistIndex.Load())
	s.lg.Info("applied snapshot", "incoming-leader-snapshot-index", idx,
		"consistent-index", s.consistIndex.Load(), "current-revision", s.kv.Rev())
	return nil
}

// installBackend makes the db at path the member's backend, rebuilding the
// store on it, and takes the consistent index from it. The db must hold
// everything up to index.
func (s *Server) installBackend(path string, index uint64) error {
	var ci uint64
	err := s.watchable.Restore(func() (err error) {
		ci, err = s.replaceBackend(path, index)
		return err
	})
	if err != nil {
		return err
	}
	if ci < index {
		return fmt.Errorf("snapshot db's consistent index %d is older than the snapshot index %d", ci, index)
	}
	s.loadStorageVersion()
	s.lg.Info("restored mvcc store", "consistent-index", ci)
	return nil
}

// replaceBackend swaps the db at path in as the backend and returns its
// consistent index, which becomes the member's when it covers index (no
// commit can come between the swap and that update).
func (s *Server) replaceBackend(path string, index uint64) (ci uint64, err error) {
	err = s.be.Replace(path, func(tx backend.UnsafeReader) {
		var term uint64
		ci, term = schema.UnsafeReadConsistentIndex(tx)
		if ci >= index {
			s.consistIndex.Store(ci)
			s.consistTerm.Store(term)
		}
	})
	if err != nil {
		return 0, fmt.Errorf("install snapshot db %s: %w", path, err)
	}
	return ci, nil
}

// afterBackendReplaced rebuilds the leases and the member set from the new
// backend and brings the transport's peers in step with the members.
func (s *Server) afterBackendReplaced() error {
	rt := s.kv.Read()
	err := s.lessor.Recover(context.Background(), rt, s.electionTimeout())
	rt.End()
	if err != nil {
		return fmt.Errorf("recover lessor: %w", err)
	}
	s.lg.Info("recovered lessor")
	s.lg.Info("restoring alarm store")
	if err := s.restoreAlarms(); err != nil {
		return fmt.Errorf("failed to restore alarm store: %w", err)
	}
	s.lg.Info("restored alarm store")

	tx := s.be.ReadTx()
	members, removed, err := schema.UnsafeReadMembers(tx)
	tx.Release()
	if err != nil {
		return fmt.Errorf("read members: %w", err)
	}
	old := s.cluster.Members()
	s.cluster.replace(members, removed)
	for _, m := range old {
		if _, ok := members[m.ID]; !ok && m.ID != s.id {
			s.transport.RemovePeer(m.ID)
		}
	}
	for _, m := range members {
		if m.ID == s.id {
			continue
		}
		s.transport.AddPeer(m.ID, m.PeerURLs)
		if i := slices.IndexFunc(old, func(o *Member) bool { return o.ID == m.ID }); i >= 0 && !slices.Equal(old[i].PeerURLs, m.PeerURLs) {
			s.transport.UpdatePeer(m.ID, m.PeerURLs)
		}
	}
	s.lg.Info("recovered cluster membership", "members", len(members))
	return nil
}

// recoverSnapshotBackend finishes a snapshot install a crash interrupted:
// raft's snapshot at index is durable but the backend is older, so the db
// that came with the snapshot is installed now.
func (s *Server) recoverSnapshotBackend(snapDir string, index uint64) error {
	path := snapDBPath(snapDir, index)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backend consistent index %d is older than snapshot index %d and %s is missing: %w",
			s.consistIndex.Load(), index, path, err)
	}
	ci, err := s.replaceBackend(path, index)
	if err != nil {
		return err
	}
	if ci < index {
		return fmt.Errorf("snapshot db's consistent index %d is older than the snapshot index %d", ci, index)
	}
	s.lg.Info("installed the snapshot db left by an interrupted snapshot install", "snapshot-index", index, "consistent-index", ci)
	return nil
}
