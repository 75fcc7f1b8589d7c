package backend

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	oldH := b.h
	if err := os.Rename(path, b.cfg.Path); err != nil {
		// Keep going on the old file.
		tx, berr := oldH.db.Begin(true)
		if berr != nil {
			panic(fmt.Sprintf("backend: begin bolt write tx: %v", berr))
		}
		b.batch.tx = tx
		return fmt.Errorf("replace: rename: %w", err)
	}
	if err := syncDir(filepath.Dir(b.cfg.Path)); err != nil {
		b.lg.Warn("replace: fsync dir", "err", err)
	}
	// From here the path names the new file: there is no going back.
	newH, err := openDB(b.cfg.Path, &b.cfg)
	if err != nil {
		panic(fmt.Sprintf("backend: open the replacing db: %v", err))
	}
	sr, err := newSharedRead(newH)
	if err != nil {
		panic(fmt.Sprintf("backend: %v", err))
	}
	b.bufMu.Lock()
	old := b.cur
	b.cur, b.h = sr, newH
	b.buf, b.bufSnap = newBufTree(), nil
	b.retired = append(pruneClosed(b.retired), oldH)
	b.bufMu.Unlock()
	old.release()
	oldH.retire()
	if b.batch.tx, err = newH.db.Begin(true); err != nil {
		panic(fmt.Sprintf("backend: begin bolt write tx: %v", err))
	}
	b.updateSize()
	if afterSwap != nil {
		afterSwap(b.batch)
	}
	b.lg.Info("replaced the backend database", "path", b.cfg.Path, "size", b.Size())
	return nil
}
