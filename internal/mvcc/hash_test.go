package mvcc

import (
	"errors"
	"fmt"
	"hash/crc32"
	"testing"
	"time"
)

// applyHistory writes a fixed history touching puts, overwrites, deletes,
// re-creations and multi-change txns; it ends at revision 1+n txns.
func applyHistory(s *Store) {
	for i := range 20 {
		k := []byte(fmt.Sprintf("key-%d", i%5))
		switch {
		case i%7 == 3:
			s.DeleteRange(k, nil)
		case i%6 == 5:
			txn := s.Write()
			txn.Put(k, fmt.Appendf(nil, "txn-%d", i), 0)
			txn.Put([]byte("txn-key"), fmt.Appendf(nil, "%d", i), int64(i))
			txn.End()
		default:
			s.Put(k, fmt.Appendf(nil, "v%d", i), 0)
		}
	}
}

func mustHash(t *testing.T, s *Store, rev int64) KeyValueHash {
	t.Helper()
	h, err := s.HashByRev(rev)
	if err != nil {
		t.Fatalf("HashByRev(%d): %v", rev, err)
	}
	return h
}

// TestHashByRevFormat recomputes etcd's HashKV by hand for a tiny history:
// CRC-32C of "key", then revision key and protobuf value of each revision.
func TestHashByRevFormat(t *testing.T) {
	e := newTestEnv(t, StoreConfig{})
	e.s.Put([]byte("foo"), []byte("bar"), 0)
	e.s.DeleteRange([]byte("foo"), nil)
	crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	crc.Write([]byte("key"))
	crc.Write([]byte{0, 0, 0, 0, 0, 0, 0, 2, '_', 0, 0, 0, 0, 0, 0, 0, 0})
	crc.Write([]byte{0x0a, 3, 'f', 'o', 'o', 0x10, 2, 0x18, 2, 0x20, 1, 0x2a, 3, 'b', 'a', 'r'})
	atTwo := crc.Sum32()
	crc.Write([]byte{0, 0, 0, 0, 0, 0, 0, 3, '_', 0, 0, 0, 0, 0, 0, 0, 0, 't'})
	crc.Write([]byte{0x0a, 3, 'f', 'o', 'o'})
	atThree := crc.Sum32()

	if h := mustHash(t, e.s, 0); h != (KeyValueHash{Hash: atThree, CompactRevision: -1, Revision: 3}) {
		t.Fatalf("hash at current = %+v, want %x", h, atThree)
	}
	if h := mustHash(t, e.s, 2); h != (KeyValueHash{Hash: atTwo, CompactRevision: -1, Revision: 2}) {
		t.Fatalf("hash at 2 = %+v, want %x", h, atTwo)
	}
	if _, err := e.s.HashByRev(4); !errors.Is(err, ErrFutureRev) {
		t.Fatalf("future: %v", err)
	}
}

func TestHashByRevSameHistoryAndChanges(t *testing.T) {
	a := newTestEnv(t, StoreConfig{})
	b := newTestEnv(t, StoreConfig{})
	applyHistory(a.s)
	applyHistory(b.s)
	if a.s.Rev() != b.s.Rev() {
		t.Fatalf("revs differ: %d %d", a.s.Rev(), b.s.Rev())
	}
	hashes := map[uint32]int64{}
	for rev := int64(1); rev <= a.s.Rev(); rev++ {
		ha, hb := mustHash(t, a.s, rev), mustHash(t, b.s, rev)
		if ha != hb {
			t.Fatalf("hash at %d differs: %+v %+v", rev, ha, hb)
		}
		if prev, dup := hashes[ha.Hash]; dup {
			t.Fatalf("hash at %d equals hash at %d", rev, prev)
		}
		hashes[ha.Hash] = rev
	}
	before := mustHash(t, a.s, 0)
	a.s.Put([]byte("new"), []byte("x"), 0)
	if after := mustHash(t, a.s, 0); after.Hash == before.Hash || after.Revision != before.Revision+1 {
		t.Fatalf("write did not change the hash: %+v -> %+v", before, after)
	}
	// The hash at an older revision ignores later writes.
	if h := mustHash(t, a.s, before.Revision); h != before {
		t.Fatalf("hash at %d changed after a later write: %+v -> %+v", before.Revision, before, h)
	}
	// Restart keeps every hash.
	a.restart()
	if h := mustHash(t, a.s, before.Revision); h != before {
		t.Fatalf("hash at %d changed across restart: %+v -> %+v", before.Revision, before, h)
	}
}

