package mvcc

import (
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"sort"
	"sync"

	"github.com/etcdgo/etcd/internal/schema"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// kvHasher computes etcd's HashKV: CRC-32C of the bucket name "key", then
// of each revision key and value (in bucket order) with main revision <=
// revision, skipping those <= compactRevision that keep does not list
// (unless keep is empty).
type kvHasher struct {
	h               hash.Hash32
	compactRevision int64
	revision        int64
	keep            map[Revision]struct{}
}

func newKVHasher(compactRev, rev int64, keep map[Revision]struct{}) *kvHasher {
	h := crc32.New(castagnoli)
	h.Write(schema.Key.Name)
	return &kvHasher{h: h, compactRevision: compactRev, revision: rev, keep: keep}
}

func (k *kvHasher) writeKeyValue(key, val []byte) {
	r := Revision(schema.BytesToRev(key))
	if r.Main > k.revision {
		return
	}
	// Revisions scheduled for deletion by the compaction are skipped
	// whether or not the backend has deleted them yet.
	if r.Main <= k.compactRevision && len(k.keep) > 0 {
		if _, ok := k.keep[r]; !ok {
			return
		}
	}
	k.h.Write(key)
	k.h.Write(val)
}

func (k *kvHasher) hash() KeyValueHash {
	return KeyValueHash{Hash: k.h.Sum32(), CompactRevision: k.compactRevision, Revision: k.revision}
}

// hashStorageMaxSize is how many compaction hashes are remembered.
const hashStorageMaxSize = 10

// hashStorage remembers the hashes computed by the last compactions, which
// HashByRev returns for their revision (as etcd does, for its corruption
// check).
type hashStorage struct {
	mu     sync.Mutex
	hashes []KeyValueHash
}

func (hs *hashStorage) store(h KeyValueHash) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	hs.hashes = append(hs.hashes, h)
	sort.Slice(hs.hashes, func(i, j int) bool { return hs.hashes[i].Revision < hs.hashes[j].Revision })
	if len(hs.hashes) > hashStorageMaxSize {
		hs.hashes = hs.hashes[len(hs.hashes)-hashStorageMaxSize:]
	}
}

func (hs *hashStorage) reset() {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	hs.hashes = nil
}

// list returns a copy of the remembered hashes, oldest revision first.
func (hs *hashStorage) list() []KeyValueHash {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return append([]KeyValueHash(nil), hs.hashes...)
}

func (hs *hashStorage) get(rev int64) (KeyValueHash, bool) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	for _, h := range hs.hashes {
		if h.Revision == rev {
			return h, true
		}
	}
	return KeyValueHash{}, false
}

// HashByRev computes etcd's HashKV at rev (0: current); see KV.HashByRev.
// It returns ErrCompacted if rev < the compacted revision and ErrFutureRev
// if rev > the current revision. A hash that a compaction computed at
// exactly rev is returned as is (its CompactRevision is the compaction
// before it), like etcd's hash storage.
func (s *Store) HashByRev(rev int64) (KeyValueHash, error) {
	if h, ok := s.hashes.get(rev); ok && rev > 0 {
		return h, nil
	}
	return s.hashByRevNoCache(rev)
}

// Hashes returns the hashes the last compactions computed (at most 10),
// oldest revision first: each covers the revisions (CompactRevision,
// Revision] as the compaction at Revision found them. Only compactions
// whose predecessor had finished store one (etcd #15919), and a restore
// forgets them all. The leader's compaction hash check compares them with
// the other members' hashes at the same revisions.
func (s *Store) Hashes() []KeyValueHash {
	return s.hashes.list()
}

// hashRetries bounds how often HashByRev starts over because a compaction
// was scheduled while it set up.
const hashRetries = 100

// hashByRevNoCache computes the hash at rev from the backend.
func (s *Store) hashByRevNoCache(rev int64) (KeyValueHash, error) {
	s.restoreMu.RLock()
	defer s.restoreMu.RUnlock()
	for range hashRetries {
		compactRev := s.compactMainRev.Load()
		currentRev := s.currentRev.Load()
		if rev > 0 && rev < compactRev {
			return KeyValueHash{}, ErrCompacted
		}
		if rev > currentRev {
			return KeyValueHash{}, ErrFutureRev
		}
		at := rev
		if at <= 0 {
			at = currentRev
		}
		keep := s.kvindex.Keep(at)
		tx := s.b.ReadTx()
		if s.compactMainRev.Load() != compactRev {
			// A compaction started meanwhile and may already have deleted
			// revisions this hash needs; start over.
			tx.Release()
			continue
		}
		hasher := newKVHasher(compactRev, at, keep)
		err := tx.UnsafeForEach(schema.Key, func(k, v []byte) error {
			hasher.writeKeyValue(k, v)
			return nil
		})
		tx.Release()
		if err != nil {
			return KeyValueHash{}, fmt.Errorf("mvcc: hash: %w", err)
		}
		return hasher.hash(), nil
	}
	return KeyValueHash{}, errors.New("mvcc: hash: compactions kept interrupting the computation")
}
