package backend

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdgo/etcd/internal/failpoint"
)

// defragLimit is how many keys are copied per commit of the new file.
const defragLimit = 10000

// Defrag copies the database into a new file with pages filled to 90%,
// fsyncs it and renames it over the old one. Writers (and commits) wait for
// it; views keep reading the old file, which is closed once they are
// released.
func (b *backend) Defrag() error {
	if g := b.cfg.CommitGate; g != nil {
		g.Lock()
		defer g.Unlock()
	}
	b.batch.mu.Lock()
	defer b.batch.mu.Unlock()
	if b.batch.tx == nil {
		return errors.New("backend: defrag after close")
	}
	start := time.Now()
	sizeBefore := b.Size()
	b.commitLocked(false)

	failpoint.Hit("defragBeforeCopy")
	tmpPath, err := b.writeCompactCopy(b.h)
	if err != nil {
		b.beginWrite(b.h) // keep going on the old file
		return fmt.Errorf("defrag: %w", err)
	}
	failpoint.Hit("defragBeforeRename")
	if err := b.swapFile(tmpPath); err != nil {
		_ = os.Remove(tmpPath)
		return fmt.Errorf("defrag: %w", err)
	}
	b.lg.Info("defragmented", "path", b.cfg.Path, "size-before", sizeBefore,
		"size-after", b.Size(), "took", time.Since(start))
	return nil
}

// beginWrite opens the batch's next bolt write transaction on h. The
// caller holds the batch lock, and the previous write tx is finished.
func (b *backend) beginWrite(h *dbHandle) {
	tx, err := h.db.Begin(true)
	if err != nil {
		panic(fmt.Sprintf("backend: begin bolt write tx: %v", err))
	}
	b.batch.tx = tx
}

// swapFile renames the bolt file at src over the backend's path and makes
// it the backend's database: views opened before keep reading the old file,
// which is closed once they are released; the write buffer starts empty and
// the next write tx is on the new file. The caller holds the commit gate
// and the batch lock, and the write tx is finished. If the rename fails,
// the backend goes on with the old file and the error is returned.
func (b *backend) swapFile(src string) error {
	oldH := b.h
	if err := os.Rename(src, b.cfg.Path); err != nil {
		b.beginWrite(oldH)
		return fmt.Errorf("rename: %w", err)
	}
	if err := syncDir(filepath.Dir(b.cfg.Path)); err != nil {
		b.lg.Warn("fsync of the db dir after a swap failed", "err", err)
	}
	// The path now names the new file; the old one lives on (unlinked) for
	// open views only. There is no going back from here.
	newH, err := openDB(b.cfg.Path, &b.cfg)
	if err != nil {
		panic(fmt.Sprintf("backend: open the swapped-in db: %v", err))
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
	b.beginWrite(newH)
	b.updateSize()
	return nil
}

// pruneClosed drops handles that are already closed.
func pruneClosed(hs []*dbHandle) []*dbHandle {
	out := hs[:0]
	for _, h := range hs {
		select {
		case <-h.closed:
		default:
			out = append(out, h)
		}
	}
	return out
}

// writeCompactCopy copies the committed state of h into a new temporary
// file next to the database and returns its path.
func (b *backend) writeCompactCopy(h *dbHandle) (path string, err error) {
	f, err := os.CreateTemp(filepath.Dir(b.cfg.Path), "db.tmp.*")
	if err != nil {
		return "", err
	}
	path = f.Name()
	if err := f.Close(); err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	dst, err := bolt.Open(path, 0o600, &bolt.Options{
		NoSync:         true,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	src, err := h.beginRead()
	if err != nil {
		_ = dst.Close()
		return "", err
	}
	err = copyAll(dst, src)
	h.endRead(src)
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return path, err
}

// copyAll copies every bucket of src into dst, committing every defragLimit
// keys.
func copyAll(dst *bolt.DB, src *bolt.Tx) error {
	tx, err := dst.Begin(true)
	if err != nil {
		return err
	}
	defer func() {
		if tx != nil {
			_ = tx.Rollback()
		}
	}()
	n := 0
	err = src.ForEach(func(name []byte, sb *bolt.Bucket) error {
		db, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
		db.FillPercent = 0.9
		c := sb.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if n == defragLimit {
				if err := tx.Commit(); err != nil {
					return err
				}
				if tx, err = dst.Begin(true); err != nil {
					tx = nil
					return err
				}
				db = tx.Bucket(name)
				db.FillPercent = 0.9
				n = 0
			}
			if err := db.Put(k, v); err != nil {
				return fmt.Errorf("put into %q: %w", name, err)
			}
			n++
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Commit()
	tx = nil
	return err
}
