package txn

import (
	"bytes"
	"context"
	"sort"
	"testing"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdgo/etcd/internal/mvcc"
)

// fakeStore is a small in-memory model of the mvcc store: every key keeps
// its whole history; reads pick the last entry at or before the revision.
// Like the real store (and etcd's), a write txn sees its own changes at once
// (its reads run at its revision once it has written), while other txns
// only see them after End, when the store's revision moves on.
type fakeStore struct {
	rev       int64 // current revision; 1 when empty, as in etcd
	compacted int64 // reads below this revision fail with ErrCompacted
	hist      map[string][]fakeEntry
}

type fakeEntry struct {
	rev int64
	kv  *mvccpb.KeyValue // nil: tombstone
}

func newFakeStore() *fakeStore { return &fakeStore{rev: 1, hist: map[string][]fakeEntry{}} }

func (s *fakeStore) Read() mvcc.TxnRead   { return &fakeTxn{s: s, begin: s.rev} }
func (s *fakeStore) Write() mvcc.TxnWrite { return &fakeTxn{s: s, begin: s.rev, write: true} }

func (s *fakeStore) compact(t *testing.T, rev int64) {
	t.Helper()
	s.compacted = rev
}

func (s *fakeStore) currentRev() int64 { return s.rev }

// live returns key's state at rev, nil if it does not exist then.
func (s *fakeStore) live(key string, rev int64) *mvccpb.KeyValue {
	var kv *mvccpb.KeyValue
	for _, e := range s.hist[key] {
		if e.rev > rev {
			break
		}
		kv = e.kv
	}
	return kv
}

func (s *fakeStore) keysIn(key, end []byte) []string {
	var keys []string
	for k := range s.hist {
		kb := []byte(k)
		switch {
		case end == nil:
			if bytes.Equal(kb, key) {
				keys = append(keys, k)
			}
		case len(end) == 1 && end[0] == 0:
			if bytes.Compare(kb, key) >= 0 {
				keys = append(keys, k)
			}
		default:
			if bytes.Compare(kb, key) >= 0 && bytes.Compare(kb, end) < 0 {
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

type fakeTxn struct {
	s       *fakeStore
	begin   int64
	write   bool
	changes []*mvccpb.KeyValue
	ended   bool
}

func (t *fakeTxn) FirstRev() int64 { return t.s.compacted }

func (t *fakeTxn) Rev() int64 { return t.begin }

func (t *fakeTxn) cur() int64 {
	if len(t.changes) > 0 {
		return t.begin + 1
	}
	return t.begin
}

func (t *fakeTxn) Range(_ context.Context, key, end []byte, ro mvcc.RangeOptions) (*mvcc.RangeResult, error) {
	cur := t.cur()
	rev := ro.Rev
	if rev > cur {
		return &mvcc.RangeResult{Rev: cur}, mvcc.ErrFutureRev
	}
	if rev <= 0 {
		rev = cur
	}
	if rev < t.s.compacted {
		return &mvcc.RangeResult{Rev: cur}, mvcc.ErrCompacted
	}
	rr := &mvcc.RangeResult{Rev: cur}
	for _, k := range t.s.keysIn(key, end) {
		kv := t.s.live(k, rev)
		if kv == nil {
			continue
		}
		rr.Count++
		if !ro.Count && (ro.Limit <= 0 || int64(len(rr.KVs)) < ro.Limit) {
			rr.KVs = append(rr.KVs, kv)
		}
	}
	return rr, nil
}

func (t *fakeTxn) Put(key, value []byte, lease int64) int64 {
	if !t.write {
		panic("fake: put in read txn")
	}
	rev := t.begin + 1
	kv := &mvccpb.KeyValue{Key: bytes.Clone(key), Value: bytes.Clone(value), Lease: lease, ModRevision: rev, CreateRevision: rev, Version: 1}
	if prev := t.s.live(string(key), rev); prev != nil {
		kv.CreateRevision, kv.Version = prev.CreateRevision, prev.Version+1
	}
	// Recorded at once, at a revision other txns do not read yet.
	t.s.hist[string(key)] = append(t.s.hist[string(key)], fakeEntry{rev: rev, kv: kv})
	t.changes = append(t.changes, kv)
	return rev
}

func (t *fakeTxn) DeleteRange(key, end []byte) (int64, int64) {
	if !t.write {
		panic("fake: delete in read txn")
	}
	rev, rrev := t.begin+1, t.cur()
	var n int64
	for _, k := range t.s.keysIn(key, end) {
		if t.s.live(k, rrev) == nil {
			continue
		}
		t.s.hist[k] = append(t.s.hist[k], fakeEntry{rev: rev})
		t.changes = append(t.changes, &mvccpb.KeyValue{Key: []byte(k), ModRevision: rev})
		n++
	}
	if n != 0 || len(t.changes) > 0 {
		return n, rev
	}
	return 0, t.begin
}

func (t *fakeTxn) Changes() []*mvccpb.KeyValue { return t.changes }

func (t *fakeTxn) End() {
	if t.ended {
		panic("fake: txn ended twice")
	}
	t.ended = true
	if len(t.changes) > 0 {
		t.s.rev++
	}
}
