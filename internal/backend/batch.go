package backend

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// opCost estimates the bytes a write may add to the file at commit: the
// data plus a few dirtied pages (leaf and branches).
const opCostPages = 4

// batchTx wraps the long-lived bolt write transaction.
type batchTx struct {
	be *backend
	mu sync.Mutex

	tx  *bolt.Tx
	ops []bufOp // writes of the current Lock section, published at Unlock

	// pending counts writes since the last commit; costEstimate bounds the
	// bytes they may allocate at commit. Both are written under mu.
	pending      atomic.Int64
	costEstimate int64
}

var _ BatchTx = (*batchTx)(nil)

func (t *batchTx) Lock() { t.mu.Lock() }

// Unlock publishes the section's writes to the read buffer and, past the
// batch limit, wakes the committer (never commits here: see CommitGate).
func (t *batchTx) Unlock() {
	t.publish()
	over := t.pending.Load() >= int64(t.be.cfg.BatchLimit)
	t.mu.Unlock()
	if over {
		select {
		case t.be.commitC <- struct{}{}:
		default:
		}
	}
}

// publish moves the recorded ops into the shared buffer. Caller holds mu.
func (t *batchTx) publish() {
	if len(t.ops) == 0 {
		return
	}
	t.be.publish(t.ops)
	clear(t.ops)
	t.ops = t.ops[:0]
}

func (t *batchTx) record(kind opKind, b Bucket, key, val []byte) {
	t.ops = append(t.ops, bufOp{kind: kind, bucket: string(b.Name), key: key, val: val})
	t.pending.Add(1)
	t.costEstimate += int64(len(key)+len(val)) + opCostPages*int64(t.be.pageSize)
}

func (t *batchTx) mustTx() *bolt.Tx {
	if t.tx == nil {
		panic("backend: batch tx used after Close")
	}
	return t.tx
}

func (t *batchTx) UnsafeCreateBucket(b Bucket) {
	if _, err := t.mustTx().CreateBucketIfNotExists(b.Name); err != nil {
		panic(fmt.Sprintf("backend: create bucket %q: %v", b.Name, err))
	}
	t.pending.Add(1)
}

func (t *batchTx) UnsafeDeleteBucket(b Bucket) {
	err := t.mustTx().DeleteBucket(b.Name)
	if err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
		panic(fmt.Sprintf("backend: delete bucket %q: %v", b.Name, err))
	}
	t.record(opDropBucket, b, nil, nil)
}

func (t *batchTx) UnsafePut(b Bucket, key, value []byte) { t.put(b, key, value, false) }

func (t *batchTx) UnsafeSeqPut(b Bucket, key, value []byte) { t.put(b, key, value, true) }

func (t *batchTx) put(b Bucket, key, value []byte, seq bool) {
	bb := t.mustTx().Bucket(b.Name)
	if bb == nil {
		panic(fmt.Sprintf("backend: put into missing bucket %q", b.Name))
	}
	if seq {
		// Keys arrive in order: split pages at 90% instead of 50%.
		bb.FillPercent = 0.9
	}
	// bolt needs key and value to stay valid until commit; the buffer keeps
	// them too. One copy serves both.
	kv := make([]byte, len(key)+len(value))
	copy(kv, key)
	copy(kv[len(key):], value)
	k, v := kv[:len(key):len(key)], kv[len(key):]
	if err := bb.Put(k, v); err != nil {
		panic(fmt.Sprintf("backend: put into bucket %q: %v", b.Name, err))
	}
	t.record(opPut, b, k, v)
}

func (t *batchTx) UnsafeDelete(b Bucket, key []byte) {
	bb := t.mustTx().Bucket(b.Name)
	if bb == nil {
		return
	}
	k := append([]byte(nil), key...)
	if err := bb.Delete(k); err != nil {
		panic(fmt.Sprintf("backend: delete from bucket %q: %v", b.Name, err))
	}
	t.record(opDelete, b, k, nil)
}

// UnsafeRange reads the write transaction, which sees every write of the
// batch. Returned slices are valid until the next write or Unlock.
func (t *batchTx) UnsafeRange(b Bucket, key, endKey []byte, limit int64) ([][]byte, [][]byte) {
	bb := t.mustTx().Bucket(b.Name)
	if endKey == nil {
		if len(key) == 0 {
			return nil, nil
		}
		return getOne(bb, key)
	}
	if bb == nil {
		return nil, nil
	}
	return rangeCollect(bb, nil, key, endKey, limit)
}

// UnsafeForEach visits copies of the pairs, so visitor may write to the
// bucket (etcd's membership trimming deletes while iterating).
func (t *batchTx) UnsafeForEach(b Bucket, visitor func(k, v []byte) error) error {
	bb := t.mustTx().Bucket(b.Name)
	if bb == nil {
		return nil
	}
	var keys, vals [][]byte
	mergeRange(bb, nil, nil, nil, func(k, v []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		vals = append(vals, append([]byte(nil), v...))
		return true
	})
	for i := range keys {
		if err := visitor(keys[i], vals[i]); err != nil {
			return err
		}
	}
	return nil
}

func (t *batchTx) Commit() { t.be.ForceCommit() }
