//go:build !linux

package wal

import "os"

// preallocate makes f at least size bytes long.
func preallocate(f *os.File, size int64) error { return extend(f, size) }

// fdatasync flushes f to stable storage.
func fdatasync(f *os.File) error { return f.Sync() }
