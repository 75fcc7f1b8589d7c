package wal

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	privateFileMode = 0o600
	privateDirMode  = 0o700
)

// ErrLocked is returned when a segment is locked by another WAL (in this or
// another process).
var ErrLocked = errors.New("wal: segment file is locked by another process")

// lockFile opens path and takes an exclusive flock on it. With try set it
// fails with ErrLocked instead of waiting.
func lockFile(path string, flag int, try bool) (*os.File, error) {
	f, err := os.OpenFile(path, flag, privateFileMode)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_EX
	if try {
		how |= unix.LOCK_NB
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, fmt.Errorf("flock %s: %w", path, err)
	}
	return f, nil
}

// zeroToEnd discards everything in f from off on and re-extends the file to
// its previous size with zeros, keeping the preallocated space.
func zeroToEnd(f *os.File, off int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := f.Truncate(off); err != nil {
		return fmt.Errorf("truncate %s to %d: %w", f.Name(), off, err)
	}
	return preallocate(f, fi.Size())
}

// fsyncDir fsyncs a directory so renames and creations in it are durable.
func fsyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, serr)
	}
	return cerr
}

// walName returns the file name of segment seq whose first entry is index.
func walName(seq, index uint64) string {
	return fmt.Sprintf("%016x-%016x.wal", seq, index)
}

// parseWALName parses a segment file name made by walName.
func parseWALName(name string) (seq, index uint64, err error) {
	if !strings.HasSuffix(name, ".wal") {
		return 0, 0, fmt.Errorf("bad wal name %q", name)
	}
	if _, err := fmt.Sscanf(name, "%016x-%016x.wal", &seq, &index); err != nil {
		return 0, 0, fmt.Errorf("bad wal name %q: %w", name, err)
	}
	if walName(seq, index) != name {
		return 0, 0, fmt.Errorf("bad wal name %q", name)
	}
	return seq, index, nil
}

// ErrFileNotFound is returned when the directory holds no segment.
var ErrFileNotFound = errors.New("wal: file not found")

// segmentNames returns the segment file names in dir, sorted (by sequence,
// since the names are fixed-width hex).
func segmentNames(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, de := range des {
		if _, _, err := parseWALName(de.Name()); err == nil {
			names = append(names, de.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// readWALNames is segmentNames that logs ignored files and fails when there
// is no segment.
func (w *WAL) readWALNames() ([]string, error) {
	names, err := segmentNames(w.dir)
	if err != nil {
		return nil, fmt.Errorf("read wal dir: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrFileNotFound, w.dir)
	}
	return names, nil
}

// searchIndex returns the position of the last name whose first index is at
// most index.
func searchIndex(names []string, index uint64) (int, bool) {
	for i := len(names) - 1; i >= 0; i-- {
		_, cur, err := parseWALName(names[i])
		if err == nil && index >= cur {
			return i, true
		}
	}
	return -1, false
}

// isValidSeq reports whether the sequence numbers of names increase by one.
func isValidSeq(names []string) bool {
	var last uint64
	for i, name := range names {
		seq, _, err := parseWALName(name)
		if err != nil {
			return false
		}
		if i > 0 && seq != last+1 {
			return false
		}
		last = seq
	}
	return true
}

// Exist reports whether dir holds at least one segment file.
func Exist(dir string) bool {
	names, err := segmentNames(dir)
	return err == nil && len(names) > 0
}

// extend grows f to size bytes with ftruncate when it is shorter.
func extend(f *os.File, size int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() >= size {
		return nil
	}
	return f.Truncate(size)
}