// TestHashByRevCompaction checks what etcd's HashKV guarantees around a
// compaction: members that compacted at the same revision agree whether or
// not the deletion has finished, and the hash a compaction computes equals
// the hash of a never-compacted member at that revision.
func TestHashByRevCompaction(t *testing.T) {
	done := newTestEnv(t, StoreConfig{CompactionBatchLimit: 3})
	paused := newTestEnv(t, StoreConfig{CompactionBatchLimit: 3, CompactionSleepInterval: time.Hour})
	never := newTestEnv(t, StoreConfig{})
	for _, e := range []*testEnv{done, paused, never} {
		applyHistory(e.s)
	}
	const compactRev = 12
	wantAtCompact := mustHash(t, never.s, compactRev)

	ch, err := done.s.Compact(compactRev)
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	if _, err := paused.s.Compact(compactRev); err != nil {
		t.Fatal(err)
	}
	before := bucketRevs(t, done.b)
	if during := bucketRevs(t, paused.b); during == before {
		t.Fatal("paused compaction deleted everything at once")
	}

	// At the compaction revision: the hash the compaction computed, which
	// covers every revision up to it.
	if h := mustHash(t, done.s, compactRev); h.Hash != wantAtCompact.Hash || h.CompactRevision != -1 || h.Revision != compactRev {
		t.Fatalf("hash at compaction = %+v, never-compacted member %+v", h, wantAtCompact)
	}
	for rev := int64(compactRev); rev <= done.s.Rev(); rev++ {
		hd := mustHash(t, done.s, rev)
		if rev == compactRev {
			// The paused member has no stored hash yet; it computes one
			// with the current compacted revision.
			hd, err = done.s.hashByRevNoCache(rev)
			if err != nil {
				t.Fatal(err)
			}
		}
		hp := mustHash(t, paused.s, rev)
		if hd != hp {
			t.Fatalf("hash at %d: finished compaction %+v, unfinished %+v", rev, hd, hp)
		}
		if hd.CompactRevision != compactRev {
			t.Fatalf("hash at %d: compact revision %d", rev, hd.CompactRevision)
		}
	}
	if _, err := done.s.HashByRev(compactRev - 1); !errors.Is(err, ErrCompacted) {
		t.Fatalf("hash below compaction: %v", err)
	}
	// And it survives a restart of the finished member.
	h := mustHash(t, done.s, 0)
	done.restart()
	if h2 := mustHash(t, done.s, 0); h2 != h {
		t.Fatalf("hash after restart %+v, before %+v", h2, h)
	}
}

// TestHashesListsCompactionHashes checks the hashes a leader's compaction
// hash check reads: one per finished compaction, oldest first, each equal
// to the hash a member that has not compacted there yet computes at that
// revision, and no more than hashStorageMaxSize of them.
func TestHashesListsCompactionHashes(t *testing.T) {
	e := newTestEnv(t, StoreConfig{CompactionBatchLimit: 3})
	lagging := newTestEnv(t, StoreConfig{CompactionBatchLimit: 3})
	applyHistory(e.s)
	applyHistory(lagging.s)
	if got := e.s.Hashes(); len(got) != 0 {
		t.Fatalf("hashes before any compaction: %+v", got)
	}
	compact := func(s *Store, rev int64) {
		t.Helper()
		ch, err := s.Compact(rev)
		if err != nil {
			t.Fatalf("compact %d: %v", rev, err)
		}
		<-ch
	}
	wantFirst := mustHash(t, lagging.s, 5)
	compact(e.s, 5)
	compact(lagging.s, 5)
	wantSecond, err := lagging.s.hashByRevNoCache(12)
	if err != nil {
		t.Fatal(err)
	}
	compact(e.s, 12)
	got := e.s.Hashes()
	if len(got) != 2 || got[0] != wantFirst || got[1] != wantSecond {
		t.Fatalf("hashes %+v, want [%+v %+v]", got, wantFirst, wantSecond)
	}
	if got[1].CompactRevision != 5 || got[1].Revision != 12 {
		t.Fatalf("second hash covers (%d, %d], want (5, 12]", got[1].CompactRevision, got[1].Revision)
	}
	// The caller's copy is its own.
	got[0].Hash++
	if e.s.Hashes()[0] != wantFirst {
		t.Fatal("Hashes returned the store's own slice")
	}

	for i := range hashStorageMaxSize + 3 {
		e.s.Put([]byte("more"), fmt.Appendf(nil, "%d", i), 0)
		compact(e.s, e.s.Rev())
	}
	got = e.s.Hashes()
	if len(got) != hashStorageMaxSize || got[len(got)-1].Revision != e.s.Rev() {
		t.Fatalf("after %d more compactions: %d hashes, last at %d, want %d, last at %d",
			hashStorageMaxSize+3, len(got), got[len(got)-1].Revision, hashStorageMaxSize, e.s.Rev())
	}
	for i := 1; i < len(got); i++ {
		if got[i].Revision <= got[i-1].Revision {
			t.Fatalf("hashes not in revision order: %+v", got)
		}
	}
}
