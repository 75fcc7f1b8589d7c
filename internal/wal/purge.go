package wal

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// Purge removes the oldest segment files in dir until at most max remain
// (max 0 keeps all). It stops at the first segment it cannot lock: a segment
// an open WAL still holds (see ReleaseLockTo) is never removed, nor anything
// newer. The server calls it on a timer.
func Purge(lg *slog.Logger, dir string, max int) error {
	if max <= 0 {
		return nil
	}
	lg = orDiscard(lg)
	names, err := segmentNames(dir)
	if err != nil {
		return fmt.Errorf("wal: purge: %w", err)
	}
	for len(names) > max {
		p := filepath.Join(dir, names[0])
		f, err := lockFile(p, os.O_RDWR, true)
		if errors.Is(err, ErrLocked) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("wal: purge: %w", err)
		}
		rerr := os.Remove(p)
		f.Close()
		if rerr != nil {
			return fmt.Errorf("wal: purge: %w", rerr)
		}
		lg.Info("purged WAL segment", "path", p)
		names = names[1:]
	}
	return nil
}

// Purge removes the oldest released segments of w beyond max; see Purge.
func (w *WAL) Purge(max int) error { return Purge(w.lg, w.dir, max) }
