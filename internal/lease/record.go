package lease

import (
	"math"
	"sort"
	"sync"
	"time"
)

// forever is the expiry of a lease on a secondary lessor: it never expires
// there.
var forever = time.Time{}

// Lease is one lease. Its ID and TTL never change; its expiry, remaining
// TTL and keys are guarded by its own lock.
type Lease struct {
	ID  int64
	ttl int64
	now func() time.Time

	mu sync.RWMutex
	// remainingTTL is the TTL left at the last checkpoint, in seconds (0:
	// none; the whole TTL counts).
	remainingTTL int64
	expiry       time.Time
	keys         map[string]struct{}

	// revokec is closed when the lease is revoked.
	revokec chan struct{}
}

func newLease(id, ttl, remaining int64, now func() time.Time) *Lease {
	return &Lease{
		ID:           id,
		ttl:          ttl,
		now:          now,
		remainingTTL: remaining,
		keys:         make(map[string]struct{}),
		revokec:      make(chan struct{}),
	}
}

// TTL returns the lease's granted TTL in seconds.
func (l *Lease) TTL() int64 { return l.ttl }

// RemainingTTL returns the TTL the lease restarts with when a lessor is
// promoted: the checkpointed remaining TTL if there is one, else the TTL.
func (l *Lease) RemainingTTL() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.unsafeRemainingTTL()
}

func (l *Lease) unsafeRemainingTTL() int64 {
	if l.remainingTTL > 0 {
		return l.remainingTTL
	}
	return l.ttl
}

// Remaining returns the time until the lease expires; a lease that never
// expires (on a secondary lessor) has math.MaxInt64.
func (l *Lease) Remaining() time.Duration {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.unsafeRemaining()
}

func (l *Lease) unsafeRemaining() time.Duration {
	if l.expiry.IsZero() {
		return time.Duration(math.MaxInt64)
	}
	return l.expiry.Sub(l.now())
}

// Keys returns the keys attached to the lease, sorted.
func (l *Lease) Keys() []string {
	l.mu.RLock()
	keys := make([]string, 0, len(l.keys))
	for k := range l.keys {
		keys = append(keys, k)
	}
	l.mu.RUnlock()
	sort.Strings(keys)
	return keys
}

// Revoked is closed when the lease is revoked.
func (l *Lease) Revoked() <-chan struct{} { return l.revokec }

func (l *Lease) expired() bool { return l.Remaining() <= 0 }

// refresh sets the expiry to now + extend + the remaining TTL.
func (l *Lease) refresh(extend time.Duration) {
	l.mu.Lock()
	l.expiry = l.now().Add(extend + time.Duration(l.unsafeRemainingTTL())*time.Second)
	l.mu.Unlock()
}

// forever makes the lease never expire.
func (l *Lease) forever() {
	l.mu.Lock()
	l.expiry = forever
	l.mu.Unlock()
}

func (l *Lease) getExpiry() time.Time {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.expiry
}

func (l *Lease) attach(key string) {
	l.mu.Lock()
	l.keys[key] = struct{}{}
	l.mu.Unlock()
}

func (l *Lease) detach(key string) {
	l.mu.Lock()
	delete(l.keys, key)
	l.mu.Unlock()
}

// leasesByExpiry sorts leases soonest expiry first.
type leasesByExpiry []*Lease

func (s leasesByExpiry) Len() int           { return len(s) }
func (s leasesByExpiry) Less(i, j int) bool { return s[i].Remaining() < s[j].Remaining() }
func (s leasesByExpiry) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
