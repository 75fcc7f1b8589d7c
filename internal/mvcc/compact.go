package mvcc

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/etcdgo/etcd/internal/failpoint"
	"github.com/etcdgo/etcd/internal/schema"
)

// Compact schedules a compaction at rev; see KV.Compact.
//
// Like etcd: "scheduledCompactRev" is written in the batch tx (so any commit
// that contains deletions of the compaction also contains it), the index is
// compacted at once, and a background goroutine scans the revisions
// [0, rev] of the "key" bucket in batches of CompactionBatchLimit, deleting
// those the index no longer references, then writes "finishedCompactRev".
// It sleeps CompactionSleepInterval between batches, and commits after each
// batch, without holding any lock, so writes go on meanwhile. Compactions
// run in the order they were scheduled.
func (s *Store) Compact(rev int64) (<-chan struct{}, error) {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()

	s.writeMu.Lock()
	tx := s.b.BatchTx()
	tx.Lock()
	prevCompactRev := s.compactMainRev.Load()
	if rev <= prevCompactRev {
		tx.Unlock()
		s.writeMu.Unlock()
		return s.lastCompactDone, ErrCompacted
	}
	if rev > s.currentRev.Load() {
		tx.Unlock()
		s.writeMu.Unlock()
		return nil, ErrFutureRev
	}
	// The compaction hash covers everything since the previous compaction
	// only if that one finished (etcd #15919).
	scheduled, scheduledFound := schema.UnsafeReadScheduledCompact(tx)
	finished, finishedFound := schema.UnsafeReadFinishedCompact(tx)
	prevCompleted := scheduled == finished && scheduledFound == finishedFound
	s.compactMainRev.Store(rev)
	schema.UnsafeSetScheduledCompact(tx, rev)
	tx.Unlock()
	s.writeMu.Unlock()

	keep := s.kvindex.Compact(rev)
	s.lg.Info("compacted key index", "revision", rev, "kept-revisions", len(keep))

	prev := s.lastCompactDone
	stop := s.compactStop
	done := make(chan struct{})
	s.lastCompactDone = done
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		select {
		case <-prev:
		case <-s.stopc:
			return
		case <-stop:
			return
		}
		start := time.Now()
		h, deleted, ok := s.deleteCompacted(stop, rev, prevCompactRev, keep)
		if !ok {
			s.lg.Info("compaction stopped by close", "revision", rev)
			return
		}
		if prevCompleted {
			s.hashes.store(h)
		}
		s.lg.Info("finished scheduled compaction", "revision", rev,
			"deleted-revisions", deleted, "took", time.Since(start))
	}()
	return done, nil
}

// deleteCompacted deletes from the backend the revisions <= rev that are not
// in keep, hashing what it scans as etcd does, and records the finished
// compaction. ok is false if the store was closed (or stop closed) first.
func (s *Store) deleteCompacted(stop <-chan struct{}, rev, prevCompactRev int64, keep map[Revision]struct{}) (h KeyValueHash, deleted int, ok bool) {
	end := make([]byte, 8)
	binary.BigEndian.PutUint64(end, uint64(rev+1))
	last := make([]byte, 17) // revision 0_0
	batch := s.cfg.CompactionBatchLimit
	hasher := newKVHasher(prevCompactRev, rev, keep)
	for {
		tx := s.b.BatchTx()
		tx.Lock()
		keys, vals := tx.UnsafeRange(schema.Key, last, end, int64(batch))
		var r Revision
		var doomed [][]byte
		for i, k := range keys {
			r = Revision(schema.BytesToRev(k))
			hasher.writeKeyValue(k, vals[i])
			if _, kept := keep[r]; !kept {
				// Copied: a write invalidates the slices UnsafeRange returned.
				doomed = append(doomed, bytes.Clone(k))
			}
		}
		for _, k := range doomed {
			tx.UnsafeDelete(schema.Key, k)
		}
		deleted += len(doomed)
		if len(keys) < batch {
			schema.UnsafeSetFinishedCompact(tx, rev)
			tx.Unlock()
			// A physical compaction is answered when this returns: make it
			// durable first.
			s.b.ForceCommit()
			failpoint.Hit("compactAfterSetFinishedCompact")
			return hasher.hash(), deleted, true
		}
		last = schema.RevToBytes(schema.Revision{Main: r.Main, Sub: r.Sub + 1}, false)
		tx.Unlock()
		// Commit the deletions now rather than let them pile up in the
		// write buffer.
		failpoint.Hit("compactBeforeCommitBatch")
		s.b.ForceCommit()
		failpoint.Hit("compactAfterCommitBatch")
		select {
		case <-time.After(s.cfg.CompactionSleepInterval):
		case <-s.stopc:
			return KeyValueHash{}, deleted, false
		case <-stop:
			return KeyValueHash{}, deleted, false
		}
	}
}
