package backend

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var testBucket = Bucket{Name: []byte("test")}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newTestBackend opens a backend in a temp dir; commits only when asked
// unless cfg says otherwise.
func newTestBackend(t testing.TB, cfg Config) *backend {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "db")
	}
	if cfg.BatchInterval == 0 {
		cfg.BatchInterval = time.Hour
	}
	if cfg.BatchLimit == 0 {
		cfg.BatchLimit = 1 << 30
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	cfg.UnsafeNoFsync = true
	be, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := be.(*backend)
	tx := b.BatchTx()
	tx.Lock()
	tx.UnsafeCreateBucket(testBucket)
	tx.Unlock()
	b.ForceCommit()
	return b
}

func put(b Backend, k, v string) {
	tx := b.BatchTx()
	tx.Lock()
	tx.UnsafePut(testBucket, []byte(k), []byte(v))
	tx.Unlock()
}

func del(b Backend, k string) {
	tx := b.BatchTx()
	tx.Lock()
	tx.UnsafeDelete(testBucket, []byte(k))
	tx.Unlock()
}

func get(r UnsafeReader, k string) (string, bool) {
	_, vs := r.UnsafeRange(testBucket, []byte(k), nil, 0)
	if len(vs) == 0 {
		return "", false
	}
	return string(vs[0]), true
}

