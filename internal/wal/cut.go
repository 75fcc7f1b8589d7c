package wal

import (
	"fmt"
	"os"
	"path/filepath"
)

// cut closes the tail segment at its current end and continues in a new
// segment named for the next sequence number and the next raft index. The
// new segment is written under its temp name (crc, metadata and the latest
// hard state), synced, and only then renamed into place, so a crash leaves
// either no new segment or a complete header.
func (w *WAL) cut() error {
	tail := w.tail()
	if err := w.enc.flush(); err != nil {
		return err
	}
	off := w.enc.offset()
	// Drop the unused preallocated space of the old tail.
	if err := tail.f.Truncate(off); err != nil {
		return fmt.Errorf("wal: truncate %s: %w", tail.path, err)
	}
	if err := w.sync(); err != nil {
		return err
	}

	nf, err := w.fp.Open()
	if err != nil {
		return fmt.Errorf("wal: next segment: %w", err)
	}
	seg := &segment{f: nf, path: nf.Name(), seq: tail.seq + 1, index: w.enti + 1}
	w.segs = append(w.segs, seg)
	w.enc = newEncoder(nf, 0, w.enc.crc)
	if err := w.enc.encode(CrcType, nil); err != nil {
		return err
	}
	if err := w.enc.encode(MetadataType, w.metadata); err != nil {
		return err
	}
	if err := w.saveState(w.state); err != nil {
		return err
	}
	if err := w.sync(); err != nil {
		return err
	}
	final := filepath.Join(w.dir, walName(seg.seq, seg.index))
	if err := os.Rename(seg.path, final); err != nil {
		return fmt.Errorf("wal: rename new segment: %w", err)
	}
	seg.path = final
	if err := fsyncDir(w.dir); err != nil {
		return err
	}
	w.lg.Info("created a new WAL segment", "path", final)
	return nil
}
