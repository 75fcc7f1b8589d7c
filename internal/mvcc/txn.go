package mvcc

import (
	"context"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/schema"
)

// Read opens a read transaction at the current revision. It never blocks on
// writers.
func (s *Store) Read() TxnRead {
	s.restoreMu.RLock()
	// Load the revision before taking the view: everything up to rev was
	// published to the backend's views before rev was stored.
	rev := s.currentRev.Load()
	first := s.compactMainRev.Load()
	return &readTxn{s: s, tx: s.b.ReadTx(), firstRev: first, rev: rev}
}

type readTxn struct {
	s        *Store
	tx       backend.ReadTx
	firstRev int64
	rev      int64
}

func (t *readTxn) FirstRev() int64 { return t.firstRev }
func (t *readTxn) Rev() int64      { return t.rev }

func (t *readTxn) Range(ctx context.Context, key, end []byte, ro RangeOptions) (*RangeResult, error) {
	return t.s.rangeKeys(ctx, t.tx, key, end, t.rev, ro)
}

func (t *readTxn) End() {
	t.tx.Release()
	t.s.restoreMu.RUnlock()
}

// rangeKeys looks the revisions up in the index and reads their values
// through r. curRev is the revision of the view.
func (s *Store) rangeKeys(ctx context.Context, r backend.UnsafeReader, key, end []byte, curRev int64, ro RangeOptions) (*RangeResult, error) {
	rev := ro.Rev
	if rev > curRev {
		return &RangeResult{Rev: curRev, Count: -1}, ErrFutureRev
	}
	if rev <= 0 {
		rev = curRev
	}
	// The compaction check and the index lookup happen under one index read
	// lock: a compaction stores its revision before it compacts the index, so
	// either we see the new compacted revision or the index is not yet
	// compacted past rev.
	s.kvindex.mu.RLock()
	if rev < s.compactMainRev.Load() {
		s.kvindex.mu.RUnlock()
		return &RangeResult{Count: -1}, ErrCompacted
	}
	if ro.Count {
		total := s.kvindex.unsafeCount(key, end, rev)
		s.kvindex.mu.RUnlock()
		return &RangeResult{Rev: curRev, Count: total}, nil
	}
	revs, total := s.kvindex.unsafeRevisions(key, end, rev, int(ro.Limit))
	s.kvindex.mu.RUnlock()

	res := &RangeResult{Rev: curRev, Count: total}
	if len(revs) == 0 {
		return res, nil
	}
	res.KVs = make([]*mvccpb.KeyValue, len(revs))
	for i, rv := range revs {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("mvcc: range: %w", err)
			}
		}
		_, vals := r.UnsafeRange(schema.Key, schema.RevToBytes(schema.Revision(rv), false), nil, 0)
		if len(vals) != 1 {
			return nil, fmt.Errorf("mvcc: range: revision %s of the index is missing from the backend (view %d, read at %d)", rv, curRev, rev)
		}
		kv := &mvccpb.KeyValue{}
		if err := proto.Unmarshal(vals[0], kv); err != nil {
			return nil, fmt.Errorf("mvcc: range: unmarshal revision %s: %w", rv, err)
		}
		res.KVs[i] = kv
	}
	return res, nil
}

// Write opens the write transaction, waiting for the previous one to end.
func (s *Store) Write() TxnWrite {
	s.writeMu.Lock()
	tx := s.b.BatchTx()
	tx.Lock()
	return &writeTxn{
		s:        s,
		tx:       tx,
		firstRev: s.compactMainRev.Load(),
		beginRev: s.currentRev.Load(),
		changes:  make([]*mvccpb.KeyValue, 0, 4),
	}
}

type writeTxn struct {
	s        *Store
	tx       backend.BatchTx
	firstRev int64
	// beginRev is the revision before the transaction; it writes at
	// beginRev+1.
	beginRev int64
	changes  []*mvccpb.KeyValue
}

func (t *writeTxn) FirstRev() int64 { return t.firstRev }
func (t *writeTxn) Rev() int64      { return t.beginRev }

func (t *writeTxn) Changes() []*mvccpb.KeyValue { return t.changes }

// Range reads through the batch tx, which sees the txn's own writes, at
// Rev()+1 once the txn has written (its changes are in the index at that
// revision), at Rev() before.
func (t *writeTxn) Range(ctx context.Context, key, end []byte, ro RangeOptions) (*RangeResult, error) {
	rev := t.beginRev
	if len(t.changes) > 0 {
		rev++
	}
	return t.s.rangeKeys(ctx, t.tx, key, end, rev, ro)
}

// Put writes key=value at the txn's revision. Like etcd, the index is
// updated at once, so later reads and writes of this txn see the put; other
// readers do not, since they read at a revision below the txn's.
func (t *writeTxn) Put(key, value []byte, lease int64) int64 {
	rev := t.beginRev + 1
	created := rev
	// Read at rev: an earlier put or delete of key in this txn counts.
	_, c, ver, err := t.s.kvindex.Get(key, rev)
	if err == nil {
		created = c.Main
	}
	kv := &mvccpb.KeyValue{
		Key:            key,
		Value:          value,
		CreateRevision: created,
		ModRevision:    rev,
		Version:        ver + 1,
		Lease:          lease,
	}
	idx := Revision{Main: rev, Sub: int64(len(t.changes))}
	t.tx.UnsafeSeqPut(schema.Key, schema.RevToBytes(schema.Revision(idx), false), marshalKV(kv))
	t.s.kvindex.Put(key, idx)
	t.changes = append(t.changes, kv)
	return rev
}

// DeleteRange deletes the keys of [key, end) live in the txn's view (its
// own puts included) and tombstones them in the index at once, as Put does.
func (t *writeTxn) DeleteRange(key, end []byte) (n, rev int64) {
	rrev := t.beginRev
	if len(t.changes) > 0 {
		rrev++
	}
	keys, _ := t.s.kvindex.Range(key, end, rrev)
	for _, k := range keys {
		kv := &mvccpb.KeyValue{Key: k}
		idx := Revision{Main: t.beginRev + 1, Sub: int64(len(t.changes))}
		t.tx.UnsafeSeqPut(schema.Key, schema.RevToBytes(schema.Revision(idx), true), marshalKV(kv))
		if err := t.s.kvindex.Tombstone(k, idx); err != nil {
			panic(fmt.Sprintf("mvcc: tombstone of key %q at %s: %v", k, idx, err))
		}
		t.changes = append(t.changes, kv)
	}
	if len(keys) != 0 || len(t.changes) > 0 {
		return int64(len(keys)), t.beginRev + 1
	}
	return 0, t.beginRev
}

// End publishes the transaction's changes: the backend's views see the new
// revision, the store's revision moves on and the OnTxnEnd hook runs, in
// that order. The index already holds the changes (Put and DeleteRange
// update it), but no reader looks past the store's revision, so they become
// visible to readers all at once, when the revision moves on.
func (t *writeTxn) End() {
	s := t.s
	if len(t.changes) == 0 {
		t.tx.Unlock()
		s.writeMu.Unlock()
		return
	}
	rev := t.beginRev + 1
	// Unlock publishes the writes to new read views; only then may readers
	// learn the new revision.
	t.tx.Unlock()
	s.currentRev.Store(rev)
	if s.cfg.OnTxnEnd != nil {
		for _, kv := range t.changes {
			if kv.CreateRevision == 0 {
				kv.ModRevision = rev
			}
		}
		s.cfg.OnTxnEnd(rev, t.changes)
	}
	s.writeMu.Unlock()
}
