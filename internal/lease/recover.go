package lease

import (
	"context"
	"fmt"

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
