package lease

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/etcdgo/etcd/internal/schema"
)

func TestGrantPersistsAndRejects(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MinLeaseTTL = 5 })
	l := e.grant(1, 2)
	if l.TTL() != 5 {
		t.Errorf("ttl 2 with minimum 5 granted %d", l.TTL())
	}
	e.grant(2, 100)
	if _, err := e.le.Grant(2, 10); !errors.Is(err, ErrLeaseExists) {
		t.Errorf("grant of an existing id: %v, want ErrLeaseExists", err)
	}
	if _, err := e.le.Grant(3, MaxLeaseTTL+1); !errors.Is(err, ErrLeaseTTLTooLarge) {
		t.Errorf("grant above MaxLeaseTTL: %v, want ErrLeaseTTLTooLarge", err)
	}
	if _, err := e.le.Grant(NoLease, 10); !errors.Is(err, ErrLeaseNotFound) {
		t.Errorf("grant of id 0: %v, want ErrLeaseNotFound", err)
	}
	want := map[int64]schema.LeaseRecord{1: {ID: 1, TTL: 5}, 2: {ID: 2, TTL: 100}}
	if got := e.stored(); !mapsEqual(got, want) {
		t.Errorf("lease bucket %v, want %v", got, want)
	}
	if !e.le.LeaseExists(1) || e.le.LeaseExists(3) {
		t.Errorf("LeaseExists(1)=%v LeaseExists(3)=%v", e.le.LeaseExists(1), e.le.LeaseExists(3))
	}
}

func mapsEqual(a, b map[int64]schema.LeaseRecord) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestLeaseRecordEncoding(t *testing.T) {
	// leasepb.Lease{ID: 1, TTL: 2, RemainingTTL: 3}: three varint fields.
	got := schema.MarshalLease(schema.LeaseRecord{ID: 1, TTL: 2, RemainingTTL: 3})
	if want := []byte{0x08, 1, 0x10, 2, 0x18, 3}; !slices.Equal(got, want) {
		t.Errorf("marshal: %x, want %x", got, want)
	}
	// Zero fields are left out, as proto3 does.
	if got := schema.MarshalLease(schema.LeaseRecord{ID: 300, TTL: 10}); !slices.Equal(got, []byte{0x08, 0xac, 0x02, 0x10, 10}) {
		t.Errorf("marshal without remaining TTL: %x", got)
	}
	r, err := schema.UnmarshalLease([]byte{0x08, 0xac, 0x02, 0x10, 10, 0x18, 7, 0x22, 1, 'x'})
	if err != nil || r != (schema.LeaseRecord{ID: 300, TTL: 10, RemainingTTL: 7}) {
		t.Errorf("unmarshal with an unknown field: %+v, %v", r, err)
	}
	if k := schema.LeaseKey(0x0102); !slices.Equal(k, []byte{0, 0, 0, 0, 0, 0, 1, 2}) {
		t.Errorf("lease key %x", k)
	}
}

func TestAttachDetach(t *testing.T) {
	e := newEnv(t, nil)
	e.grant(1, 10)
	e.grant(2, 10)
	e.put("a", 1)
	e.put("b", 1)
	e.put("c", 2)
	if got := e.le.Lookup(1).Keys(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("lease 1 keys %v", got)
	}
	e.put("b", 0) // a put without a lease detaches
	e.put("c", 1) // a put with another lease moves the key
	e.del("a")    // a delete detaches
	if got := e.le.Lookup(1).Keys(); !slices.Equal(got, []string{"c"}) {
		t.Errorf("lease 1 keys %v, want [c]", got)
	}
	if got := e.le.Lookup(2).Keys(); len(got) != 0 {
		t.Errorf("lease 2 keys %v, want none", got)
	}
	// Revoking lease 2 deletes nothing: c moved away.
	if err := e.le.Revoke(2); err != nil {
		t.Fatal(err)
	}
	if got := e.liveKeys(); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("live keys %v, want [b c]", got)
	}
}

