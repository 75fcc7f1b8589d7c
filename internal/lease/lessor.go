package lease

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/schema"
)

// Config configures New.
type Config struct {
	Logger  *slog.Logger
	Backend backend.Backend
	// RangeDeleter opens the store write txn Revoke deletes keys in.
	RangeDeleter RangeDeleter
	// Checkpointer proposes checkpoints; nil disables checkpointing.
	Checkpointer Checkpointer
	// MinLeaseTTL is the smallest TTL granted, in seconds; shorter requests
	// get it.
	MinLeaseTTL int64
	// CheckpointInterval is how often long leases are checkpointed
	// (DefaultCheckpointInterval if 0).
	CheckpointInterval time.Duration
	// ExpiredLeasesRetryInterval is how long an expired lease waits before
	// it is reported again if its revocation did not happen (3s if 0).
	ExpiredLeasesRetryInterval time.Duration
	// LeaseRevokeRate is the maximum of revocations per second
	// (DefaultLeaseRevokeRate if 0).
	LeaseRevokeRate int
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// LoopInterval is the period of the expiry and checkpoint loop (500ms
	// if 0).
	LoopInterval time.Duration
}

// lessor implements Lessor.
type lessor struct {
	lg  *slog.Logger
	cfg Config
	b   backend.Backend
	rd  RangeDeleter
	cp  Checkpointer
	now func() time.Time

	mu sync.RWMutex
	// leaseMap holds every lease; itemMap maps an attached key to its lease.
	leaseMap map[int64]*Lease
	itemMap  map[string]int64
	// expiries and checkpoints are only filled while primary.
	expiries    *expiryQueue
	checkpoints checkpointQueue
	// demotec is non-nil while the lessor is primary; closed at Demote.
	demotec chan struct{}

	expiredC chan []*Lease
	// ctx is cancelled by Stop; checkpoint proposals of the loop use it.
	ctx      context.Context
	cancel   context.CancelFunc
	stopC    chan struct{}
	doneC    chan struct{}
	stopOnce sync.Once
}

var _ Lessor = (*lessor)(nil)

// New returns a secondary lessor holding the leases of the lease bucket
// (keys are attached by RecoverKeys) and starts its loop; Stop ends it.
func New(cfg Config) (Lessor, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = DefaultCheckpointInterval
	}
	if cfg.ExpiredLeasesRetryInterval <= 0 {
		cfg.ExpiredLeasesRetryInterval = 3 * time.Second
	}
	if cfg.LeaseRevokeRate <= 0 {
		cfg.LeaseRevokeRate = DefaultLeaseRevokeRate
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LoopInterval <= 0 {
		cfg.LoopInterval = loopInterval
	}
	le := &lessor{
		lg:       cfg.Logger,
		cfg:      cfg,
		b:        cfg.Backend,
		rd:       cfg.RangeDeleter,
		cp:       cfg.Checkpointer,
		now:      cfg.Now,
		leaseMap: make(map[int64]*Lease),
		itemMap:  make(map[string]int64),
		expiries: newExpiryQueue(),
		expiredC: make(chan []*Lease, 16),
		stopC:    make(chan struct{}),
		doneC:    make(chan struct{}),
	}
	if err := le.recoverLeases(); err != nil {
		return nil, err
	}
	le.ctx, le.cancel = context.WithCancel(context.Background())
	go le.runLoop()
	return le, nil
}

// isPrimary: the caller holds le.mu.
func (le *lessor) isPrimary() bool { return le.demotec != nil }

func (le *lessor) IsPrimary() bool {
	le.mu.RLock()
	defer le.mu.RUnlock()
	return le.isPrimary()
}

func (le *lessor) Grant(id, ttl int64) (*Lease, error) {
	if id == NoLease {
		return nil, ErrLeaseNotFound
	}
	if ttl > MaxLeaseTTL {
		return nil, ErrLeaseTTLTooLarge
	}
	le.mu.Lock()
	defer le.mu.Unlock()
	if _, ok := le.leaseMap[id]; ok {
		return nil, ErrLeaseExists
	}
	ttl = max(ttl, le.cfg.MinLeaseTTL)
	l := newLease(id, ttl, 0, le.now)
	if le.isPrimary() {
		l.refresh(0)
	}
	le.leaseMap[id] = l
	le.persist(l)
	if le.isPrimary() {
		le.expiries.registerOrUpdate(id, l.getExpiry())
		le.scheduleCheckpointIfNeeded(l)
	}
	return l, nil
}

