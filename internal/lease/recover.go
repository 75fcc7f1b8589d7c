package lease

import (
	"context"
	"fmt"
	"time"

	"github.com/etcdgo/etcd/internal/mvcc"
	"github.com/etcdgo/etcd/internal/schema"
)

// recoverChunk is how many keys RecoverKeys reads per range.
const recoverChunk = 10000

// recoverLeases loads the lease bucket. Leases start secondary (they never
// expire until Promote); a TTL below the minimum is raised to it, as etcd.
func (le *lessor) recoverLeases() error {
	tx := le.b.ReadTx()
	recs, err := schema.UnsafeGetAllLeases(tx)
	tx.Release()
	if err != nil {
		return fmt.Errorf("load leases: %w", err)
	}
	le.mu.Lock()
	defer le.mu.Unlock()
	for _, r := range recs {
		ttl := max(r.TTL, le.cfg.MinLeaseTTL)
		le.leaseMap[r.ID] = newLease(r.ID, ttl, r.RemainingTTL, le.now)
	}
	if len(recs) > 0 {
		le.lg.Info("recovered leases", "count", len(recs))
	}
	return nil
}

func (le *lessor) RecoverKeys(ctx context.Context, rv KeyRanger) error {
	start := []byte{0}
	end := []byte{0}
	attached, orphans := 0, 0
	for {
		rr, err := rv.Range(ctx, start, end, mvcc.RangeOptions{Limit: recoverChunk})
		if err != nil {
			return fmt.Errorf("recover lease attachments: %w", err)
		}
		le.mu.Lock()
		for _, kv := range rr.KVs {
			if kv.Lease == NoLease {
				continue
			}
			l := le.leaseMap[kv.Lease]
			if l == nil {
				orphans++
				continue
			}
			l.attach(string(kv.Key))
			le.itemMap[string(kv.Key)] = kv.Lease
			attached++
		}
		le.mu.Unlock()
		if len(rr.KVs) < recoverChunk {
			break
		}
		last := rr.KVs[len(rr.KVs)-1].Key
		start = append(append([]byte{}, last...), 0)
	}
	if orphans > 0 {
		le.lg.Error("keys attached to leases that do not exist", "count", orphans)
	}
	if attached > 0 {
		le.lg.Info("reattached keys to their leases", "count", attached)
	}
	return nil
}

// Recover replaces the lessor's state with what the backend holds now, after
// the backend was replaced by a snapshot from the leader: the leases are
// reloaded from the lease bucket and the keys of rv attached to them. Leases
// that no longer exist count as revoked for those waiting on them. A primary
// lessor stays primary, its leases expiring extend from now.
func (le *lessor) Recover(ctx context.Context, rv KeyRanger, extend time.Duration) error {
	le.mu.Lock()
	old := le.leaseMap
	le.leaseMap = make(map[int64]*Lease)
	le.itemMap = make(map[string]int64)
	le.expiries = newExpiryQueue()
	le.checkpoints = checkpointQueue{}
	primary := le.isPrimary()
	le.mu.Unlock()
	if err := le.recoverLeases(); err != nil {
		return err
	}
	le.mu.Lock()
	for id, l := range old {
		if _, ok := le.leaseMap[id]; !ok {
			close(l.revokec)
		} else {
			// The waiters of a lease that lives on keep waiting on it.
			le.leaseMap[id].revokec = l.revokec
		}
	}
	le.mu.Unlock()
	if err := le.RecoverKeys(ctx, rv); err != nil {
		return err
	}
	if primary {
		le.mu.Lock()
		for _, l := range le.leaseMap {
			l.refresh(extend)
			le.expiries.registerOrUpdate(l.ID, l.getExpiry())
			le.scheduleCheckpointIfNeeded(l)
		}
		le.mu.Unlock()
	}
	return nil
}
