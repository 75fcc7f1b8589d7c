package lease

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/mvcc"
	"github.com/etcdgo/etcd/internal/schema"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a lessor on a real backend and store, with a fake clock and a
// checkpointer that records what it is asked to propose.
type env struct {
	t     *testing.T
	path  string
	be    backend.Backend
	kv    *mvcc.Store
	le    *lessor
	clock *fakeClock
	cfg   Config

	cpMu sync.Mutex
	cps  []*pb.LeaseCheckpoint
}

func newEnv(t *testing.T, mutate func(*Config)) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "db"), clock: &fakeClock{t: time.Unix(1_700_000_000, 0)}}
	e.cfg = Config{
		MinLeaseTTL:  1,
		Now:          e.clock.Now,
		LoopInterval: time.Millisecond,
		Checkpointer: func(_ context.Context, r *pb.LeaseCheckpointRequest) error {
			e.cpMu.Lock()
			e.cps = append(e.cps, r.GetCheckpoints()...)
			e.cpMu.Unlock()
			return nil
		},
	}
	if mutate != nil {
		mutate(&e.cfg)
	}
	e.open()
	t.Cleanup(e.close)
	return e
}

func (e *env) open() {
	t := e.t
	t.Helper()
	be, err := backend.New(backend.Config{Path: e.path, BatchInterval: time.Hour, BatchLimit: 1 << 20})
	if err != nil {
		t.Fatalf("open backend: %v", err)
	}
	e.be = be
	tx := be.BatchTx()
	tx.Lock()
	schema.CreateBuckets(tx)
	tx.Unlock()
	e.kv = mvcc.NewStore(nil, be, mvcc.StoreConfig{})
	cfg := e.cfg
	cfg.Backend = be
	cfg.RangeDeleter = func() TxnDelete { return e.kv.Write() }
	le, err := New(cfg)
	if err != nil {
		t.Fatalf("new lessor: %v", err)
	}
	e.le = le.(*lessor)
	rt := e.kv.Read()
	defer rt.End()
	if err := e.le.RecoverKeys(context.Background(), rt); err != nil {
		t.Fatalf("recover keys: %v", err)
	}
}

func (e *env) close() {
	if e.le == nil {
		return
	}
	e.le.Stop()
	e.kv.Close()
	e.be.Close()
	e.le = nil
}

func (e *env) reopen() {
	e.close()
	e.open()
}

// put writes key with lease in one txn and tells the lessor, as the
// server's apply path does.
func (e *env) put(key string, lease int64) int64 {
	tw := e.kv.Write()
	rev := tw.Put([]byte(key), []byte("v"), lease)
	e.le.ApplyChanges(tw.Changes())
	tw.End()
	return rev
}

func (e *env) del(key string) {
	tw := e.kv.Write()
	tw.DeleteRange([]byte(key), nil)
	e.le.ApplyChanges(tw.Changes())
	tw.End()
}

func (e *env) grant(id, ttl int64) *Lease {
	e.t.Helper()
	l, err := e.le.Grant(id, ttl)
	if err != nil {
		e.t.Fatalf("grant %d ttl %d: %v", id, ttl, err)
	}
	return l
}

// stored returns the lease bucket as records.
func (e *env) stored() map[int64]schema.LeaseRecord {
	tx := e.be.ReadTx()
	defer tx.Release()
	recs, err := schema.UnsafeGetAllLeases(tx)
	if err != nil {
		e.t.Fatalf("read lease bucket: %v", err)
	}
	m := make(map[int64]schema.LeaseRecord)
	for _, r := range recs {
		m[r.ID] = r
	}
	return m
}

// expired waits (bounded) for the next batch of expired leases and returns
// their IDs; none within the bound gives nil.
func (e *env) expired(wait time.Duration) []int64 {
	select {
	case ls := <-e.le.ExpiredLeasesC():
		ids := make([]int64, len(ls))
		for i, l := range ls {
			ids[i] = l.ID
		}
		return ids
	case <-time.After(wait):
		return nil
	}
}

func (e *env) checkpoints() []*pb.LeaseCheckpoint {
	e.cpMu.Lock()
	defer e.cpMu.Unlock()
	return append([]*pb.LeaseCheckpoint(nil), e.cps...)
}

func (e *env) liveKeys() []string {
	rr, err := e.kv.Range(context.Background(), []byte{0}, []byte{0}, mvcc.RangeOptions{})
	if err != nil {
		e.t.Fatalf("range: %v", err)
	}
	var ks []string
	for _, kv := range rr.KVs {
		ks = append(ks, string(kv.Key))
	}
	return ks
}
