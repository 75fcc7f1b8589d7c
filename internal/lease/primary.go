package lease

import (
	"context"
	"math"
	"sort"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Promote makes the lessor primary: every lease expires its remaining TTL
// plus extend from now, so no lease expires early because of an election.
// When many leases would expire in the same second, later ones are spread
// out so that at most 3/4 of the revoke rate expire per second, as etcd.
func (le *lessor) Promote(extend time.Duration) {
	le.mu.Lock()
	defer le.mu.Unlock()
	le.demotec = make(chan struct{})
	for _, l := range le.leaseMap {
		l.refresh(extend)
		le.expiries.registerOrUpdate(l.ID, l.getExpiry())
		le.scheduleCheckpointIfNeeded(l)
	}
	if len(le.leaseMap) < le.cfg.LeaseRevokeRate {
		return // no pile-up possible
	}
	leases := le.unsafeLeases()
	sort.Sort(leasesByExpiry(leases))
	baseWindow := leases[0].Remaining()
	nextWindow := baseWindow + time.Second
	expires := 0
	target := (3 * le.cfg.LeaseRevokeRate) / 4
	for _, l := range leases {
		remaining := l.Remaining()
		if remaining > nextWindow {
			baseWindow = remaining
			nextWindow = baseWindow + time.Second
			expires = 1
			continue
		}
		expires++
		if expires <= target {
			continue
		}
		rateDelay := float64(time.Second) * (float64(expires) / float64(target))
		// A lease n seconds after the window's start is delayed n seconds less.
		rateDelay -= float64(remaining - baseWindow)
		delay := time.Duration(rateDelay)
		nextWindow = baseWindow + delay
		l.refresh(delay + extend)
		le.expiries.registerOrUpdate(l.ID, l.getExpiry())
		le.scheduleCheckpointIfNeeded(l)
	}
}

// Demote makes the lessor secondary: leases never expire here, scheduled
// checkpoints are dropped, and renewals waiting on an expired lease give
// up with ErrNotPrimary.
func (le *lessor) Demote() {
	le.mu.Lock()
	defer le.mu.Unlock()
	for _, l := range le.leaseMap {
		l.forever()
	}
	le.expiries = newExpiryQueue()
	le.checkpoints = checkpointQueue{}
	if le.demotec != nil {
		close(le.demotec)
		le.demotec = nil
	}
}

// Renew restarts lease id's TTL. An expired lease is being revoked: Renew
// waits for that and reports ErrLeaseNotFound (or ErrNotPrimary if the
// lessor is demoted first). A checkpointed remaining TTL is cleared through
// raft first, so a later leader does not resurrect it.
func (le *lessor) Renew(ctx context.Context, id int64) (int64, error) {
	le.mu.RLock()
	if !le.isPrimary() {
		le.mu.RUnlock()
		return -1, ErrNotPrimary
	}
	demotec := le.demotec
	l := le.leaseMap[id]
	le.mu.RUnlock()
	if l == nil {
		return -1, ErrLeaseNotFound
	}
	clearRemaining := le.cp != nil && l.remainingTTLRaw() > 0

	if l.expired() {
		select {
		case <-l.revokec:
			return -1, ErrLeaseNotFound
		case <-demotec:
			return -1, ErrNotPrimary
		case <-le.stopC:
			return -1, ErrNotPrimary
		case <-ctx.Done():
			return -1, ctx.Err()
		}
	}
	if clearRemaining {
		cp := &pb.LeaseCheckpointRequest{Checkpoints: []*pb.LeaseCheckpoint{{ID: id, Remaining_TTL: 0}}}
		if err := le.cp(ctx, cp); err != nil {
			return -1, err
		}
	}
	le.mu.Lock()
	if le.leaseMap[id] != l {
		le.mu.Unlock()
		return -1, ErrLeaseNotFound
	}
	l.refresh(0)
	if le.isPrimary() {
		le.expiries.registerOrUpdate(id, l.getExpiry())
	}
	le.mu.Unlock()
	return l.ttl, nil
}

// runLoop looks for expired leases and due checkpoints every loop interval.
func (le *lessor) runLoop() {
	defer close(le.doneC)
	t := time.NewTicker(le.cfg.LoopInterval)
	defer t.Stop()
	for {
		le.revokeExpiredLeases()
		le.checkpointScheduledLeases()
		select {
		case <-t.C:
		case <-le.stopC:
			return
		}
	}
}

// revokeExpiredLeases hands at most half the revoke rate of expired leases
// to the server per round (two rounds a second). If the server is busy the
// batch is dropped; the leases are found again after the retry interval.
func (le *lessor) revokeExpiredLeases() {
	limit := le.cfg.LeaseRevokeRate / 2
	var ls []*Lease
	le.mu.Lock()
	if le.isPrimary() {
		ls = le.findExpiredLeases(limit)
	}
	le.mu.Unlock()
	if len(ls) == 0 {
		return
	}
	select {
	case le.expiredC <- ls:
	case <-le.stopC:
	default:
	}
}

// findExpiredLeases pops expired leases off the expiry queue, requeueing
// each at now + retry interval in case its revocation fails.
func (le *lessor) findExpiredLeases(limit int) []*Lease {
	var ls []*Lease
	now := le.now()
	for len(ls) < limit {
		it := le.expiries.peek()
		if it == nil {
			break
		}
		l := le.leaseMap[it.id]
		if l == nil {
			le.expiries.unregister()
			continue
		}
		if now.Before(it.time) {
			break
		}
		le.expiries.registerOrUpdate(it.id, now.Add(le.cfg.ExpiredLeasesRetryInterval))
		if l.expired() {
			ls = append(ls, l)
		}
	}
	return ls
}

// checkpointScheduledLeases proposes the due checkpoints, in batches.
func (le *lessor) checkpointScheduledLeases() {
	for range leaseCheckpointRate / 2 {
		var cps []*pb.LeaseCheckpoint
		le.mu.Lock()
		if le.isPrimary() {
			cps = le.findDueScheduledCheckpoints(maxLeaseCheckpointBatchSize)
		}
		le.mu.Unlock()
		if len(cps) != 0 {
			if err := le.cp(le.ctx, &pb.LeaseCheckpointRequest{Checkpoints: cps}); err != nil {
				le.lg.Warn("lease checkpoint failed", "error", err)
				return
			}
		}
		if len(cps) < maxLeaseCheckpointBatchSize {
			return
		}
	}
}

// scheduleCheckpointIfNeeded schedules a checkpoint of l one interval from
// now if it will still be alive then. The caller holds le.mu.
func (le *lessor) scheduleCheckpointIfNeeded(l *Lease) {
	if le.cp == nil {
		return
	}
	if l.RemainingTTL() > int64(le.cfg.CheckpointInterval.Seconds()) {
		le.checkpoints.push(l.ID, le.now().Add(le.cfg.CheckpointInterval))
	}
}

// findDueScheduledCheckpoints pops the due checkpoints of live leases whose
// remaining TTL is below their TTL. The caller holds le.mu.
func (le *lessor) findDueScheduledCheckpoints(limit int) []*pb.LeaseCheckpoint {
	if le.cp == nil {
		return nil
	}
	now := le.now()
	var cps []*pb.LeaseCheckpoint
	for len(cps) < limit {
		it := le.checkpoints.peek()
		if it == nil || it.time.After(now) {
			break
		}
		le.checkpoints.pop()
		l, ok := le.leaseMap[it.id]
		if !ok {
			continue
		}
		exp := l.getExpiry()
		if exp.IsZero() || !now.Before(exp) {
			continue
		}
		remaining := int64(math.Ceil(exp.Sub(now).Seconds()))
		if remaining >= l.ttl {
			continue
		}
		cps = append(cps, &pb.LeaseCheckpoint{ID: it.id, Remaining_TTL: remaining})
	}
	return cps
}
