package wal

import (
	"fmt"
	"io"
	"os"
)

// repairTail handles a torn write at the end of the last segment: it keeps a
// copy of the damaged segment as "<path>.broken" (as etcd does), cuts the
// segment after the last good record at off, re-zeroes the rest of its
// preallocated space and syncs.
func (w *WAL) repairTail(tail *segment, off int64, cause *CorruptError) error {
	w.lg.Warn("repairing torn WAL tail",
		"path", tail.path, "offset", off, "cause", cause.Error())
	broken := tail.path + ".broken"
	if err := copyFile(tail.f, broken); err != nil {
		return fmt.Errorf("wal: back up torn segment: %w", err)
	}
	if err := zeroToEnd(tail.f, off); err != nil {
		return fmt.Errorf("wal: repair %s: %w", tail.path, err)
	}
	if err := fdatasync(tail.f); err != nil {
		return err
	}
	w.lg.Warn("repaired torn WAL tail", "path", tail.path, "kept-bytes", off, "backup", broken)
	return nil
}

// copyFile copies all of src to a new file at dst.
func copyFile(src *os.File, dst string) error {
	df, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, privateFileMode)
	if err != nil {
		return err
	}
	fi, err := src.Stat()
	if err != nil {
		df.Close()
		return err
	}
	if _, err := io.Copy(df, io.NewSectionReader(src, 0, fi.Size())); err != nil {
		df.Close()
		return err
	}
	return df.Close()
}
