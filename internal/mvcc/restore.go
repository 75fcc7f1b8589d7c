package mvcc

// Restore replaces the store's state with new backend contents: a member
// that received a snapshot from its leader swaps its backend file for the
// snapshot's. Restore stops the background compaction of the old contents,
// blocks new read transactions and waits for open ones to end, calls swap
// (which replaces what the backend holds), then rebuilds the key index and
// the revisions from the backend and resumes a compaction the new contents
// had scheduled. It must not be called concurrently with a write
// transaction; reads wait while it runs. If swap fails the store is left
// as it was and the error returned.
func (s *Store) Restore(swap func() error) error {
	s.compactMu.Lock()
	close(s.compactStop)
	<-s.lastCompactDone
	s.compactStop = make(chan struct{})
	s.lastCompactDone = closedChan()

	s.restoreMu.Lock()
	s.writeMu.Lock()
	if err := swap(); err != nil {
		s.writeMu.Unlock()
		s.restoreMu.Unlock()
		s.compactMu.Unlock()
		return err
	}
	s.compactMainRev.Store(-1)
	s.hashes.reset()
	ti := newTreeIndex()
	scheduled, resume := s.restore(ti)
	s.kvindex.mu.Lock()
	s.kvindex.tree = ti.tree
	s.kvindex.mu.Unlock()
	s.writeMu.Unlock()
	s.restoreMu.Unlock()
	s.compactMu.Unlock()
	if resume {
		s.resumeCompaction(scheduled)
	}
	return nil
}

// Restore restores the store (see Store.Restore) and then moves every
// synced watcher to the unsynced group: each catches up from the next
// revision it is owed, out of the new contents, or learns that the new
// contents were compacted past it.
func (s *WatchableStore) Restore(swap func() error) error {
	if err := s.Store.Restore(swap); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var moved []*watcher
	s.synced.each(func(w *watcher) bool {
		moved = append(moved, w)
		return true
	})
	for _, w := range moved {
		s.synced.delete(w)
		w.state = stateUnsynced
		s.unsynced.add(w)
	}
	kick(s.syncc)
	return nil
}
