package mvcc

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// TestWriteTxnSeesOwnWrites checks etcd's read-your-writes inside a write
// txn: puts, deletes, a second put of a key and a put after a delete are
// visible to the txn's later Range, Count, Put and DeleteRange, while the
// txn's own view of earlier revisions and every other reader stay as they
// were; after End the store (and a restart of it) has exactly the txn's
// result.
func TestWriteTxnSeesOwnWrites(t *testing.T) {
	e := newTestEnv(t, StoreConfig{})
	s := e.s
	s.Put([]byte("a"), []byte("0"), 0) // rev 2
	s.Put([]byte("d"), []byte("0"), 0) // rev 3
	s.Put([]byte("r"), []byte("0"), 0) // rev 4

	// Fatal must not leave a txn open: the backend cannot close under one.
	before := s.Read()
	endBefore := sync.OnceFunc(before.End)
	t.Cleanup(endBefore)
	txn := s.Write()
	endTxn := sync.OnceFunc(txn.End)
	t.Cleanup(endTxn)
	if txn.Rev() != 4 {
		t.Fatalf("txn Rev = %d, want 4", txn.Rev())
	}
	steps := []struct {
		name string
		do   func()
		key  string
		end  string
		want string
	}{
		{"put existing", func() { txn.Put([]byte("a"), []byte("1"), 7) }, "a", "", "a=1@5/2/v2/l7"},
		{"second put of the same key", func() { txn.Put([]byte("a"), []byte("2"), 0) }, "a", "", "a=2@5/2/v3"},
		{"put new", func() { txn.Put([]byte("n"), []byte("1"), 0) }, "n", "", "n=1@5/5/v1"},
		{"delete existing", func() { txn.DeleteRange([]byte("d"), nil) }, "d", "", ""},
		{"put after delete", func() { txn.Put([]byte("d"), []byte("new"), 0) }, "d", "", "d=new@5/5/v1"},
		{"delete a key put in the txn", func() { txn.DeleteRange([]byte("n"), nil) }, "n", "", ""},
		{"delete then put then delete", func() { txn.DeleteRange([]byte("r"), nil) }, "r", "", ""},
		{"put again", func() { txn.Put([]byte("r"), []byte("1"), 0) }, "r", "", "r=1@5/5/v1"},
		{"whole range", func() {}, "\x00", "\x00", "a=2@5/2/v3 d=new@5/5/v1 r=1@5/5/v1"},
	}
	for _, st := range steps {
		st.do()
		r := mustRange(t, txn, st.key, st.end, RangeOptions{})
		if got := kvString(r.KVs); got != st.want || r.Rev != 5 {
			t.Fatalf("%s: txn range %q-%q = %q at %d, want %q at 5", st.name, st.key, st.end, got, r.Rev, st.want)
		}
		c := mustRange(t, txn, st.key, st.end, RangeOptions{Count: true})
		if c.Count != r.Count || c.Count != len(r.KVs) {
			t.Fatalf("%s: count %d, range count %d, %d kvs", st.name, c.Count, r.Count, len(r.KVs))
		}
	}
	// The deletes saw the txn's own puts: n was deleted once, d once; a
	// delete of keys that are all already deleted in the txn deletes none.
	if n, rev := txn.DeleteRange([]byte("n"), []byte("o")); n != 0 || rev != 5 {
		t.Fatalf("delete of a key deleted in the txn = %d,%d", n, rev)
	}
	if got := kvString(txn.Changes()); got != "a=1@5/2/v2/l7 a=2@5/2/v3 n=1@5/5/v1 d=@0/0/v0 d=new@5/5/v1 n=@0/0/v0 r=@0/0/v0 r=1@5/5/v1" {
		t.Fatalf("changes = %q", got)
	}
	// History below the txn's revision is unchanged, in the txn too.
	const old = "a=0@2/2/v1 d=0@3/3/v1 r=0@4/4/v1"
	if got := rangeString(t, txn, "\x00", "\x00", RangeOptions{Rev: 4}); got != old {
		t.Fatalf("txn range at 4 = %q, want %q", got, old)
	}
	// Readers opened before or during the txn see none of it.
	during := s.Read()
	endDuring := sync.OnceFunc(during.End)
	t.Cleanup(endDuring)
	for name, rd := range map[string]TxnRead{"before": before, "during": during} {
		if rd.Rev() != 4 {
			t.Fatalf("%s: reader rev %d, want 4", name, rd.Rev())
		}
		if got := rangeString(t, rd, "\x00", "\x00", RangeOptions{}); got != old {
			t.Fatalf("%s: reader sees %q, want %q", name, got, old)
		}
		if c := mustRange(t, rd, "\x00", "\x00", RangeOptions{Count: true}); c.Count != 3 {
			t.Fatalf("%s: reader count %d", name, c.Count)
		}
	}
	if got := rangeString(t, s, "\x00", "\x00", RangeOptions{}); got != old || s.Rev() != 4 {
		t.Fatalf("store during txn at %d: %q", s.Rev(), got)
	}
	endTxn()
	// The old readers keep their view; a new one sees all of the txn.
	if got := rangeString(t, during, "\x00", "\x00", RangeOptions{}); got != old {
		t.Fatalf("reader opened during the txn sees %q after End", got)
	}
	endDuring()
	endBefore()
	const want = "a=2@5/2/v3 d=new@5/5/v1 r=1@5/5/v1"
	if got := rangeString(t, s, "\x00", "\x00", RangeOptions{}); got != want || s.Rev() != 5 {
		t.Fatalf("after End at %d: %q, want %q", s.Rev(), got, want)
	}
	if got := bucketRevs(t, e.b); got != "2.0 3.0 4.0 5.0 5.1 5.2 5.3t 5.4 5.5t 5.6t 5.7" {
		t.Fatalf("bucket = %q", got)
	}
	// A later txn builds on the re-created keys' new generations.
	s.Put([]byte("d"), []byte("x"), 0)
	if got := rangeString(t, s, "d", "", RangeOptions{}); got != "d=x@6/5/v2" {
		t.Fatalf("d after another put: %q", got)
	}
	state := storeState(t, s)
	e.restart()
	if got := storeState(t, e.s); got != state {
		t.Fatalf("after restart:\n%s\nbefore:\n%s", got, state)
	}
}

