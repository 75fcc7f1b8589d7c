// Package mvcc is etcd's multi-version key-value store: every change gets a
// revision, old revisions stay readable until compacted, and the whole
// history lives in the backend's "key" bucket in etcd's on-disk format.
//
// Layout (identical to etcd's, so a member/snap/db written by either can be
// read by the other):
//
//   - "key" bucket: revision key -> marshaled mvccpb.KeyValue. A revision key
//     is 8-byte big-endian main revision, '_', 8-byte big-endian sub
//     revision, plus a trailing 't' for a tombstone (a delete), whose value is
//     KeyValue{Key: key} only.
//   - "meta" bucket: "scheduledCompactRev" and "finishedCompactRev".
//
// A transaction's changes share one main revision (the store's revision + 1)
// and get sub revisions 0, 1, 2, ... in order. The store's revision is 1 on
// an empty store.
//
// In memory, a B-tree index (treeIndex) maps each key to its revisions,
// grouped in generations (keyIndex); a range looks revisions up in the index
// and then reads the values from the backend by revision.
//
// Concurrency: write transactions are serialized (one at a time, holding the
// backend's batch tx lock for their whole life). A write transaction updates
// the index as it goes, at its own revision, and reads its values through
// the batch tx, so it sees its own changes. Read transactions run
// concurrently with writes on an O(1) backend read view and see the store as
// of the revision at which they opened: the store's revision only moves on
// at the end of a write transaction, and index lookups ignore revisions past
// the reader's, so a reader never sees part of a write transaction.
// Compaction compacts the index at once and deletes old revisions from the
// backend in a background goroutine, in batches, so it never stops writes
// for long.
//
// The watch layer hooks in through StoreConfig.OnTxnEnd.
package mvcc

import (
	"context"
	"errors"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

var (
	// ErrCompacted is returned when a requested revision has been compacted.
	ErrCompacted = errors.New("mvcc: required revision has been compacted")
	// ErrFutureRev is returned when a requested revision is after the
	// store's current revision.
	ErrFutureRev = errors.New("mvcc: required revision is a future revision")
)

// RangeOptions tunes a Range.
type RangeOptions struct {
	// Limit caps the number of returned KVs (<= 0: no limit).
	Limit int64
	// Rev is the revision to read at (<= 0: the view's revision).
	Rev int64
	// Count returns only the number of keys, no KVs.
	Count bool
}

// RangeResult is the result of a Range.
type RangeResult struct {
	// KVs are the key-values in key order (nil with RangeOptions.Count).
	KVs []*mvccpb.KeyValue
	// Rev is the revision of the view the range ran on (not ro.Rev).
	Rev int64
	// Count is the number of keys in the range, ignoring Limit.
	Count int
}

// ReadView reads the store at a fixed revision.
type ReadView interface {
	// FirstRev returns the compacted revision at the time the view opened
	// (-1 if the store has never been compacted, as etcd).
	FirstRev() int64
	// Rev returns the revision of the view.
	Rev() int64
	// Range returns the keys in [key, end) at revision ro.Rev.
	// end nil: key alone; end []byte{0} (or empty, non-nil): every key >=
	// key. ro.Rev <= 0 reads at Rev(); ro.Rev > Rev() gives ErrFutureRev;
	// 0 < ro.Rev < the compacted revision gives ErrCompacted (reading at the
	// compacted revision itself works). With ro.Count only Count is set.
	Range(ctx context.Context, key, end []byte, ro RangeOptions) (*RangeResult, error)
}

// TxnRead is a read transaction; End must be called when done.
type TxnRead interface {
	ReadView
	// End releases the transaction.
	End()
}

// WriteView changes the store.
type WriteView interface {
	// DeleteRange deletes the keys in [key, end) (same end conventions as
	// Range) and returns how many were deleted and the revision of the change
	// (the current revision if nothing changed).
	DeleteRange(key, end []byte) (n, rev int64)
	// Put stores key=value attached to lease (0: none) and returns the
	// revision of the change. key and value are kept (in Changes and the
	// OnTxnEnd hook); the caller must not modify them afterwards.
	Put(key, value []byte, lease int64) (rev int64)
}

// TxnWrite is a write transaction. Rev() is the revision before it; after
// End with changes the store is at Rev()+1. All changes share that main
// revision. Like etcd, reads and writes inside the transaction see its own
// earlier changes: once it has written, Range reads at Rev()+1 (a put is
// visible with ModRevision Rev()+1, a deleted key is gone), a second put of
// a key bumps the version of the first, and a put after a delete of the key
// starts a new generation. Readers outside the transaction see none of it
// until End, then all of it.
type TxnWrite interface {
	TxnRead
	WriteView
	// Changes returns the changes made so far, in order. A delete is
	// KeyValue{Key: key} (CreateRevision 0).
	Changes() []*mvccpb.KeyValue
}

// KV is the whole store.
type KV interface {
	ReadView
	WriteView

	// Read opens a read transaction at the current revision; it runs
	// concurrently with writes.
	Read() TxnRead
	// Write opens the write transaction; only one is open at a time (others
	// wait).
	Write() TxnWrite

	// Compact schedules a compaction at rev: it records "scheduledCompactRev"
	// in the meta bucket, compacts the in-memory index at once and returns a
	// channel closed once the compacted revisions are deleted from the
	// backend and "finishedCompactRev" is written (or the store is closed).
	// It returns ErrCompacted if rev <= the compacted revision (the channel
	// then closes when earlier compactions finish) and ErrFutureRev if rev >
	// the current revision.
	Compact(rev int64) (<-chan struct{}, error)

	// HashByRev computes etcd's HashKV at rev (0: current): CRC-32C over the
	// bucket name "key" followed by the revision keys and values of the
	// revisions in (compacted revision, rev], plus the revisions below that a
	// compaction at rev keeps.
	HashByRev(rev int64) (KeyValueHash, error)

	// Commit commits the backend now.
	Commit()
	// Close stops background work. It does not close the backend.
	Close() error
}

// KeyValueHash is the result of HashByRev.
type KeyValueHash struct {
	Hash            uint32
	CompactRevision int64
	Revision        int64
}
