package backend

import (
	"bytes"

	"github.com/google/btree"
)

// bufItem is one entry of the write buffer: the latest write of a key in the
// current batch. An item with an empty key (bolt keys are never empty) marks
// a bucket dropped in this batch: the committed contents of that bucket are
// hidden from views.
type bufItem struct {
	bucket string
	key    []byte
	val    []byte
	del    bool
}

func bufLess(a, b bufItem) bool {
	if a.bucket != b.bucket {
		return a.bucket < b.bucket
	}
	return bytes.Compare(a.key, b.key) < 0
}

const bufDegree = 16

func newBufTree() *btree.BTreeG[bufItem] {
	return btree.NewG(bufDegree, bufLess)
}

type opKind uint8

const (
	opPut opKind = iota
	opDelete
	opDropBucket
)

// bufOp is a write recorded while the batch tx is locked, published to the
// shared buffer at Unlock.
type bufOp struct {
	kind   opKind
	bucket string
	key    []byte
	val    []byte
}

// apply applies op to the buffer tree t.
func applyOp(t *btree.BTreeG[bufItem], op bufOp) {
	switch op.kind {
	case opPut:
		t.ReplaceOrInsert(bufItem{bucket: op.bucket, key: op.key, val: op.val})
	case opDelete:
		t.ReplaceOrInsert(bufItem{bucket: op.bucket, key: op.key, del: true})
	case opDropBucket:
		var doomed []bufItem
		t.AscendGreaterOrEqual(bufItem{bucket: op.bucket}, func(it bufItem) bool {
			if it.bucket != op.bucket {
				return false
			}
			doomed = append(doomed, it)
			return true
		})
		for _, it := range doomed {
			t.Delete(it)
		}
		t.ReplaceOrInsert(bufItem{bucket: op.bucket, key: nil, del: true})
	}
}

// bufView is a frozen snapshot of the buffer, read by one view.
type bufView struct {
	t *btree.BTreeG[bufItem]
}

// dropped reports whether bucket was dropped in this batch.
func (v bufView) dropped(bucket string) bool {
	if v.t == nil {
		return false
	}
	it, ok := v.t.Get(bufItem{bucket: bucket})
	return ok && len(it.key) == 0
}

// get returns the buffered entry for key, if any.
func (v bufView) get(bucket string, key []byte) (bufItem, bool) {
	if v.t == nil {
		return bufItem{}, false
	}
	return v.t.Get(bufItem{bucket: bucket, key: key})
}

// collect returns buffered entries of bucket in [key, end) (end nil: to the
// end of the bucket), stopping after maxPuts puts (maxPuts <= 0: no limit).
func (v bufView) collect(bucket string, key, end []byte, maxPuts int64) []bufItem {
	if v.t == nil || v.t.Len() == 0 {
		return nil
	}
	var out []bufItem
	var puts int64
	start := bufItem{bucket: bucket, key: key}
	v.t.AscendGreaterOrEqual(start, func(it bufItem) bool {
		if it.bucket != bucket || (end != nil && bytes.Compare(it.key, end) >= 0) {
			return false
		}
		if len(it.key) == 0 {
			return true // drop marker
		}
		out = append(out, it)
		if !it.del {
			puts++
			if maxPuts > 0 && puts >= maxPuts {
				return false
			}
		}
		return true
	})
	return out
}
