package server

import (
	"fmt"
	"time"

	"github.com/etcdgo/etcd/internal/failpoint"
	"github.com/etcdgo/etcd/internal/v2store"
)

// purgeInterval is how often old snapshot files and WAL segments are removed.
const purgeInterval = 30 * time.Second

// snapshot takes a raft snapshot at the applied index: the backend is
// committed first (it is the state the snapshot stands for), then the snapshot
// file and its WAL marker are written and the in-memory raft log is compacted,
// keeping SnapshotCatchUpEntries entries for slow followers.
func (s *Server) snapshot() error {
	s.be.ForceCommit()
	idx := s.consistIndex.Load()
	data, err := v2store.MembershipJSON(s.cluster.Members())
	if err != nil {
		return fmt.Errorf("encode membership: %w", err)
	}
	sn, err := s.raftStorage.CreateSnapshot(idx, s.confState, data)
	if err != nil {
		return fmt.Errorf("create snapshot at %d: %w", idx, err)
	}
	failpoint.Hit("raftBeforeSaveSnapshot")
	if err := s.storage.SaveSnap(sn); err != nil {
		return err
	}
	failpoint.Hit("raftAfterSaveSnapshot")
	s.snapshotIndex = idx
	s.lg.Info("saved snapshot", "snapshot-index", idx)

	compactIndex := uint64(1)
	if idx > s.cfg.SnapshotCatchUpEntries {
		compactIndex = idx - s.cfg.SnapshotCatchUpEntries
	}
	if first, _ := s.raftStorage.FirstIndex(); compactIndex > first {
		if err := s.raftStorage.Compact(compactIndex); err != nil {
			return fmt.Errorf("compact raft log: %w", err)
		}
		s.lg.Info("compacted Raft logs", "compact-index", compactIndex)
	}
	if err := s.storage.Release(sn); err != nil {
		return fmt.Errorf("release wal: %w", err)
	}
	failpoint.Hit("raftAfterWALRelease")
	return nil
}

// purgeLoop removes snapshot files and WAL segments beyond the configured
// limits, every purgeInterval, until the server stops.
func (s *Server) purgeLoop() {
	defer s.wg.Done()
	t := time.NewTicker(purgeInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := s.storage.Purge(int(s.cfg.MaxSnapFiles), int(s.cfg.MaxWALFiles)); err != nil {
				s.lg.Warn("failed to purge old files", "error", err)
			}
		case <-s.stopping:
			return
		}
	}
}