func dump(t testing.TB, r UnsafeReader) map[string]string {
	t.Helper()
	m := map[string]string{}
	var last []byte
	err := r.UnsafeForEach(testBucket, func(k, v []byte) error {
		if last != nil && bytes.Compare(last, k) >= 0 {
			return fmt.Errorf("keys out of order: %q then %q", last, k)
		}
		last = append(last[:0], k...)
		m[string(k)] = string(v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReadTxSeesWritesBeforeAndAfterCommit(t *testing.T) {
	b := newTestBackend(t, Config{})
	defer b.Close()
	put(b, "a", "1")
	r := b.ReadTx()
	if v, ok := get(r, "a"); !ok || v != "1" {
		t.Fatalf("before commit: got %q %v", v, ok)
	}
	r.Release()
	b.ForceCommit()
	if b.batch.pending.Load() != 0 {
		t.Fatal("pending not reset by commit")
	}
	r = b.ReadTx()
	defer r.Release()
	if v, ok := get(r, "a"); !ok || v != "1" {
		t.Fatalf("after commit: got %q %v", v, ok)
	}
	if r.(*readView).buf.t != nil {
		t.Fatal("buffer should be empty after commit")
	}
}

func TestViewSnapshotIsolation(t *testing.T) {
	b := newTestBackend(t, Config{})
	defer b.Close()
	put(b, "a", "1")
	before := b.ReadTx()
	defer before.Release()
	put(b, "a", "2")
	put(b, "b", "x")
	if v, _ := get(before, "a"); v != "1" {
		t.Fatalf("old view sees later write: %q", v)
	}
	if _, ok := get(before, "b"); ok {
		t.Fatal("old view sees later key")
	}
	after := b.ReadTx()
	defer after.Release()
	if v, _ := get(after, "a"); v != "2" {
		t.Fatalf("new view: %q", v)
	}
	// Commits do not change what existing views see.
	b.ForceCommit()
	put(b, "a", "3")
	b.ForceCommit()
	if v, _ := get(before, "a"); v != "1" {
		t.Fatalf("old view after commits: %q", v)
	}
	if v, _ := get(after, "a"); v != "2" {
		t.Fatalf("second view after commits: %q", v)
	}
	if got := dump(t, before); len(got) != 1 {
		t.Fatalf("old view foreach: %v", got)
	}
}

func TestWritesInvisibleUntilUnlock(t *testing.T) {
	b := newTestBackend(t, Config{})
	defer b.Close()
	tx := b.BatchTx()
	tx.Lock()
	tx.UnsafePut(testBucket, []byte("a"), []byte("1"))
	// The batch tx sees its own write.
	if v, ok := get(tx, "a"); !ok || v != "1" {
		tx.Unlock()
		t.Fatalf("batch tx read: %q %v", v, ok)
	}
	r := b.ReadTx()
	_, seen := get(r, "a")
	r.Release()
	tx.Unlock()
	if seen {
		t.Fatal("view saw a write of a section still locked")
	}
	r = b.ReadTx()
	defer r.Release()
	if _, ok := get(r, "a"); !ok {
		t.Fatal("view misses write after Unlock")
	}
}

func TestBufferedDeleteHidesCommitted(t *testing.T) {
	b := newTestBackend(t, Config{})
	defer b.Close()
	put(b, "a", "1")
	put(b, "b", "2")
	put(b, "c", "3")
	b.ForceCommit()
	del(b, "b")
	r := b.ReadTx()
	defer r.Release()
	if _, ok := get(r, "b"); ok {
		t.Fatal("deleted key visible by get")
	}
	ks, _ := r.UnsafeRange(testBucket, []byte("a"), []byte("z"), 0)
	if len(ks) != 2 || string(ks[0]) != "a" || string(ks[1]) != "c" {
		t.Fatalf("range: %q", ks)
	}
	// limit counts visible pairs only
	ks, _ = r.UnsafeRange(testBucket, []byte("a"), []byte("z"), 2)
	if len(ks) != 2 || string(ks[1]) != "c" {
		t.Fatalf("limited range: %q", ks)
	}
	if got := dump(t, r); len(got) != 2 {
		t.Fatalf("foreach: %v", got)
	}
}

func TestDeleteBucketHidesCommitted(t *testing.T) {
	b := newTestBackend(t, Config{})
	defer b.Close()
	put(b, "a", "1")
	b.ForceCommit()
	old := b.ReadTx()
	defer old.Release()
	tx := b.BatchTx()
	tx.Lock()
	tx.UnsafeDeleteBucket(testBucket)
	tx.UnsafeCreateBucket(testBucket)
	tx.UnsafePut(testBucket, []byte("b"), []byte("2"))
	tx.Unlock()
	r := b.ReadTx()
	defer r.Release()
	if got := dump(t, r); len(got) != 1 || got["b"] != "2" {
		t.Fatalf("after drop+recreate: %v", got)
	}
	if _, ok := get(r, "a"); ok {
		t.Fatal("key of dropped bucket visible")
	}
	if got := dump(t, old); len(got) != 1 || got["a"] != "1" {
		t.Fatalf("old view: %v", got)
	}
	b.ForceCommit()
	r2 := b.ReadTx()
	defer r2.Release()
	if got := dump(t, r2); len(got) != 1 || got["b"] != "2" {
		t.Fatalf("after commit: %v", got)
	}
}

func TestUnsafeRangeLimitEndKey(t *testing.T) {
	b := newTestBackend(t, Config{})
	defer b.Close()
	for i := 0; i < 10; i += 2 {
		put(b, fmt.Sprintf("k%d", i), "c")
	}
	b.ForceCommit()
	for i := 1; i < 10; i += 2 {
		put(b, fmt.Sprintf("k%d", i), "b")
	}
	r := b.ReadTx()
	defer r.Release()
	tx := b.BatchTx()
	tests := []struct {
		key, end string
		limit    int64
		want     []string
	}{
		{"k0", "", 0, []string{"k0"}},
		{"k1", "", 5, []string{"k1"}},
		{"k10", "", 0, nil},
		{"k0", "k5", 0, []string{"k0", "k1", "k2", "k3", "k4"}},
		{"k0", "k5", 3, []string{"k0", "k1", "k2"}},
		{"k3", "k9", 0, []string{"k3", "k4", "k5", "k6", "k7", "k8"}},
		{"k3", "\xff", 2, []string{"k3", "k4"}},
		{"k", "k0", 0, nil},
		{"k9", "\xff", 10, []string{"k9"}},
		{"a", "z", -1, []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"}},
	}
	for _, tc := range tests {
		var end []byte
		if tc.end != "" {
			end = []byte(tc.end)
		}
		for name, rd := range map[string]UnsafeReader{"view": r, "batch": tx} {
			if name == "batch" {
				tx.Lock()
			}
			ks, vs := rd.UnsafeRange(testBucket, []byte(tc.key), end, tc.limit)
			var got []string
			for i, k := range ks {
				got = append(got, string(k))
				want := "c"
				if (k[1]-'0')%2 == 1 {
					want = "b"
				}
				if string(vs[i]) != want {
					t.Errorf("%s %v: value of %s = %q", name, tc, k, vs[i])
				}
			}
			if name == "batch" {
				tx.Unlock()
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("%s range(%q,%q,%d) = %v, want %v", name, tc.key, tc.end, tc.limit, got, tc.want)
			}
		}
	}
	// Missing bucket.
	ks, _ := r.UnsafeRange(Bucket{Name: []byte("nope")}, []byte("a"), []byte("z"), 0)
	if len(ks) != 0 {
		t.Fatal("range of missing bucket")
	}
}

// countingPreCommit returns a PreCommit that counts commits.
func countingPreCommit(n *atomic.Int64) func(UnsafeWriter) {
	return func(UnsafeWriter) { n.Add(1) }
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCommitByInterval(t *testing.T) {
	var commits atomic.Int64
	b := newTestBackend(t, Config{BatchInterval: 5 * time.Millisecond, PreCommit: countingPreCommit(&commits)})
	defer b.Close()
	base := commits.Load()
	put(b, "a", "1")
	waitFor(t, "interval commit", func() bool { return commits.Load() > base })
	waitFor(t, "pending reset", func() bool { return b.batch.pending.Load() == 0 })
	// Nothing pending: the committer does not commit.
	n := commits.Load()
	time.Sleep(30 * time.Millisecond)
	if commits.Load() != n {
		t.Fatal("committed with nothing pending")
	}
}

func TestCommitByLimit(t *testing.T) {
	var commits atomic.Int64
	b := newTestBackend(t, Config{BatchLimit: 10, PreCommit: countingPreCommit(&commits)})
	defer b.Close()
	base := commits.Load()
	for i := 0; i < 9; i++ {
		put(b, fmt.Sprint(i), "v")
	}
	time.Sleep(20 * time.Millisecond)
	if commits.Load() != base {
		t.Fatal("committed below the limit")
	}
	put(b, "9", "v")
	waitFor(t, "limit commit", func() bool { return commits.Load() > base })
}

func TestCommitGateRespected(t *testing.T) {
	var commits atomic.Int64
	var gate sync.Mutex
	b := newTestBackend(t, Config{BatchInterval: time.Millisecond, BatchLimit: 2, PreCommit: countingPreCommit(&commits), CommitGate: &gate})
	defer b.Close()
	gate.Lock()
	base := commits.Load()
	// Unlock past the limit must not commit on this goroutine (it would
	// deadlock on the gate we hold) and nothing may commit while we hold it.
	for i := 0; i < 10; i++ {
		put(b, fmt.Sprint(i), "v")
	}
	forced := make(chan struct{})
	go func() { b.ForceCommit(); close(forced) }()
	time.Sleep(50 * time.Millisecond)
	if commits.Load() != base {
		gate.Unlock()
		t.Fatal("commit while the gate was held")
	}
	select {
	case <-forced:
		t.Fatal("ForceCommit returned while the gate was held")
	default:
	}
	gate.Unlock()
	<-forced
	if commits.Load() == base {
		t.Fatal("no commit after gate released")
	}
}

func TestSurvivesCloseReopen(t *testing.T) {
	var commits atomic.Int64
	path := filepath.Join(t.TempDir(), "db")
	b := newTestBackend(t, Config{Path: path, PreCommit: func(tx UnsafeWriter) {
		commits.Add(1)
		tx.UnsafePut(testBucket, []byte("meta"), []byte("pre"))
	}})
	put(b, "a", "1")
	put(b, "b", "2")
	del(b, "b")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := newTestBackend(t, Config{Path: path})
	defer b2.Close()
	r := b2.ReadTx()
	defer r.Release()
	got := dump(t, r)
	if len(got) != 2 || got["a"] != "1" || got["meta"] != "pre" {
		t.Fatalf("after reopen: %v", got)
	}
}

func TestPreCommitWritesVisible(t *testing.T) {
	b := newTestBackend(t, Config{PreCommit: func(tx UnsafeWriter) {
		tx.UnsafePut(testBucket, []byte("ci"), []byte("7"))
	}})
	defer b.Close()
	b.ForceCommit()
	r := b.ReadTx()
	defer r.Release()
	if v, _ := get(r, "ci"); v != "7" {
		t.Fatalf("precommit write not visible: %q", v)
	}
}

func TestDefragShrinksAndKeepsKeys(t *testing.T) {
	b := newTestBackend(t, Config{})
	defer b.Close()
	val := bytes.Repeat([]byte("x"), 1000)
	tx := b.BatchTx()
	tx.Lock()
	for i := 0; i < 5000; i++ {
		tx.UnsafePut(testBucket, []byte(fmt.Sprintf("%06d", i)), val)
	}
	tx.Unlock()
	b.ForceCommit()
	tx.Lock()
	for i := 0; i < 5000; i++ {
		if i%10 != 0 {
			tx.UnsafeDelete(testBucket, []byte(fmt.Sprintf("%06d", i)))
		}
	}
	tx.Unlock()
	b.ForceCommit()
	// Pages freed by a commit become free once no older read tx is open,
	// which bolt notices at a later write tx.
	b.ForceCommit()
	b.ForceCommit()
	// A view open across the defrag keeps its data.
	old := b.ReadTx()
	defer old.Release()
	sizeBefore := b.Size()
	if b.SizeInUse() >= sizeBefore {
		t.Fatalf("size in use %d not below size %d after deletes", b.SizeInUse(), sizeBefore)
	}
	if err := b.Defrag(); err != nil {
		t.Fatal(err)
	}
	if b.Size() >= sizeBefore/2 {
		t.Fatalf("defrag did not shrink: %d -> %d", sizeBefore, b.Size())
	}
	fi, err := os.Stat(b.cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() >= sizeBefore/2 {
		t.Fatalf("file not shrunk: %d", fi.Size())
	}
	check := func(r UnsafeReader) {
		got := dump(t, r)
		if len(got) != 500 {
			t.Fatalf("keys after defrag: %d", len(got))
		}
		for i := 0; i < 5000; i += 10 {
			if got[fmt.Sprintf("%06d", i)] != string(val) {
				t.Fatalf("key %d lost", i)
			}
		}
	}
	check(old)
	old.Release()
	r := b.ReadTx()
	check(r)
	r.Release()
	// Writes keep working and survive reopen.
	put(b, "new", "1")
	path := b.cfg.Path
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "db.tmp.*"))
	if len(matches) != 0 {
		t.Fatalf("temp files left: %v", matches)
	}
	b2 := newTestBackend(t, Config{Path: path})
	defer b2.Close()
	r = b2.ReadTx()
	defer r.Release()
	if v, _ := get(r, "new"); v != "1" {
		t.Fatal("write after defrag lost")
	}
	if len(dump(t, r)) != 501 {
		t.Fatal("keys lost after reopen")
	}
}

func TestSnapshotWriteTo(t *testing.T) {
	b := newTestBackend(t, Config{})
	defer b.Close()
	want := map[string]string{}
	for i := 0; i < 1000; i++ {
		k, v := fmt.Sprintf("k%04d", i), fmt.Sprint(i)
		put(b, k, v)
		want[k] = v
	}
	snap := b.Snapshot() // commits the pending writes first
	put(b, "later", "x")
	b.ForceCommit()
	out := filepath.Join(t.TempDir(), "snap.db")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	n, err := snap.WriteTo(f)
	if err != nil {
		t.Fatal(err)
	}
	if n != snap.Size() {
		t.Fatalf("wrote %d, Size %d", n, snap.Size())
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := snap.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(out, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[string]string{}
	err = db.View(func(tx *bolt.Tx) error {
		for cerr := range tx.Check() {
			return fmt.Errorf("bolt check: %w", cerr)
		}
		return tx.Bucket(testBucket.Name).ForEach(func(k, v []byte) error {
			got[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("snapshot content differs: %d keys vs %d", len(got), len(want))
	}
}

func TestBatchForEachMayDelete(t *testing.T) {
	b := newTestBackend(t, Config{})
	defer b.Close()
	for i := 0; i < 100; i++ {
		put(b, fmt.Sprintf("%03d", i), "v")
	}
	b.ForceCommit()
	tx := b.BatchTx()
	tx.Lock()
	err := tx.UnsafeForEach(testBucket, func(k, _ []byte) error {
		tx.UnsafeDelete(testBucket, k)
		return nil
	})
	tx.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	r := b.ReadTx()
	defer r.Release()
	if got := dump(t, r); len(got) != 0 {
		t.Fatalf("%d keys left", len(got))
	}
}

func TestForEachStopsOnError(t *testing.T) {
	b := newTestBackend(t, Config{})
	defer b.Close()
	put(b, "a", "1")
	put(b, "b", "2")
	r := b.ReadTx()
	defer r.Release()
	stop := fmt.Errorf("stop")
	n := 0
	err := r.UnsafeForEach(testBucket, func(k, v []byte) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("err %v after %d visits", err, n)
	}
}

// TestModel checks views against a model under random puts, deletes,
// commits and views of different ages.
func TestModel(t *testing.T) {
	for _, mmap := range []int{0, 1 << 20} { // 1 MiB: commits take the remap-safe path
		t.Run(fmt.Sprintf("mmap=%d", mmap), func(t *testing.T) {
			b := newTestBackend(t, Config{MmapSize: mmap})
			defer b.Close()
			rng := rand.New(rand.NewSource(int64(mmap) + 1))
			model := map[string]string{}
			type view struct {
				r    ReadTx
				want map[string]string
			}
			var views []view
			clone := func() map[string]string {
				m := make(map[string]string, len(model))
				for k, v := range model {
					m[k] = v
				}
				return m
			}
			checkView := func(v view) {
				got := dump(t, v.r)
				if fmt.Sprint(got) != fmt.Sprint(v.want) {
					t.Fatalf("view differs from model: got %d keys, want %d", len(got), len(v.want))
				}
				lo, hi := fmt.Sprintf("k%03d", rng.Intn(200)), fmt.Sprintf("k%03d", rng.Intn(200))
				limit := int64(rng.Intn(5))
				ks, vs := v.r.UnsafeRange(testBucket, []byte(lo), []byte(hi), limit)
				var want []string
				for k := range v.want {
					if k >= lo && k < hi {
						want = append(want, k)
					}
				}
				sort.Strings(want)
				if limit > 0 && int64(len(want)) > limit {
					want = want[:limit]
				}
				if len(ks) != len(want) {
					t.Fatalf("range [%s,%s) limit %d: got %d keys, want %d", lo, hi, limit, len(ks), len(want))
				}
				for i := range ks {
					if string(ks[i]) != want[i] || string(vs[i]) != v.want[want[i]] {
						t.Fatalf("range mismatch at %d: %s", i, ks[i])
					}
				}
			}
			for step := 0; step < 3000; step++ {
				switch op := rng.Intn(100); {
				case op < 50:
					tx := b.BatchTx()
					tx.Lock()
					for j := rng.Intn(4); j >= 0; j-- {
						k := fmt.Sprintf("k%03d", rng.Intn(200))
						if rng.Intn(3) == 0 {
							tx.UnsafeDelete(testBucket, []byte(k))
							delete(model, k)
						} else {
							v := fmt.Sprintf("%d-%s", step, bytes.Repeat([]byte("v"), rng.Intn(3000)))
							tx.UnsafePut(testBucket, []byte(k), []byte(v))
							model[k] = v
						}
					}
					tx.Unlock()
				case op < 61:
					if mmap != 0 {
						// A commit that grows the mmap waits for every open
						// view: check and release them first.
						for _, v := range views {
							checkView(v)
							v.r.Release()
						}
						views = nil
					}
					if op == 60 {
						if err := b.Defrag(); err != nil {
							t.Fatal(err)
						}
					} else {
						b.ForceCommit()
					}
				case op < 76:
					views = append(views, view{r: b.ReadTx(), want: clone()})
				case op < 91 && len(views) > 0:
					i := rng.Intn(len(views))
					checkView(views[i])
					views[i].r.Release()
					views = append(views[:i], views[i+1:]...)
				}
			}
			for _, v := range views {
				checkView(v)
				v.r.Release()
			}
		})
	}
}

func TestConcurrentReadersAndWriter(t *testing.T) {
	b := newTestBackend(t, Config{BatchInterval: 2 * time.Millisecond, BatchLimit: 50})
	defer b.Close()
	const keys = 64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Value
	// Writer: each round writes all keys with the same round number in one
	// section, so every view must see a single round across all keys.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for round := 0; round < 300; round++ {
			tx := b.BatchTx()
			tx.Lock()
			for k := 0; k < keys; k++ {
				tx.UnsafePut(testBucket, []byte(fmt.Sprintf("k%02d", k)), []byte(fmt.Sprint(round)))
			}
			tx.Unlock()
			if round%50 == 0 {
				if err := b.Defrag(); err != nil {
					failed.Store(err.Error())
				}
			}
		}
		close(stop)
	}()
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := b.ReadTx()
				ks, vs := r.UnsafeRange(testBucket, []byte("k"), []byte("l"), 0)
				if len(ks) != 0 && len(ks) != keys {
					failed.Store(fmt.Sprintf("torn view: %d keys", len(ks)))
				}
				for i := range vs {
					if !bytes.Equal(vs[i], vs[0]) {
						failed.Store(fmt.Sprintf("torn view: %s vs %s", vs[i], vs[0]))
						break
					}
				}
				r.Release()
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		t.Fatal(f)
	}
}
