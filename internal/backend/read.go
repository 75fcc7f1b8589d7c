package backend

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
)

// readView is a ReadTx: a shared bolt read tx plus a frozen buffer snapshot.
type readView struct {
	sr       *sharedRead
	buf      bufView
	released bool
}

var _ ReadTx = (*readView)(nil)

func (v *readView) UnsafeRange(b Bucket, key, endKey []byte, limit int64) ([][]byte, [][]byte) {
	v.mustLive()
	bucket := string(b.Name)
	if endKey == nil {
		if len(key) == 0 {
			return nil, nil
		}
		if it, ok := v.buf.get(bucket, key); ok {
			if it.del {
				return nil, nil
			}
			return [][]byte{it.key}, [][]byte{it.val}
		}
		if v.buf.dropped(bucket) {
			return nil, nil
		}
		return getOne(v.sr.bucket(b.Name), key)
	}
	items := v.buf.collect(bucket, key, endKey, limit)
	var bb *bolt.Bucket
	if !v.buf.dropped(bucket) {
		bb = v.sr.bucket(b.Name)
	}
	return rangeCollect(bb, items, key, endKey, limit)
}

func (v *readView) UnsafeForEach(b Bucket, visitor func(k, val []byte) error) error {
	v.mustLive()
	bucket := string(b.Name)
	items := v.buf.collect(bucket, nil, nil, 0)
	var bb *bolt.Bucket
	if !v.buf.dropped(bucket) {
		bb = v.sr.bucket(b.Name)
	}
	var err error
	mergeRange(bb, items, nil, nil, func(k, val []byte) bool {
		err = visitor(k, val)
		return err == nil
	})
	return err
}

func (v *readView) Release() {
	if v.released {
		return
	}
	v.released = true
	v.sr.release()
	v.sr = nil
	v.buf = bufView{}
}

func (v *readView) mustLive() {
	if v.released {
		panic("backend: use of released ReadTx")
	}
}

// getOne looks key up in bb (which may be nil).
func getOne(bb *bolt.Bucket, key []byte) ([][]byte, [][]byte) {
	if bb == nil {
		return nil, nil
	}
	k, val := bb.Cursor().Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil, nil
	}
	return [][]byte{k}, [][]byte{val}
}

// rangeCollect gathers at most limit pairs of [key, end) from the merge of
// bb and the buffered items.
func rangeCollect(bb *bolt.Bucket, items []bufItem, key, end []byte, limit int64) ([][]byte, [][]byte) {
	var keys, vals [][]byte
	mergeRange(bb, items, key, end, func(k, val []byte) bool {
		keys = append(keys, k)
		vals = append(vals, val)
		return limit <= 0 || int64(len(keys)) < limit
	})
	return keys, vals
}

// mergeRange visits, in key order, the pairs of bolt bucket bb (may be nil)
// in [key, end) (key nil: from the first; end nil: to the last) overlaid with
// the buffered items (sorted, already restricted to the range): a buffered
// put replaces the committed value, a buffered delete hides it. It stops
// when visit returns false.
func mergeRange(bb *bolt.Bucket, items []bufItem, key, end []byte, visit func(k, v []byte) bool) {
	i := 0
	// flush emits buffered items with keys below upto (nil: all of them).
	flush := func(upto []byte) bool {
		for ; i < len(items); i++ {
			it := items[i]
			if upto != nil && bytes.Compare(it.key, upto) >= 0 {
				return true
			}
			if !it.del && !visit(it.key, it.val) {
				i++
				return false
			}
		}
		return true
	}
	if bb != nil {
		c := bb.Cursor()
		var k, val []byte
		if len(key) == 0 {
			k, val = c.First()
		} else {
			k, val = c.Seek(key)
		}
		for ; k != nil; k, val = c.Next() {
			if end != nil && bytes.Compare(k, end) >= 0 {
				break
			}
			if !flush(k) {
				return
			}
			if i < len(items) && bytes.Equal(items[i].key, k) {
				it := items[i]
				i++
				if !it.del && !visit(it.key, it.val) {
					return
				}
				continue
			}
			if !visit(k, val) {
				return
			}
		}
	}
	flush(nil)
}
