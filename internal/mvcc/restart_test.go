package mvcc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// storeState captures what a client can observe of a store: revisions,
// every range from the compacted revision on, and the hash.
func storeState(t *testing.T, s *Store) string {
	t.Helper()
	out := fmt.Sprintf("rev=%d first=%d\n", s.Rev(), s.FirstRev())
	from := max(s.FirstRev(), 1)
	for rev := from; rev <= s.Rev(); rev++ {
		r := mustRange(t, s, "\x00", "\x00", RangeOptions{Rev: rev})
		out += fmt.Sprintf("@%d count=%d %s\n", rev, r.Count, kvString(r.KVs))
	}
	h := mustHash(t, s, 0)
	out += fmt.Sprintf("hash=%+v\n", h)
	return out
}

func TestStoreRestart(t *testing.T) {
	e := newTestEnv(t, StoreConfig{CompactionBatchLimit: 4})
	applyHistory(e.s)
	want := storeState(t, e.s)
	e.restart()
	if got := storeState(t, e.s); got != want {
		t.Fatalf("after restart:\n%s\nbefore:\n%s", got, want)
	}

	// Compact at a tombstone revision: the tombstone stays in the backend as
	// the key's only revision, and restore must rebuild it as a deleted key.
	e.s.Put([]byte("gone"), []byte("x"), 0)
	_, rev := e.s.DeleteRange([]byte("gone"), nil)
	e.s.Put([]byte("after"), []byte("y"), 0)
	ch, err := e.s.Compact(rev)
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	tombKey := fmt.Sprintf("%d.0t", rev)
	if !slices.Contains(strings.Fields(bucketRevs(t, e.b)), tombKey) {
		t.Fatalf("tombstone %s not kept by a compaction at its revision: %s", tombKey, bucketRevs(t, e.b))
	}
	want = storeState(t, e.s)
	e.restart()
	if got := storeState(t, e.s); got != want {
		t.Fatalf("after restart of compacted store:\n%s\nbefore:\n%s", got, want)
	}
	if _, err := e.s.Range(context.Background(), []byte("a"), nil, RangeOptions{Rev: rev - 1}); !errors.Is(err, ErrCompacted) {
		t.Fatalf("below restored compacted rev: %v", err)
	}
	// The restored tombstone is removed by the next compaction and the key
	// can be written again.
	ch, err = e.s.Compact(e.s.Rev())
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	if slices.Contains(strings.Fields(bucketRevs(t, e.b)), tombKey) {
		t.Fatalf("tombstone %s survived the next compaction", tombKey)
	}
	e.s.Put([]byte("gone"), []byte("back"), 0)
	if got := rangeString(t, e.s, "gone", "", RangeOptions{}); got != fmt.Sprintf("gone=back@%d/%d/v1", e.s.Rev(), e.s.Rev()) {
		t.Fatalf("recreated after restore: %q", got)
	}
	want = storeState(t, e.s)
	e.restart()
	if got := storeState(t, e.s); got != want {
		t.Fatalf("after third restart:\n%s\nbefore:\n%s", got, want)
	}
}
