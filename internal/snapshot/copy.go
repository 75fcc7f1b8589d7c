package snapshot

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
)

var (
	// ErrMissingHash is returned by Restore for a file without a SHA-256
	// trailer unless SkipHashCheck is set.
	ErrMissingHash = errors.New("snapshot missing hash but --skip-hash-check=false")
	// ErrHashMismatch is returned by Restore when the SHA-256 trailer does
	// not match the database bytes (unless SkipHashCheck is set).
	ErrHashMismatch = errors.New("snapshot sha256 mismatch")
)

// copyDB copies the database part of the snapshot file src to dst (created
// with mode 0600) and syncs it. A SHA-256 trailer is cut off and, unless
// skipHash, checked; without one the copy fails unless skipHash.
func copyDB(src, dst string, skipHash bool) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("snapshot restore: %w", err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return fmt.Errorf("snapshot restore: %w", err)
	}
	size := fi.Size()
	hasHash := hasChecksum(size)
	if !hasHash && !skipHash {
		return fmt.Errorf("snapshot restore: %w", ErrMissingHash)
	}
	dbSize := size
	if hasHash {
		dbSize -= sha256.Size
	}

	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("snapshot restore: %w", err)
	}
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("snapshot restore: %w", cerr)
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(in, dbSize))
	if err != nil {
		return fmt.Errorf("snapshot restore: copy db: %w", err)
	}
	if n != dbSize {
		return fmt.Errorf("snapshot restore: copy db: read %d of %d bytes", n, dbSize)
	}
	if hasHash && !skipHash {
		want := make([]byte, sha256.Size)
		if _, err := io.ReadFull(in, want); err != nil {
			return fmt.Errorf("snapshot restore: read hash: %w", err)
		}
		if got := h.Sum(nil); !bytes.Equal(got, want) {
			return fmt.Errorf("snapshot restore: %w: expected %x, got %x", ErrHashMismatch, want, got)
		}
	}
	if err := out.Sync(); err != nil {
		return fmt.Errorf("snapshot restore: sync db: %w", err)
	}
	return nil
}
