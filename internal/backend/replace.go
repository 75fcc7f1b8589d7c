package backend

import (
	"errors"
	"fmt"
)

// Replace makes the file at path the backend's database: a member that
// received a snapshot from its leader installs the snapshot's db this way.
// Writes not yet committed are dropped, path is renamed over the
// database's own path and opened; views opened before keep reading the old
// file, which is closed once they are released. Replace holds the
// CommitGate and the batch lock from the swap until afterSwap (if not nil)
// has run on the new contents, so no commit (and no PreCommit) happens in
// between: the caller updates there whatever PreCommit writes.
func (b *backend) Replace(path string, afterSwap func(tx UnsafeReader)) error {
	if g := b.cfg.CommitGate; g != nil {
		g.Lock()
		defer g.Unlock()
	}
	b.batch.mu.Lock()
	defer b.batch.mu.Unlock()
	if b.batch.tx == nil {
		return errors.New("backend: replace after close")
	}
	// Check the new file before giving up the old one.
	probe, err := openDB(path, &b.cfg)
	if err != nil {
		return fmt.Errorf("replace: %w", err)
	}
	probe.retire()
	<-probe.closed

	if err := b.batch.tx.Rollback(); err != nil {
		b.lg.Warn("replace: rollback of the pending write tx", "err", err)
	}
	b.batch.tx = nil
	b.batch.pending.Store(0)
	b.batch.costEstimate = 0
	if err := b.swapFile(path); err != nil {
		return fmt.Errorf("replace: %w", err)
	}
	if afterSwap != nil {
		afterSwap(b.batch)
	}
	b.lg.Info("replaced the backend database", "path", b.cfg.Path, "size", b.Size())
	return nil
}