// persist writes l to the lease bucket.
func (le *lessor) persist(l *Lease) {
	tx := le.b.BatchTx()
	tx.Lock()
	schema.UnsafePutLease(tx, schema.LeaseRecord{ID: l.ID, TTL: l.ttl, RemainingTTL: l.remainingTTLRaw()})
	tx.Unlock()
}

func (l *Lease) remainingTTLRaw() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.remainingTTL
}

func (le *lessor) Revoke(id int64) error {
	le.mu.RLock()
	l := le.leaseMap[id]
	le.mu.RUnlock()
	if l == nil {
		return ErrLeaseNotFound
	}
	defer close(l.revokec)

	// Sorted, so that every member deletes in the same order (same sub
	// revisions, same hash).
	keys := l.Keys()
	txn := le.rd()
	for _, k := range keys {
		txn.DeleteRange([]byte(k), nil)
	}
	le.mu.Lock()
	delete(le.leaseMap, id)
	for _, k := range keys {
		if le.itemMap[k] == id {
			delete(le.itemMap, k)
		}
	}
	le.mu.Unlock()
	// The write txn holds the batch tx lock: the lease leaves the bucket in
	// the same backend transaction as its keys.
	schema.UnsafeDeleteLease(le.b.BatchTx(), id)
	txn.End()
	return nil
}

func (le *lessor) Checkpoint(id, remainingTTL int64) error {
	le.mu.Lock()
	defer le.mu.Unlock()
	l, ok := le.leaseMap[id]
	if !ok {
		return nil
	}
	// Only the remaining TTL changes; Promote turns it into an expiry.
	l.mu.Lock()
	l.remainingTTL = remainingTTL
	l.mu.Unlock()
	// etcd v3.6+ persists checkpoints.
	le.persist(l)
	if le.isPrimary() {
		le.scheduleCheckpointIfNeeded(l)
	}
	return nil
}

func (le *lessor) ApplyChanges(changes []*mvccpb.KeyValue) {
	le.mu.Lock()
	defer le.mu.Unlock()
	for _, kv := range changes {
		key := string(kv.Key)
		old, had := le.itemMap[key]
		newID := kv.Lease
		if kv.CreateRevision == 0 { // a delete
			newID = NoLease
		}
		if had && old == newID {
			continue
		}
		if had {
			if l := le.leaseMap[old]; l != nil {
				l.detach(key)
			}
			delete(le.itemMap, key)
		}
		if newID == NoLease {
			continue
		}
		l := le.leaseMap[newID]
		if l == nil {
			le.lg.Warn("key put with an unknown lease; not attached", "key", key, "lease-id", newID)
			continue
		}
		l.attach(key)
		le.itemMap[key] = newID
	}
}

func (le *lessor) LeaseExists(id int64) bool { return le.Lookup(id) != nil }

func (le *lessor) Lookup(id int64) *Lease {
	le.mu.RLock()
	defer le.mu.RUnlock()
	return le.leaseMap[id]
}

func (le *lessor) Leases() []*Lease {
	le.mu.RLock()
	ls := le.unsafeLeases()
	le.mu.RUnlock()
	sort.Sort(leasesByExpiry(ls))
	return ls
}

func (le *lessor) unsafeLeases() []*Lease {
	ls := make([]*Lease, 0, len(le.leaseMap))
	for _, l := range le.leaseMap {
		ls = append(ls, l)
	}
	return ls
}

func (le *lessor) ExpiredLeasesC() <-chan []*Lease { return le.expiredC }

func (le *lessor) Stop() {
	le.stopOnce.Do(func() {
		close(le.stopC)
		le.cancel()
	})
	<-le.doneC
}
