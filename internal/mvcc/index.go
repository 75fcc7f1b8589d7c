package mvcc

import (
	"bytes"
	"sync"

	"github.com/google/btree"
)

// treeIndex maps keys to their keyIndex, ordered by key. Methods prefixed
// with unsafe require the caller to hold mu (read or write as appropriate).
type treeIndex struct {
	mu   sync.RWMutex
	tree *btree.BTreeG[*keyIndex]
}

func newTreeIndex() *treeIndex {
	return &treeIndex{tree: btree.NewG(32, func(a, b *keyIndex) bool { return a.less(b) })}
}

// isUnbounded reports whether end denotes "every key >= key": either
// []byte{0} (the client convention) or an empty non-nil slice (etcd's
// internal convention).
func isUnbounded(end []byte) bool {
	return end != nil && (len(end) == 0 || (len(end) == 1 && end[0] == 0))
}

func (ti *treeIndex) unsafeKeyIndex(key []byte) *keyIndex {
	ki, _ := ti.tree.Get(&keyIndex{key: key})
	return ki
}

func (ti *treeIndex) unsafeGet(key []byte, atRev int64) (modified, created Revision, ver int64, err error) {
	ki := ti.unsafeKeyIndex(key)
	if ki == nil {
		return Revision{}, Revision{}, 0, errRevisionNotFound
	}
	return ki.get(atRev)
}

// Get returns the revision, creation revision and version of key at atRev.
func (ti *treeIndex) Get(key []byte, atRev int64) (modified, created Revision, ver int64, err error) {
	ti.mu.RLock()
	defer ti.mu.RUnlock()
	return ti.unsafeGet(key, atRev)
}

// unsafeVisit calls f for each keyIndex in [key, end) (end nil: key alone is
// handled by the callers) until f returns false.
func (ti *treeIndex) unsafeVisit(key, end []byte, f func(ki *keyIndex) bool) {
	unbounded := isUnbounded(end)
	if !unbounded && bytes.Compare(key, end) >= 0 {
		return
	}
	ti.tree.AscendGreaterOrEqual(&keyIndex{key: key}, func(ki *keyIndex) bool {
		if !unbounded && bytes.Compare(ki.key, end) >= 0 {
			return false
		}
		return f(ki)
	})
}

// unsafeRevisions returns up to limit (<= 0: all) revisions of the keys in
// [key, end) live at atRev, in key order, and the total number of such keys.
func (ti *treeIndex) unsafeRevisions(key, end []byte, atRev int64, limit int) (revs []Revision, total int) {
	if end == nil {
		rev, _, _, err := ti.unsafeGet(key, atRev)
		if err != nil {
			return nil, 0
		}
		return []Revision{rev}, 1
	}
	ti.unsafeVisit(key, end, func(ki *keyIndex) bool {
		if rev, _, _, err := ki.get(atRev); err == nil {
			if limit <= 0 || len(revs) < limit {
				revs = append(revs, rev)
			}
			total++
		}
		return true
	})
	return revs, total
}

// unsafeCount returns the number of keys in [key, end) live at atRev.
func (ti *treeIndex) unsafeCount(key, end []byte, atRev int64) int {
	if end == nil {
		if _, _, _, err := ti.unsafeGet(key, atRev); err != nil {
			return 0
		}
		return 1
	}
	total := 0
	ti.unsafeVisit(key, end, func(ki *keyIndex) bool {
		if _, _, _, err := ki.get(atRev); err == nil {
			total++
		}
		return true
	})
	return total
}

// Range returns the keys in [key, end) live at atRev and their revisions.
func (ti *treeIndex) Range(key, end []byte, atRev int64) (keys [][]byte, revs []Revision) {
	ti.mu.RLock()
	defer ti.mu.RUnlock()
	if end == nil {
		rev, _, _, err := ti.unsafeGet(key, atRev)
		if err != nil {
			return nil, nil
		}
		return [][]byte{key}, []Revision{rev}
	}
	ti.unsafeVisit(key, end, func(ki *keyIndex) bool {
		if rev, _, _, err := ki.get(atRev); err == nil {
			keys = append(keys, ki.key)
			revs = append(revs, rev)
		}
		return true
	})
	return keys, revs
}

// unsafePut records a put of key at rev.
func (ti *treeIndex) unsafePut(key []byte, rev Revision) {
	if ki := ti.unsafeKeyIndex(key); ki != nil {
		ki.put(rev)
		return
	}
	ki := newKeyIndex(bytes.Clone(key)) // the index outlives the caller's buffer
	ki.put(rev)
	ti.tree.ReplaceOrInsert(ki)
}

// Put records a put of key at rev.
func (ti *treeIndex) Put(key []byte, rev Revision) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.unsafePut(key, rev)
}

// unsafeTombstone records a delete of key at rev.
func (ti *treeIndex) unsafeTombstone(key []byte, rev Revision) error {
	ki := ti.unsafeKeyIndex(key)
	if ki == nil {
		return errRevisionNotFound
	}
	return ki.tombstone(rev)
}

// Tombstone records a delete of key at rev.
func (ti *treeIndex) Tombstone(key []byte, rev Revision) error {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	return ti.unsafeTombstone(key, rev)
}

// Compact compacts every key at rev and returns the revisions <= rev that
// remain referenced (everything else <= rev can be deleted from the backend).
// It locks key by key so readers and writers are only paused briefly.
func (ti *treeIndex) Compact(rev int64) map[Revision]struct{} {
	available := make(map[Revision]struct{})
	ti.mu.Lock()
	clone := ti.tree.Clone()
	ti.mu.Unlock()
	clone.Ascend(func(ki *keyIndex) bool {
		ti.mu.Lock()
		ki.compact(rev, available)
		if ki.isEmpty() {
			ti.tree.Delete(ki)
		}
		ti.mu.Unlock()
		return true
	})
	return available
}

// Keep returns the revisions <= rev that a compaction at rev would keep,
// minus tombstones at exactly rev; HashKV uses it.
func (ti *treeIndex) Keep(rev int64) map[Revision]struct{} {
	available := make(map[Revision]struct{})
	ti.mu.RLock()
	defer ti.mu.RUnlock()
	ti.tree.Ascend(func(ki *keyIndex) bool {
		ki.keep(rev, available)
		return true
	})
	return available
}

// unsafeInsert adds ki (used while restoring).
func (ti *treeIndex) unsafeInsert(ki *keyIndex) { ti.tree.ReplaceOrInsert(ki) }

// Len returns the number of keys in the index (live or with history).
func (ti *treeIndex) Len() int {
	ti.mu.RLock()
	defer ti.mu.RUnlock()
	return ti.tree.Len()
}