// TestWriteTxnHashAndCompactionDuringTxn checks that index entries of an
// open write txn change neither HashByRev at the store's revision nor a
// compaction scheduled right after the txn.
func TestWriteTxnHashAndCompactionDuringTxn(t *testing.T) {
	e := newTestEnv(t, StoreConfig{CompactionBatchLimit: 2})
	s := e.s
	s.Put([]byte("a"), []byte("0"), 0)
	s.Put([]byte("b"), []byte("0"), 0)
	s.DeleteRange([]byte("b"), nil) // rev 4: tombstone at the store's revision
	rev := s.Rev()

	txn := s.Write()
	txn.DeleteRange([]byte("a"), nil)
	txn.Put([]byte("b"), []byte("1"), 0)
	txn.Put([]byte("a"), []byte("1"), 0)
	during := mustHash(t, s, 0)
	txn.End()
	if after := mustHash(t, s, rev); after != during {
		t.Fatalf("hash at %d during the txn %+v, after it %+v", rev, during, after)
	}
	done, err := s.Compact(rev)
	if err != nil {
		t.Fatal(err)
	}
	<-done
	if got := rangeString(t, s, "\x00", "\x00", RangeOptions{}); got != "a=1@5/5/v1 b=1@5/5/v1" {
		t.Fatalf("after compaction: %q", got)
	}
	if got := rangeString(t, s, "\x00", "\x00", RangeOptions{Rev: rev}); got != "a=0@2/2/v1" {
		t.Fatalf("at the compacted revision: %q", got)
	}
	state := storeState(t, s)
	e.restart()
	if got := storeState(t, e.s); got != state {
		t.Fatalf("after restart:\n%s\nbefore:\n%s", got, state)
	}
}

// TestReadersNeverSeePartialTxn runs a writer whose txns each rewrite every
// key of a set (checking its own writes as it goes, and yielding between
// puts) against readers that open at any time: a reader must see every key
// at its revision, with one value, never part of a txn. Run with -race.
func TestReadersNeverSeePartialTxn(t *testing.T) {
	e := newTestEnv(t, StoreConfig{CompactionBatchLimit: 3})
	s := e.s
	const keys, txns = 8, 300
	key := func(i int) []byte { return fmt.Appendf(nil, "k%d", i) }
	txn := s.Write()
	for i := range keys {
		txn.Put(key(i), []byte("init"), 0)
	}
	txn.End()

	check := func(rd ReadView) error {
		r, err := rd.Range(context.Background(), []byte("k"), []byte("l"), RangeOptions{})
		if errors.Is(err, ErrCompacted) && rd.Rev() < s.Rev() {
			return nil // a slow reader overtaken by the compactor
		}
		if err != nil {
			return err
		}
		if len(r.KVs) != keys || r.Count != keys {
			return fmt.Errorf("reader at %d sees %d keys (count %d): %s", rd.Rev(), len(r.KVs), r.Count, kvString(r.KVs))
		}
		for _, kv := range r.KVs {
			if kv.ModRevision != rd.Rev() || string(kv.Value) != string(r.KVs[0].Value) {
				return fmt.Errorf("reader at %d sees part of a txn: %s", rd.Rev(), kvString(r.KVs))
			}
		}
		return nil
	}

	stop := make(chan struct{})
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(stop)
		for n := range txns {
			v := fmt.Appendf(nil, "v%d", n)
			txn := s.Write()
			next := txn.Rev() + 1
			for i := range keys {
				if n%3 == 0 && i%2 == 0 {
					// Delete then re-create: readers must not see the gap.
					txn.DeleteRange(key(i), nil)
				}
				txn.Put(key(i), v, 0)
				r, err := txn.Range(context.Background(), key(i), nil, RangeOptions{})
				if err != nil || len(r.KVs) != 1 || string(r.KVs[0].Value) != string(v) || r.KVs[0].ModRevision != next {
					errc <- fmt.Errorf("txn %d does not see its put of %s: %v %v", n, key(i), r, err)
					txn.End()
					return
				}
				runtime.Gosched()
			}
			txn.End()
		}
	}()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				rd := s.Read()
				err := check(rd)
				runtime.Gosched()
				if err == nil {
					err = check(rd) // still the same view later on
				}
				rd.End()
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		compactAndHashUntil(s, 5, stop, func(err error) { errc <- err })
	}()
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if s.Rev() != txns+2 {
		t.Fatalf("rev = %d, want %d", s.Rev(), txns+2)
	}
	// A reader opened after the last End sees all of it.
	rd := s.Read()
	defer rd.End()
	if err := check(rd); err != nil {
		t.Fatal(err)
	}
	if got := string(mustRange(t, rd, "k0", "", RangeOptions{}).KVs[0].Value); got != fmt.Sprintf("v%d", txns-1) {
		t.Fatalf("k0 = %q after the last txn", got)
	}
}
