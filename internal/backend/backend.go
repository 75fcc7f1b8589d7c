// Package backend stores etcd's data in a bbolt file laid out exactly as etcd
// lays out member/snap/db, with batched writes and concurrent read views.
//
// All writes go through the single BatchTx, which wraps one long-lived bolt
// write transaction. A committer goroutine commits it every BatchInterval when
// writes are pending, or sooner once BatchLimit writes are pending; it never
// commits once per request. Writes made inside a BatchTx Lock/Unlock section
// become visible to new ReadTx views at Unlock, whether or not they have been
// committed to bolt yet: a view merges a shared, refcounted bolt read
// transaction with a copy-on-write snapshot of the uncommitted write buffer,
// so taking one is O(1) and views never block writers.
//
// Rules for callers:
//   - Release every ReadTx and Close every Snapshot; Close waits for them.
//   - A commit that must grow the file past MmapSize remaps, which waits for
//     every open view (and blocks new ones meanwhile). With the default
//     10 GiB that does not happen in practice; otherwise never wait for a
//     commit (ForceCommit, Commit, Snapshot, Defrag, Close) while holding
//     a view.
//   - Slices returned by UnsafeRange/UnsafeForEach are valid until the view is
//     released (ReadTx) or the lock is released (BatchTx). Do not modify them.
package backend

import (
	"io"
	"log/slog"
	"sync"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultBatchInterval = 100 * time.Millisecond
	DefaultBatchLimit    = 10000
	DefaultMmapSize      = 10 * 1024 * 1024 * 1024
)

// Bucket names one bbolt bucket.
type Bucket struct{ Name []byte }

// String returns the bucket name.
func (b Bucket) String() string { return string(b.Name) }

// Config configures New.
type Config struct {
	Path string
	// BatchInterval: the open write tx is committed at least this often
	// while writes are pending. Default 100ms.
	BatchInterval time.Duration
	// BatchLimit: pending writes that trigger a commit. Default 10000.
	BatchLimit int
	// MmapSize is the initial mmap size (default 10 GiB), which avoids remaps
	// that have to wait for open readers.
	MmapSize int
	Logger   *slog.Logger
	// PreCommit, when set, runs with the batch tx locked just before every
	// bolt commit (the server writes its consistent index here).
	PreCommit func(tx UnsafeWriter)
	// CommitGate, when set, is locked around every commit (periodic,
	// limit-triggered, forced, at Close and Defrag) BEFORE the batch tx lock.
	// The apply loop holds it while applying one raft entry, so a commit
	// never persists half an entry. Limit-triggered commits therefore run on
	// the committer goroutine, never inside BatchTx.Unlock.
	CommitGate sync.Locker
	// UnsafeNoFsync disables fsync on commit (bolt NoSync and NoGrowSync).
	UnsafeNoFsync bool
	// OnCommit, when set, gets the duration of every bolt commit (the
	// member's etcd_disk_backend_commit_duration_seconds).
	OnCommit func(time.Duration)
	// LockTimeout bounds the wait for the file lock another process holds
	// (etcdutl's --timeout); 0 waits forever.
	LockTimeout time.Duration
}

// Backend is a bbolt database with batched writes and concurrent read views.
type Backend interface {
	// ReadTx returns a read view of everything written through BatchTx so
	// far (as of the last BatchTx.Unlock), committed or not. Taking one is
	// O(1); many may be open while writes go on. The caller must Release it.
	ReadTx() ReadTx
	// BatchTx returns the backend's single batch write transaction.
	BatchTx() BatchTx
	// Snapshot commits, then returns a consistent snapshot of the whole
	// database for streaming. The caller must Close it.
	Snapshot() Snapshot
	// Size returns the size of the database in bytes (as of the last commit).
	Size() int64
	// SizeInUse returns Size minus the free pages.
	SizeInUse() int64
	// ForceCommit commits pending writes now (even if none are pending).
	ForceCommit()
	// Defrag rewrites the file compactly: copies everything into a new file
	// and swaps it in. Writers wait; readers keep going; nothing is lost.
	Defrag() error
	// Replace renames the db file at path over the backend's own and makes
	// it the backend's contents, dropping uncommitted writes. afterSwap runs
	// on the new contents before any commit can happen. Views opened before
	// keep reading the old file.
	Replace(path string, afterSwap func(tx UnsafeReader)) error
	// Close commits pending writes, stops the committer goroutine and closes
	// the file once every open view and snapshot has been released.
	Close() error
}

// UnsafeReader reads from a bucket. Not safe for concurrent use of one tx.
type UnsafeReader interface {
	// UnsafeRange returns the pairs in [key, endKey) in key order (endKey
	// nil: key alone), at most limit of them (limit <= 0: no limit).
	// Returned slices are valid until the tx is released/unlocked.
	UnsafeRange(b Bucket, key, endKey []byte, limit int64) (keys [][]byte, vals [][]byte)
	// UnsafeForEach calls visitor for every pair of the bucket in key order,
	// stopping at the first error, which it returns.
	UnsafeForEach(b Bucket, visitor func(k, v []byte) error) error
}

// UnsafeWriter writes to buckets. The caller holds the BatchTx lock.
// Key and value are copied; the caller may reuse them.
type UnsafeWriter interface {
	// UnsafeCreateBucket creates the bucket if it does not exist.
	UnsafeCreateBucket(b Bucket)
	// UnsafeDeleteBucket deletes the bucket and its contents, if it exists.
	UnsafeDeleteBucket(b Bucket)
	// UnsafePut stores key=value; it panics if the bucket does not exist.
	UnsafePut(b Bucket, key, value []byte)
	// UnsafeSeqPut is UnsafePut for keys that arrive in increasing order:
	// pages are filled fully (bbolt FillPercent 0.9).
	UnsafeSeqPut(b Bucket, key, value []byte)
	// UnsafeDelete removes key; a missing bucket or key is not an error.
	UnsafeDelete(b Bucket, key []byte)
}

// BatchTx is the backend's batch write transaction.
type BatchTx interface {
	Lock()
	Unlock()
	UnsafeReader
	UnsafeWriter
	// Commit commits now. The caller holds neither the lock nor the gate.
	Commit()
}

// ReadTx is a read view; it must be released. One view must not be used
// from several goroutines at once.
type ReadTx interface {
	UnsafeReader
	Release()
}

// Snapshot is a consistent copy of the database for streaming.
type Snapshot interface {
	// WriteTo writes the whole database file (bbolt format) to w.
	WriteTo(w io.Writer) (int64, error)
	// Size returns the number of bytes WriteTo writes.
	Size() int64
	Close() error
}