func TestRevokeDeletesKeysAtOneRevision(t *testing.T) {
	e := newEnv(t, nil)
	l := e.grant(7, 10)
	for _, k := range []string{"z", "x", "y"} {
		e.put(k, 7)
	}
	e.put("keep", 0)
	before := e.kv.Rev()
	if err := e.le.Revoke(7); err != nil {
		t.Fatal(err)
	}
	if got := e.kv.Rev(); got != before+1 {
		t.Errorf("revision after revoke %d, want %d (one txn)", got, before+1)
	}
	if got := e.liveKeys(); !slices.Equal(got, []string{"keep"}) {
		t.Errorf("live keys %v", got)
	}
	select {
	case <-l.Revoked():
	default:
		t.Error("revoked channel not closed")
	}
	if _, ok := e.stored()[7]; ok {
		t.Error("lease still in the lease bucket")
	}
	if e.le.Lookup(7) != nil {
		t.Error("lease still known")
	}
	if err := e.le.Revoke(7); !errors.Is(err, ErrLeaseNotFound) {
		t.Errorf("second revoke: %v", err)
	}
	// A revoke without keys writes no revision.
	e.grant(8, 10)
	rev := e.kv.Rev()
	if err := e.le.Revoke(8); err != nil || e.kv.Rev() != rev {
		t.Errorf("empty revoke: %v, revision %d -> %d", err, rev, e.kv.Rev())
	}
	// The lease and its keys are gone from the file too.
	e.reopen()
	if e.le.Lookup(7) != nil || len(e.stored()) != 0 {
		t.Error("revoked lease came back after a reopen")
	}
}

func TestExpiryOnlyOnPrimaryInOrder(t *testing.T) {
	e := newEnv(t, nil)
	e.grant(3, 3)
	e.grant(1, 1)
	e.grant(2, 2)
	// A secondary never reports expiries.
	e.clock.Advance(10 * time.Second)
	if ids := e.expired(50 * time.Millisecond); ids != nil {
		t.Fatalf("secondary reported %v expired", ids)
	}
	e.le.Promote(0)
	if ids := e.expired(50 * time.Millisecond); ids != nil {
		t.Fatalf("just promoted, %v expired", ids)
	}
	e.clock.Advance(1500 * time.Millisecond)
	if ids := e.expired(time.Second); !slices.Equal(ids, []int64{1}) {
		t.Fatalf("after 1.5s expired %v, want [1]", ids)
	}
	e.clock.Advance(time.Second)
	if ids := e.expired(time.Second); !slices.Equal(ids, []int64{2}) {
		t.Fatalf("after 2.5s expired %v, want [2]", ids)
	}
	// Renewing lease 3 pushes it back by its TTL.
	if ttl, err := e.le.Renew(context.Background(), 3); err != nil || ttl != 3 {
		t.Fatalf("renew: %d, %v", ttl, err)
	}
	e.clock.Advance(time.Second)
	if ids := e.expired(50 * time.Millisecond); slices.Contains(ids, 3) {
		t.Fatalf("renewed lease expired early")
	}
	e.clock.Advance(2500 * time.Millisecond)
	if ids := e.expired(time.Second); !slices.Contains(ids, 3) {
		t.Fatalf("renewed lease did not expire after its TTL: %v", ids)
	}
	// Demote stops expiry.
	e.le.Demote()
	e.clock.Advance(time.Hour)
	if ids := e.expired(50 * time.Millisecond); ids != nil {
		t.Fatalf("demoted lessor reported %v", ids)
	}
	if _, err := e.le.Renew(context.Background(), 1); !errors.Is(err, ErrNotPrimary) {
		t.Errorf("renew on a secondary: %v", err)
	}
}

func TestExpiredLeaseIsReportedAgainUntilRevoked(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ExpiredLeasesRetryInterval = 2 * time.Second })
	e.le.Promote(0)
	e.grant(1, 1)
	e.clock.Advance(2 * time.Second)
	if ids := e.expired(time.Second); !slices.Equal(ids, []int64{1}) {
		t.Fatalf("expired %v", ids)
	}
	if ids := e.expired(50 * time.Millisecond); ids != nil {
		t.Fatalf("reported again before the retry interval: %v", ids)
	}
	e.clock.Advance(3 * time.Second)
	if ids := e.expired(time.Second); !slices.Equal(ids, []int64{1}) {
		t.Fatalf("not reported again after the retry interval: %v", ids)
	}
	if err := e.le.Revoke(1); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Second)
	if ids := e.expired(50 * time.Millisecond); ids != nil {
		t.Fatalf("revoked lease reported: %v", ids)
	}
}

