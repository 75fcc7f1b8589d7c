package etcdmain_test

import (
	"context"
	"slices"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// waitGone polls until key is deleted or within expires; it returns how
// long after start the key was seen gone.
func waitGone(t *testing.T, m *testMember, key string, start time.Time, within time.Duration) time.Duration {
	t.Helper()
	for {
		g, err := m.cli.Get(m.ctx(), key)
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		if len(g.Kvs) == 0 {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s still there %v after its lease was granted", key, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLeaseGrantRevokeTimeToLive(t *testing.T) {
	m := startMember(t)

	g, err := m.cli.Grant(m.ctx(), 30)
	if err != nil {
		t.Fatalf("grant: %v", err)
	}
	if g.ID <= 0 || g.TTL != 30 {
		t.Fatalf("grant: id %d ttl %d, want a positive id chosen by the server and ttl 30", g.ID, g.TTL)
	}
	// A client-chosen ID.
	lc := pb.NewLeaseClient(m.cli.ActiveConnection())
	own, err := lc.LeaseGrant(m.ctx(), &pb.LeaseGrantRequest{ID: 0x1234, TTL: 40})
	if err != nil || own.GetID() != 0x1234 || own.GetTTL() != 40 {
		t.Fatalf("grant with id: %v %v", own, err)
	}
	if own.GetHeader().GetRevision() == 0 || own.GetHeader().GetMemberId() == 0 {
		t.Errorf("grant header %v", own.GetHeader())
	}
	_, err = lc.LeaseGrant(m.ctx(), &pb.LeaseGrantRequest{ID: 0x1234, TTL: 40})
	wantStatus(t, "grant of an existing id", err, rpctypes.ErrGRPCLeaseExist)
	_, err = m.cli.Grant(m.ctx(), 9_000_000_001)
	wantClientErr(t, "grant of a too large ttl", err, rpctypes.ErrLeaseTTLTooLarge)

	if _, err := m.cli.Put(m.ctx(), "a", "1", clientv3.WithLease(g.ID)); err != nil {
		t.Fatalf("put with lease: %v", err)
	}
	if _, err := m.cli.Put(m.ctx(), "b", "1", clientv3.WithLease(g.ID)); err != nil {
		t.Fatalf("put with lease: %v", err)
	}
	ttl, err := m.cli.TimeToLive(m.ctx(), g.ID, clientv3.WithAttachedKeys())
	if err != nil {
		t.Fatalf("timetolive: %v", err)
	}
	if ttl.TTL <= 0 || ttl.TTL > 30 || ttl.GrantedTTL != 30 || len(ttl.Keys) != 2 ||
		string(ttl.Keys[0]) != "a" || string(ttl.Keys[1]) != "b" {
		t.Errorf("timetolive: ttl %d granted %d keys %q", ttl.TTL, ttl.GrantedTTL, ttl.Keys)
	}
	ls, err := m.cli.Leases(m.ctx())
	if err != nil {
		t.Fatalf("leases: %v", err)
	}
	var ids []int64
	for _, l := range ls.Leases {
		ids = append(ids, int64(l.ID))
	}
	slices.Sort(ids)
	if want := []int64{0x1234, int64(g.ID)}; !slices.Equal(ids, slices.Sorted(slices.Values(want))) {
		t.Errorf("leases %v, want %v", ids, want)
	}

	if _, err := m.cli.Revoke(m.ctx(), g.ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	_, err = m.cli.Revoke(m.ctx(), g.ID)
	wantClientErr(t, "revoke of a revoked lease", err, rpctypes.ErrLeaseNotFound)
	ttl, err = m.cli.TimeToLive(m.ctx(), g.ID)
	if err != nil || ttl.TTL != -1 {
		t.Errorf("timetolive of a revoked lease: %v %v, want ttl -1", ttl, err)
	}
	_, err = m.cli.Put(m.ctx(), "c", "1", clientv3.WithLease(g.ID))
	wantClientErr(t, "put with a revoked lease", err, rpctypes.ErrLeaseNotFound)
	_, err = m.cli.KeepAliveOnce(m.ctx(), g.ID)
	wantClientErr(t, "keepalive of a revoked lease", err, rpctypes.ErrLeaseNotFound)
}

func TestLeaseRevokeDeletesKeysAtOneRevision(t *testing.T) {
	m := startMember(t)
	g, err := m.cli.Grant(m.ctx(), 60)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"k3", "k1", "k2", "moved", "deleted", "kept"} {
		if _, err := m.cli.Put(m.ctx(), k, "v", clientv3.WithLease(g.ID)); err != nil {
			t.Fatal(err)
		}
	}
	// ignore_lease keeps the key attached; a put without lease detaches; a
	// delete detaches.
	if _, err := m.cli.Put(m.ctx(), "kept", "v2", clientv3.WithIgnoreLease()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.cli.Put(m.ctx(), "moved", "v2"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.cli.Delete(m.ctx(), "deleted"); err != nil {
		t.Fatal(err)
	}
	// In a txn too.
	if _, err := m.cli.Txn(m.ctx()).Then(clientv3.OpPut("t", "v", clientv3.WithLease(g.ID))).Commit(); err != nil {
		t.Fatal(err)
	}
	ttl, err := m.cli.TimeToLive(m.ctx(), g.ID, clientv3.WithAttachedKeys())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range ttl.Keys {
		keys = append(keys, string(k))
	}
	if want := []string{"k1", "k2", "k3", "kept", "t"}; !slices.Equal(keys, want) {
		t.Errorf("attached keys %v, want %v", keys, want)
	}

	before, err := m.cli.Get(m.ctx(), "probe")
	if err != nil {
		t.Fatal(err)
	}
	rr, err := m.cli.Revoke(m.ctx(), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	rev := before.Header.Revision + 1
	if rr.Header.Revision != rev {
		t.Errorf("revoke at revision %d, want %d", rr.Header.Revision, rev)
	}
	all, err := m.cli.Get(m.ctx(), "", clientv3.WithFromKey())
	if err != nil {
		t.Fatal(err)
	}
	wantKeys(t, "after revoke", all.Kvs, "moved")
	if all.Header.Revision != rev {
		t.Errorf("store at revision %d after revoke, want %d: one revision for all deletes", all.Header.Revision, rev)
	}
	old, err := m.cli.Get(m.ctx(), "", clientv3.WithFromKey(), clientv3.WithRev(rev-1))
	if err != nil {
		t.Fatal(err)
	}
	wantKeys(t, "before revoke", old.Kvs, "k1", "k2", "k3", "kept", "moved", "t")
}

func TestLeaseExpiryDeletesKeys(t *testing.T) {
	m := startMember(t)
	const ttl = 2
	start := time.Now()
	g, err := m.cli.Grant(m.ctx(), ttl)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"e1", "e2"} {
		if _, err := m.cli.Put(m.ctx(), k, "v", clientv3.WithLease(g.ID)); err != nil {
			t.Fatal(err)
		}
	}
	before, err := m.cli.Get(m.ctx(), "e1")
	if err != nil || len(before.Kvs) != 1 {
		t.Fatalf("get before expiry: %v %v", before, err)
	}
	took := waitGone(t, m, "e1", start, ttl*time.Second+time.Second)
	t.Logf("keys gone %v after the grant of a %ds lease", took, ttl)
	after, err := m.cli.Get(m.ctx(), "", clientv3.WithFromKey())
	if err != nil {
		t.Fatal(err)
	}
	wantKeys(t, "after expiry", after.Kvs)
	// Both keys went in one revision.
	if after.Header.Revision != before.Header.Revision+1 {
		t.Errorf("expiry revision %d, want %d", after.Header.Revision, before.Header.Revision+1)
	}
	tl, err := m.cli.TimeToLive(m.ctx(), g.ID)
	if err != nil || tl.TTL != -1 {
		t.Errorf("timetolive after expiry: %v %v", tl, err)
	}
}

func TestLeaseKeepAliveHoldsLease(t *testing.T) {
	m := startMember(t)
	g, err := m.cli.Grant(m.ctx(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.cli.Put(m.ctx(), "held", "v", clientv3.WithLease(g.ID)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := m.cli.KeepAlive(ctx, g.ID)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	// Hold it for several TTLs.
	n := 0
	deadline := time.After(4 * time.Second)
loop:
	for {
		select {
		case resp, ok := <-ch:
			if !ok {
				t.Fatal("keepalive channel closed while holding the lease")
			}
			if resp.ID != g.ID || resp.TTL != 1 {
				t.Fatalf("keepalive answer %+v", resp)
			}
			n++
		case <-deadline:
			break loop
		}
	}
	g2, err := m.cli.Get(m.ctx(), "held")
	if err != nil || len(g2.Kvs) != 1 {
		t.Fatalf("key under keep-alive gone: %v %v", g2, err)
	}
	if n < 2 {
		t.Errorf("%d keepalive answers in 4s", n)
	}
	// Once the client stops, the lease expires.
	cancel()
	for range ch {
	}
	waitGone(t, m, "held", time.Now(), 10*time.Second)
	if ka, err := m.cli.KeepAliveOnce(m.ctx(), g.ID); err == nil {
		t.Errorf("keepalive of an expired lease answered %+v", ka)
	}
}

func TestLeaseKeepAliveStreamUnknownLease(t *testing.T) {
	m := startMember(t)
	st, err := pb.NewLeaseClient(m.cli.ActiveConnection()).LeaseKeepAlive(m.ctx())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&pb.LeaseKeepAliveRequest{ID: 999}); err != nil {
		t.Fatal(err)
	}
	resp, err := st.Recv()
	if err != nil || resp.GetID() != 999 || resp.GetTTL() != 0 || resp.GetHeader().GetRevision() == 0 {
		t.Errorf("keepalive of an unknown lease: %v %v, want TTL 0 with a header", resp, err)
	}
	st.CloseSend()
}

func TestLeasesSurviveRestart(t *testing.T) {
	m := startMember(t)
	long, err := m.cli.Grant(m.ctx(), 120)
	if err != nil {
		t.Fatal(err)
	}
	short, err := m.cli.Grant(m.ctx(), 3)
	if err != nil {
		t.Fatal(err)
	}
	for k, id := range map[string]clientv3.LeaseID{"l1": long.ID, "l2": long.ID, "s1": short.ID} {
		if _, err := m.cli.Put(m.ctx(), k, "v", clientv3.WithLease(id)); err != nil {
			t.Fatal(err)
		}
	}
	m.restart()

	ls, err := m.cli.Leases(m.ctx())
	if err != nil || len(ls.Leases) != 2 {
		t.Fatalf("leases after restart: %v %v", ls, err)
	}
	tl, err := m.cli.TimeToLive(m.ctx(), long.ID, clientv3.WithAttachedKeys())
	if err != nil || tl.GrantedTTL != 120 || len(tl.Keys) != 2 || tl.TTL <= 0 {
		t.Fatalf("long lease after restart: %+v %v", tl, err)
	}
	kv, err := m.cli.Get(m.ctx(), "l1")
	if err != nil || len(kv.Kvs) != 1 || kv.Kvs[0].Lease != int64(long.ID) {
		t.Fatalf("l1 after restart: %v %v", kv, err)
	}
	// The restarted member expires the short lease and its key.
	waitGone(t, m, "s1", time.Now(), 10*time.Second)
	// And the rebuilt attachments let a revoke delete the long lease's keys.
	if _, err := m.cli.Revoke(m.ctx(), long.ID); err != nil {
		t.Fatal(err)
	}
	all, err := m.cli.Get(m.ctx(), "", clientv3.WithFromKey())
	if err != nil {
		t.Fatal(err)
	}
	wantKeys(t, "after revoke", all.Kvs)
	m.restart()
	ls, err = m.cli.Leases(m.ctx())
	if err != nil || len(ls.Leases) != 0 {
		t.Fatalf("leases after second restart: %v %v", ls, err)
	}
}

func TestLeaseMinimumTTL(t *testing.T) {
	// 100ms heartbeats, 2s election timeout: 30 heartbeats * 100ms = 3s.
	m := startMember(t, "--heartbeat-interval", "100", "--election-timeout", "2000")
	g, err := m.cli.Grant(m.ctx(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if g.TTL != 3 {
		t.Errorf("grant ttl 1: got %d, want the minimum 3", g.TTL)
	}
	g, err = m.cli.Grant(m.ctx(), 5)
	if err != nil || g.TTL != 5 {
		t.Errorf("grant ttl 5: %v %v", g, err)
	}
}
