package mvcc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/schema"
)

type testEnv struct {
	t    testing.TB
	path string
	cfg  StoreConfig
	b    backend.Backend
	s    *Store
}

func newTestEnv(t *testing.T, cfg StoreConfig) *testEnv {
	t.Helper()
	e := &testEnv{t: t, path: filepath.Join(t.TempDir(), "db"), cfg: cfg}
	e.open()
	t.Cleanup(e.close)
	return e
}

// newBenchEnv opens a store on a backend with the default batching.
func newBenchEnv(b *testing.B) *testEnv {
	b.Helper()
	e := &testEnv{t: b, path: filepath.Join(b.TempDir(), "db")}
	be, err := backend.New(backend.Config{Path: e.path})
	if err != nil {
		b.Fatal(err)
	}
	e.b = be
	e.s = NewStore(nil, be, e.cfg)
	b.Cleanup(e.close)
	return e
}

func (e *testEnv) open() {
	e.t.Helper()
	b, err := backend.New(backend.Config{Path: e.path, BatchInterval: 10 * time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	e.b = b
	e.s = NewStore(nil, b, e.cfg)
}

func (e *testEnv) close() {
	if e.s == nil {
		return
	}
	if err := e.s.Close(); err != nil {
		e.t.Error(err)
	}
	if err := e.b.Close(); err != nil {
		e.t.Error(err)
	}
	e.s, e.b = nil, nil
}

// restart closes the store and its backend and opens both again.
func (e *testEnv) restart() {
	e.t.Helper()
	e.close()
	e.open()
}

// bucketRevs lists the revision keys of the "key" bucket as "main.sub" with a
// trailing "t" for tombstones.
func bucketRevs(t *testing.T, b backend.Backend) string {
	t.Helper()
	tx := b.ReadTx()
	defer tx.Release()
	var out []string
	err := tx.UnsafeForEach(schema.Key, func(k, v []byte) error {
		r := Revision(schema.BytesToRev(k))
		s := r.String()
		if schema.IsTombstone(k) {
			s += "t"
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, " ")
}

// kvString formats the result of a range as key=value@mod/create/version.
func kvString(kvs []*mvccpb.KeyValue) string {
	var out []string
	for _, kv := range kvs {
		s := fmt.Sprintf("%s=%s@%d/%d/v%d", kv.Key, kv.Value, kv.ModRevision, kv.CreateRevision, kv.Version)
		if kv.Lease != 0 {
			s += fmt.Sprintf("/l%d", kv.Lease)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func mustRange(t *testing.T, rv ReadView, key, end string, ro RangeOptions) *RangeResult {
	t.Helper()
	var e []byte
	if end != "" {
		e = []byte(end)
	}
	r, err := rv.Range(context.Background(), []byte(key), e, ro)
	if err != nil {
		t.Fatalf("range %q-%q %+v: %v", key, end, ro, err)
	}
	return r
}

func rangeString(t *testing.T, rv ReadView, key, end string, ro RangeOptions) string {
	t.Helper()
	return kvString(mustRange(t, rv, key, end, ro).KVs)
}

func TestStoreEmpty(t *testing.T) {
	e := newTestEnv(t, StoreConfig{})
	if got := e.s.Rev(); got != 1 {
		t.Fatalf("Rev of an empty store = %d, want 1", got)
	}
	if got := e.s.FirstRev(); got != -1 {
		t.Fatalf("FirstRev of a never compacted store = %d, want -1", got)
	}
	r := mustRange(t, e.s, "a", "\x00", RangeOptions{})
	if len(r.KVs) != 0 || r.Count != 0 || r.Rev != 1 {
		t.Fatalf("range on empty store = %+v", r)
	}
}

func TestStorePutGetOverwrite(t *testing.T) {
	e := newTestEnv(t, StoreConfig{})
	s := e.s
	if rev := s.Put([]byte("foo"), []byte("v1"), 0); rev != 2 {
		t.Fatalf("first put rev = %d, want 2", rev)
	}
	if rev := s.Put([]byte("foo"), []byte("v2"), 7); rev != 3 {
		t.Fatalf("second put rev = %d, want 3", rev)
	}
	s.Put([]byte("bar"), []byte("b1"), 0)
	s.Put([]byte("foo"), []byte("v3"), 0)
	if got := s.Rev(); got != 5 {
		t.Fatalf("Rev = %d, want 5", got)
	}
	tests := []struct {
		rev  int64
		want string
	}{
		{1, ""},
		{2, "foo=v1@2/2/v1"},
		{3, "foo=v2@3/2/v2/l7"},
		{4, "bar=b1@4/4/v1 foo=v2@3/2/v2/l7"},
		{0, "bar=b1@4/4/v1 foo=v3@5/2/v3"},
	}
	for _, tt := range tests {
		r := mustRange(t, s, "a", "\x00", RangeOptions{Rev: tt.rev})
		if got := kvString(r.KVs); got != tt.want {
			t.Errorf("range at %d = %q, want %q", tt.rev, got, tt.want)
		}
		if r.Rev != 5 {
			t.Errorf("range at %d: result rev %d, want 5 (the store's)", tt.rev, r.Rev)
		}
	}
	if got := rangeString(t, s, "foo", "", RangeOptions{}); got != "foo=v3@5/2/v3" {
		t.Errorf("get foo = %q", got)
	}
	if got := bucketRevs(t, e.b); got != "2.0 3.0 4.0 5.0" {
		t.Errorf("bucket = %q", got)
	}
}

// TestStoreKeyValueEncoding checks the bytes stored in the "key" bucket
// against protobuf encodings built by hand (etcd's format).
func TestStoreKeyValueEncoding(t *testing.T) {
	e := newTestEnv(t, StoreConfig{})
	e.s.Put([]byte("foo"), []byte("bar"), 0)
	e.s.DeleteRange([]byte("foo"), nil)
	tx := e.b.ReadTx()
	defer tx.Release()
	keys, vals := tx.UnsafeRange(schema.Key, []byte{0}, []byte{0xff}, 0)
	want := []struct{ k, v []byte }{
		{
			[]byte{0, 0, 0, 0, 0, 0, 0, 2, '_', 0, 0, 0, 0, 0, 0, 0, 0},
			// 1:key "foo", 2:create 2, 3:mod 2, 4:version 1, 5:value "bar"
			[]byte{0x0a, 3, 'f', 'o', 'o', 0x10, 2, 0x18, 2, 0x20, 1, 0x2a, 3, 'b', 'a', 'r'},
		},
		{
			[]byte{0, 0, 0, 0, 0, 0, 0, 3, '_', 0, 0, 0, 0, 0, 0, 0, 0, 't'},
			[]byte{0x0a, 3, 'f', 'o', 'o'},
		},
	}
	if len(keys) != len(want) {
		t.Fatalf("bucket has %d keys, want %d", len(keys), len(want))
	}
	for i, w := range want {
		if !bytes.Equal(keys[i], w.k) || !bytes.Equal(vals[i], w.v) {
			t.Errorf("entry %d = %x:%x, want %x:%x", i, keys[i], vals[i], w.k, w.v)
		}
	}
}

func TestStoreDelete(t *testing.T) {
	e := newTestEnv(t, StoreConfig{})
	s := e.s
	s.Put([]byte("a"), []byte("1"), 0)
	s.Put([]byte("b"), []byte("2"), 0)
	s.Put([]byte("c"), []byte("3"), 0)

	// Deleting a missing key changes nothing.
	if n, rev := s.DeleteRange([]byte("zz"), nil); n != 0 || rev != 4 {
		t.Fatalf("delete missing = %d,%d, want 0,4", n, rev)
	}
	if s.Rev() != 4 || bucketRevs(t, e.b) != "2.0 3.0 4.0" {
		t.Fatalf("delete of a missing key changed the store: rev %d bucket %q", s.Rev(), bucketRevs(t, e.b))
	}

	if n, rev := s.DeleteRange([]byte("a"), []byte("c")); n != 2 || rev != 5 {
		t.Fatalf("delete [a,c) = %d,%d, want 2,5", n, rev)
	}
	if got := bucketRevs(t, e.b); got != "2.0 3.0 4.0 5.0t 5.1t" {
		t.Fatalf("bucket = %q", got)
	}
	if got := rangeString(t, s, "a", "\x00", RangeOptions{}); got != "c=3@4/4/v1" {
		t.Fatalf("after delete: %q", got)
	}
	if got := rangeString(t, s, "a", "\x00", RangeOptions{Rev: 4}); got != "a=1@2/2/v1 b=2@3/3/v1 c=3@4/4/v1" {
		t.Fatalf("at 4: %q", got)
	}
	// Re-creating a key starts a new generation.
	s.Put([]byte("a"), []byte("again"), 0)
	if got := rangeString(t, s, "a", "", RangeOptions{}); got != "a=again@6/6/v1" {
		t.Fatalf("recreated: %q", got)
	}
	// Deleting again a deleted key does nothing.
	if n, rev := s.DeleteRange([]byte("b"), nil); n != 0 || rev != 6 {
		t.Fatalf("delete deleted = %d,%d, want 0,6", n, rev)
	}
}

func TestStoreTxnWrite(t *testing.T) {
	e := newTestEnv(t, StoreConfig{})
	s := e.s
	s.Put([]byte("c"), []byte("old"), 0)

	txn := s.Write()
	if txn.Rev() != 2 {
		t.Fatalf("txn Rev = %d, want 2", txn.Rev())
	}
	// A txn that has not written reads at its Rev.
	if got := rangeString(t, txn, "a", "\x00", RangeOptions{}); got != "c=old@2/2/v1" {
		t.Fatalf("txn range before writes: %q", got)
	}
	if rev := txn.Put([]byte("a"), []byte("1"), 0); rev != 3 {
		t.Fatalf("put in txn rev = %d", rev)
	}
	if rev := txn.Put([]byte("b"), []byte("2"), 0); rev != 3 {
		t.Fatalf("second put in txn rev = %d", rev)
	}
	if n, rev := txn.DeleteRange([]byte("c"), nil); n != 1 || rev != 3 {
		t.Fatalf("delete in txn = %d,%d", n, rev)
	}
	// A txn that wrote reports the new revision even for a no-op delete.
	if n, rev := txn.DeleteRange([]byte("zz"), nil); n != 0 || rev != 3 {
		t.Fatalf("no-op delete in txn = %d,%d", n, rev)
	}
	if got := kvString(txn.Changes()); got != "a=1@3/3/v1 b=2@3/3/v1 c=@0/0/v0" {
		t.Fatalf("changes = %q", got)
	}
	// The store does not move until End.
	if s.Rev() != 2 {
		t.Fatalf("store rev during txn = %d", s.Rev())
	}
	txn.End()
	if s.Rev() != 3 {
		t.Fatalf("store rev after txn = %d, want 3", s.Rev())
	}
	if got := bucketRevs(t, e.b); got != "2.0 3.0 3.1 3.2t" {
		t.Fatalf("bucket = %q", got)
	}
	if got := rangeString(t, s, "a", "\x00", RangeOptions{}); got != "a=1@3/3/v1 b=2@3/3/v1" {
		t.Fatalf("after txn: %q", got)
	}

	// A write txn without changes does not move the revision.
	txn = s.Write()
	txn.End()
	if s.Rev() != 3 {
		t.Fatalf("empty txn moved rev to %d", s.Rev())
	}
}

func TestStoreRangeOptions(t *testing.T) {
	e := newTestEnv(t, StoreConfig{})
	s := e.s
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		s.Put([]byte(k), []byte(k), 0)
	}
	s.DeleteRange([]byte("d"), nil)
	tests := []struct {
		name      string
		key, end  string
		ro        RangeOptions
		wantKeys  string
		wantCount int
	}{
		{"single", "b", "", RangeOptions{}, "b", 1},
		{"single missing", "bb", "", RangeOptions{}, "", 0},
		{"single deleted", "d", "", RangeOptions{}, "", 0},
		{"range", "b", "d", RangeOptions{}, "b c", 2},
		{"from key", "c", "\x00", RangeOptions{}, "c e", 2},
		{"all", "\x00", "\x00", RangeOptions{}, "a b c e", 4},
		{"limit", "a", "\x00", RangeOptions{Limit: 2}, "a b", 4},
		{"limit above count", "a", "\x00", RangeOptions{Limit: 10}, "a b c e", 4},
		{"count", "a", "\x00", RangeOptions{Count: true}, "", 4},
		{"count single", "a", "", RangeOptions{Count: true}, "", 1},
		{"old rev", "a", "\x00", RangeOptions{Rev: 5}, "a b c d", 4},
		{"old rev limit", "a", "\x00", RangeOptions{Rev: 3, Limit: 1}, "a", 2},
		{"end before key", "d", "b", RangeOptions{}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRange(t, s, tt.key, tt.end, tt.ro)
			var keys []string
			for _, kv := range r.KVs {
				keys = append(keys, string(kv.Key))
			}
			if got := strings.Join(keys, " "); got != tt.wantKeys || r.Count != tt.wantCount || r.Rev != 7 {
				t.Fatalf("got keys %q count %d rev %d, want %q %d 7", got, r.Count, r.Rev, tt.wantKeys, tt.wantCount)
			}
		})
	}
	// An empty non-nil end means "to the end" too (etcd's internal form).
	r, err := s.Range(context.Background(), []byte("c"), []byte{}, RangeOptions{})
	if err != nil || len(r.KVs) != 2 {
		t.Fatalf("empty end: %v %v", r, err)
	}
	if _, err := s.Range(context.Background(), []byte("a"), nil, RangeOptions{Rev: 8}); !errors.Is(err, ErrFutureRev) {
		t.Fatalf("future rev: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Range(ctx, []byte("a"), []byte{0}, RangeOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
}

func TestStoreReadTxnIsolation(t *testing.T) {
	e := newTestEnv(t, StoreConfig{})
	s := e.s
	s.Put([]byte("k"), []byte("v1"), 0)
	rd := s.Read()
	defer rd.End()
	s.Put([]byte("k"), []byte("v2"), 0)
	s.Put([]byte("k2"), []byte("x"), 0)
	if rd.Rev() != 2 {
		t.Fatalf("read txn rev = %d", rd.Rev())
	}
	if got := rangeString(t, rd, "a", "\x00", RangeOptions{}); got != "k=v1@2/2/v1" {
		t.Fatalf("read txn sees %q", got)
	}
	if _, err := rd.Range(context.Background(), []byte("k"), nil, RangeOptions{Rev: 3}); !errors.Is(err, ErrFutureRev) {
		t.Fatalf("read txn future rev: %v", err)
	}
}

func TestStoreOnTxnEnd(t *testing.T) {
	type call struct {
		rev, storeRev int64
		changes       string
	}
	var calls []call
	var s *Store
	e := newTestEnv(t, StoreConfig{OnTxnEnd: func(rev int64, changes []*mvccpb.KeyValue) {
		calls = append(calls, call{rev, s.Rev(), kvString(changes)})
	}})
	s = e.s
	s.Put([]byte("a"), []byte("1"), 0)
	s.DeleteRange([]byte("zz"), nil) // no change, no call
	txn := s.Write()
	txn.Put([]byte("b"), []byte("2"), 0)
	txn.DeleteRange([]byte("a"), nil)
	txn.End()
	s.Write().End() // no change, no call
	want := []call{
		{2, 2, "a=1@2/2/v1"},
		{3, 3, "b=2@3/3/v1 a=@3/0/v0"},
	}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("calls = %v, want %v", calls, want)
	}
}

func TestStoreCompaction(t *testing.T) {
	e := newTestEnv(t, StoreConfig{CompactionBatchLimit: 2})
	s := e.s
	s.Put([]byte("a"), []byte("1"), 0) // 2
	s.Put([]byte("a"), []byte("2"), 0) // 3
	s.Put([]byte("b"), []byte("1"), 0) // 4
	s.DeleteRange([]byte("b"), nil)    // 5
	s.Put([]byte("c"), []byte("1"), 0) // 6
	s.DeleteRange([]byte("c"), nil)    // 7
	s.Put([]byte("a"), []byte("3"), 0) // 8
	if got := bucketRevs(t, e.b); got != "2.0 3.0 4.0 5.0t 6.0 7.0t 8.0" {
		t.Fatalf("bucket before = %q", got)
	}
	before := rangeString(t, s, "a", "\x00", RangeOptions{Rev: 7})

	if _, err := s.Compact(9); !errors.Is(err, ErrFutureRev) {
		t.Fatalf("compact future: %v", err)
	}
	done, err := s.Compact(7)
	if err != nil {
		t.Fatal(err)
	}
	// The index is compacted at once: b is gone, c's tombstone at exactly
	// 7 is kept until the next compaction.
	if got := dumpIndex(s.kvindex); got != "a modified=8.0 {created=2.0 ver=3 revs=[3.0 8.0]}\n"+
		"c modified=7.0 {created=6.0 ver=2 revs=[7.0]} {created=0.0 ver=0 revs=[]}\n" {
		t.Fatalf("index after compact:\n%s", got)
	}
	<-done
	if got := bucketRevs(t, e.b); got != "3.0 7.0t 8.0" {
		t.Fatalf("bucket after compact = %q", got)
	}
	if got := s.FirstRev(); got != 7 {
		t.Fatalf("FirstRev = %d", got)
	}
	tx := e.b.ReadTx()
	sched, _ := schema.UnsafeReadScheduledCompact(tx)
	fin, ok := schema.UnsafeReadFinishedCompact(tx)
	tx.Release()
	if sched != 7 || fin != 7 || !ok {
		t.Fatalf("meta: scheduled %d finished %d,%v", sched, fin, ok)
	}
	// Reading at the compacted revision still works, below it does not.
	if got := rangeString(t, s, "a", "\x00", RangeOptions{Rev: 7}); got != before {
		t.Fatalf("at compacted rev: %q, want %q", got, before)
	}
	if _, err := s.Range(context.Background(), []byte("a"), nil, RangeOptions{Rev: 6}); !errors.Is(err, ErrCompacted) {
		t.Fatalf("below compacted: %v", err)
	}
	if ch, err := s.Compact(7); !errors.Is(err, ErrCompacted) || ch == nil {
		t.Fatalf("compact again: %v", err)
	} else {
		<-ch
	}
	// A second compaction removes the kept tombstone.
	done, err = s.Compact(8)
	if err != nil {
		t.Fatal(err)
	}
	<-done
	if got := bucketRevs(t, e.b); got != "8.0" {
		t.Fatalf("bucket after second compact = %q", got)
	}
}

// TestStoreCompactionDoesNotBlockWrites pauses a compaction between two
// batches (a very long sleep), writes meanwhile, then restarts the store:
// the half-finished compaction resumes and completes.
func TestStoreCompactionDoesNotBlockWritesAndResumes(t *testing.T) {
	e := newTestEnv(t, StoreConfig{CompactionBatchLimit: 2, CompactionSleepInterval: time.Hour})
	s := e.s
	for i := range 10 {
		s.Put([]byte("k"), fmt.Appendf(nil, "v%d", i), 0) // revs 2..11
	}
	s.Put([]byte("other"), []byte("x"), 0) // 12
	done, err := s.Compact(10)
	if err != nil {
		t.Fatal(err)
	}
	// Writes and reads go on while the compaction sleeps.
	s.Put([]byte("k"), []byte("during"), 0) // 13
	if got := rangeString(t, s, "k", "", RangeOptions{Rev: 10}); got != "k=v8@10/2/v9" {
		t.Fatalf("read at compacted rev during compaction: %q", got)
	}
	select {
	case <-done:
		t.Fatal("compaction finished despite its hour-long pause")
	default:
	}
	// The first batch (revisions 2 and 3) gets deleted, the rest not yet.
	waitFor(t, func() bool { return strings.HasPrefix(bucketRevs(t, e.b), "4.0 5.0") })
	wantHash, err := s.HashByRev(13)
	if err != nil {
		t.Fatal(err)
	}

	e.s.Close()
	<-done // closed by Close
	tx := e.b.ReadTx()
	_, finished := schema.UnsafeReadFinishedCompact(tx)
	tx.Release()
	if finished {
		t.Fatal("finishedCompactRev written by an interrupted compaction")
	}
	e.b.Close()
	e.cfg.CompactionSleepInterval = time.Millisecond
	e.open()
	s = e.s
	if s.FirstRev() != 10 || s.Rev() != 13 {
		t.Fatalf("after restart: first %d rev %d", s.FirstRev(), s.Rev())
	}
	// Wait for the resumed compaction.
	if ch, err := s.Compact(10); !errors.Is(err, ErrCompacted) {
		t.Fatalf("compact at resumed rev: %v", err)
	} else {
		<-ch
	}
	if got := bucketRevs(t, e.b); got != "10.0 11.0 12.0 13.0" {
		t.Fatalf("bucket after resumed compaction = %q", got)
	}
	if got := rangeString(t, s, "a", "\x00", RangeOptions{Rev: 10}); got != "k=v8@10/2/v9" {
		t.Fatalf("range at 10 after resume: %q", got)
	}
	if got := rangeString(t, s, "a", "\x00", RangeOptions{}); got != "k=during@13/2/v11 other=x@12/12/v1" {
		t.Fatalf("current after resume: %q", got)
	}
	if h, err := s.HashByRev(13); err != nil || h != wantHash {
		t.Fatalf("hash at 13 after resumed compaction = %+v, %v; want %+v", h, err, wantHash)
	}
}

// waitFor polls cond until it holds (failing after a generous deadline).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}