func TestRenewOfExpiredLeaseWaitsForRevoke(t *testing.T) {
	e := newEnv(t, nil)
	e.le.Promote(0)
	e.grant(1, 1)
	e.clock.Advance(2 * time.Second)
	errc := make(chan error, 1)
	go func() {
		_, err := e.le.Renew(context.Background(), 1)
		errc <- err
	}()
	if err := e.le.Revoke(1); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrLeaseNotFound) {
		t.Errorf("renew of an expired lease: %v, want ErrLeaseNotFound", err)
	}
	if _, err := e.le.Renew(context.Background(), 42); !errors.Is(err, ErrLeaseNotFound) {
		t.Errorf("renew of an unknown lease: %v", err)
	}
}

func TestPromoteExtends(t *testing.T) {
	e := newEnv(t, nil)
	l := e.grant(1, 10)
	if l.Remaining() < time.Hour {
		t.Fatalf("secondary lease expires in %v, want never", l.Remaining())
	}
	e.le.Promote(2 * time.Second)
	if got := l.Remaining(); got != 12*time.Second {
		t.Errorf("after Promote(2s) remaining %v, want 12s", got)
	}
}

func TestPromoteSpreadsPiledUpLeases(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LeaseRevokeRate = 8 })
	for id := int64(1); id <= 12; id++ {
		e.grant(id, 5)
	}
	e.le.Promote(0)
	// 3/4 of the rate (6) may expire in the first second; the rest later.
	late := 0
	for _, l := range e.le.Leases() {
		if l.Remaining() > 5*time.Second {
			late++
		}
	}
	if late != 6 {
		t.Errorf("%d leases pushed back, want 6", late)
	}
}

func TestCheckpointPersistsRemainingTTL(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.CheckpointInterval = 2 * time.Second })
	e.le.Promote(0)
	e.grant(1, 10)
	e.grant(2, 1) // shorter than the interval: never checkpointed
	e.clock.Advance(2500 * time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for len(e.checkpoints()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cps := e.checkpoints()
	if len(cps) != 1 || cps[0].GetID() != 1 || cps[0].GetRemaining_TTL() != 8 {
		t.Fatalf("checkpoints %v, want lease 1 with 8s left", cps)
	}
	// The server applies it through raft.
	if err := e.le.Checkpoint(1, cps[0].GetRemaining_TTL()); err != nil {
		t.Fatal(err)
	}
	if got := e.stored()[1]; got != (schema.LeaseRecord{ID: 1, TTL: 10, RemainingTTL: 8}) {
		t.Errorf("stored %+v", got)
	}
	// A restarted member resumes from the checkpoint, not the full TTL.
	e.put("k", 1)
	e.be.ForceCommit()
	e.reopen()
	l := e.le.Lookup(1)
	if l == nil || l.RemainingTTL() != 8 || l.TTL() != 10 {
		t.Fatalf("after reopen: %+v", l)
	}
	if got := l.Keys(); !slices.Equal(got, []string{"k"}) {
		t.Errorf("keys after reopen %v", got)
	}
	e.le.Promote(time.Second)
	if got := l.Remaining(); got != 9*time.Second {
		t.Errorf("promoted remaining %v, want 8s + 1s", got)
	}
	// Renewing clears the checkpoint through raft and restarts the full TTL.
	if ttl, err := e.le.Renew(context.Background(), 1); err != nil || ttl != 10 {
		t.Fatalf("renew: %d %v", ttl, err)
	}
	cps = e.checkpoints()
	if last := cps[len(cps)-1]; last.GetID() != 1 || last.GetRemaining_TTL() != 0 {
		t.Errorf("renew proposed %v, want a clearing checkpoint", last)
	}
}

func TestRecoverRaisesTTLToMinimum(t *testing.T) {
	e := newEnv(t, nil)
	e.grant(1, 1)
	e.be.ForceCommit()
	e.cfg.MinLeaseTTL = 4
	e.reopen()
	if l := e.le.Lookup(1); l == nil || l.TTL() != 4 {
		t.Fatalf("recovered lease %+v, want TTL raised to 4", l)
	}
}
