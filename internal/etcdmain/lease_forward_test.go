package etcdmain_test

import (
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestClusterLeaseCallsOnFollower keeps a lease alive, asks its TTL and
// keys, and lists leases through a follower, which forwards renewals and
// TTL queries to the leader's lessor. A revoke through the follower goes
// through raft and the lease is gone everywhere.
func TestClusterLeaseCallsOnFollower(t *testing.T) {
	ms := startCluster(t, 3)
	lead := leaderOf(t, ms)
	f := ms[(lead+1)%3]

	grant, err := f.cli.Grant(f.ctx(), 30)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cli.Put(f.ctx(), "leased", "v", clientv3.WithLease(grant.ID)); err != nil {
		t.Fatal(err)
	}
	ka, err := f.cli.KeepAliveOnce(f.ctx(), grant.ID)
	if err != nil {
		t.Fatalf("keep-alive through a follower: %v", err)
	}
	if ka.TTL != 30 {
		t.Errorf("keep-alive through a follower: TTL %d, want 30", ka.TTL)
	}
	ttl, err := f.cli.TimeToLive(f.ctx(), grant.ID, clientv3.WithAttachedKeys())
	if err != nil {
		t.Fatalf("time to live through a follower: %v", err)
	}
	if ttl.GrantedTTL != 30 || ttl.TTL <= 0 || ttl.TTL > 30 || len(ttl.Keys) != 1 || string(ttl.Keys[0]) != "leased" {
		t.Errorf("time to live through a follower: %+v", ttl)
	}
	if ttl.ResponseHeader.MemberId != mustStatus(t, f).Header.MemberId {
		t.Errorf("the answer's header names member %x, not the follower", ttl.ResponseHeader.MemberId)
	}

	// A stream of keep-alives through the follower.
	ch, err := f.cli.KeepAlive(f.ctx(), grant.ID)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-ch:
		if resp == nil || resp.TTL != 30 {
			t.Fatalf("keep-alive stream through a follower: %v", resp)
		}
	case <-time.After(callTimeout):
		t.Fatal("no keep-alive answer through the follower")
	}

	// An unknown lease: TTL -1 and keep-alive "not found", as etcd.
	unk, err := f.cli.TimeToLive(f.ctx(), 12345)
	if err != nil || unk.TTL != -1 {
		t.Errorf("time to live of an unknown lease through a follower: %v %v", unk, err)
	}
	if _, err := f.cli.KeepAliveOnce(f.ctx(), 12345); err == nil {
		t.Error("keep-alive of an unknown lease through a follower succeeded")
	}

	if _, err := f.cli.Revoke(f.ctx(), grant.ID); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		resp, err := m.cli.Get(m.ctx(), "leased")
		if err != nil || len(resp.Kvs) != 0 {
			t.Errorf("%s after revoke: %v %v", m.name, resp, err)
		}
	}
}
