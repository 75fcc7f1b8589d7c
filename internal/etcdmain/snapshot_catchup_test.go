package etcdmain_test

import (
	"fmt"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestClusterFollowerCatchesUpBySnapshot stops a follower while the others
// write, compact and snapshot far past the entries they keep for slow
// followers. Restarted, the follower can only catch up by installing the
// leader's snapshot: afterwards it serves the same keys, revision, hash,
// compaction and leases, applies the log that follows, and restarts on the
// installed state.
func TestClusterFollowerCatchesUpBySnapshot(t *testing.T) {
	ms := startCluster(t, 3, "--snapshot-count", "40", "--snapshot-catchup-entries", "5")
	lead := leaderOf(t, ms)
	f := ms[(lead+1)%3]
	l := ms[lead]
	if _, err := l.cli.Put(l.ctx(), "before", "stop"); err != nil {
		t.Fatal(err)
	}
	f.stop()

	grant, err := l.cli.Grant(l.ctx(), 600)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if _, err := l.cli.Put(l.ctx(), fmt.Sprintf("k%03d", i), fmt.Sprintf("v%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.cli.Put(l.ctx(), "leased", "x", clientv3.WithLease(grant.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.cli.Delete(l.ctx(), "k1", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	resp, err := l.cli.Put(l.ctx(), "last", "1")
	if err != nil {
		t.Fatal(err)
	}
	compactRev := resp.Header.Revision - 10
	if _, err := l.cli.Compact(l.ctx(), compactRev, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}

	off := f.logLen()
	f.start()
	if !f.waitLog(off, `"msg":"applied snapshot"`) {
		t.Fatalf("the follower did not install a snapshot:\n%s", f.log()[off:])
	}
	assertConverged(t, ms, "last", "1")

	// The follower's own store answers as the leader's does.
	got, err := f.cli.Get(f.ctx(), "k", clientv3.WithPrefix(), clientv3.WithSerializable(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != 100 {
		t.Errorf("follower counts %d keys under k, want 100", got.Count)
	}
	if _, err := f.cli.Get(f.ctx(), "k000", clientv3.WithRev(compactRev-1), clientv3.WithSerializable()); err == nil {
		t.Errorf("follower serves revision %d, below the compacted %d", compactRev-1, compactRev)
	}
	lk, err := f.cli.Get(f.ctx(), "leased", clientv3.WithSerializable())
	if err != nil || len(lk.Kvs) != 1 || lk.Kvs[0].Lease != int64(grant.ID) {
		t.Fatalf("follower's leased key: %v, %v", lk, err)
	}
	// The leases came with the snapshot: revoking the lease on the leader
	// deletes the key on the follower too.
	if _, err := l.cli.Revoke(l.ctx(), grant.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := l.cli.Put(l.ctx(), "after", "snapshot"); err != nil {
		t.Fatal(err)
	}
	assertConverged(t, ms, "after", "snapshot")
	lk, err = f.cli.Get(f.ctx(), "leased", clientv3.WithSerializable())
	if err != nil || len(lk.Kvs) != 0 {
		t.Fatalf("follower still has the revoked lease's key: %v, %v", lk, err)
	}

	f.restart()
	assertConverged(t, ms, "after", "snapshot")
}

// TestClusterNewMemberCatchesUpBySnapshot adds a member to a cluster whose
// log was compacted long ago: it can only start from the leader's snapshot.
func TestClusterNewMemberCatchesUpBySnapshot(t *testing.T) {
	ms := startCluster(t, 3, "--snapshot-count", "20", "--snapshot-catchup-entries", "5")
	l := ms[leaderOf(t, ms)]
	for i := range 100 {
		if _, err := l.cli.Put(l.ctx(), fmt.Sprintf("k%03d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	j := joiner(t, ms, "m3")
	j.extra = append(j.extra, "--snapshot-count", "20", "--snapshot-catchup-entries", "5")
	if _, err := retryUnhealthy(t, func() (*clientv3.MemberAddResponse, error) {
		return l.cli.MemberAdd(l.ctx(), []string{j.peerURL})
	}); err != nil {
		t.Fatal(err)
	}
	off := j.logLen()
	j.start()
	if !j.waitLog(off, `"msg":"applied snapshot"`) {
		t.Fatalf("the new member did not start from a snapshot:\n%s", j.log())
	}
	if _, err := j.cli.Put(j.ctx(), "joined", "yes"); err != nil {
		t.Fatal(err)
	}
	assertConverged(t, append(ms, j), "joined", "yes")
	got, err := j.cli.Get(j.ctx(), "k", clientv3.WithPrefix(), clientv3.WithCountOnly(), clientv3.WithSerializable())
	if err != nil || got.Count != 100 {
		t.Fatalf("new member counts %v keys (%v), want 100", got, err)
	}
}
