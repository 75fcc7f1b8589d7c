package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/tests/framework"
)

// TestLeaseKill9 grants leases and attaches keys, kills the server with
// SIGKILL (once at once after the last acknowledgement, when the backend
// has likely not committed and the WAL replay must rebuild the leases; once
// after the backend's batch interval) and restarts it: the leases and their
// keys are back, a long lease still has time left, a short one expires and
// takes its key, and revoking a recovered lease deletes its keys.
func TestLeaseKill9(t *testing.T) {
	m := framework.StartMember(t, framework.MemberConfig{Name: "lease-crash", ReadyTimeout: 15 * time.Second})
	cli := m.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()

	for round, pause := range []time.Duration{0, 300 * time.Millisecond} {
		long, err := cli.Grant(ctx, 300)
		if err != nil {
			t.Fatalf("round %d: grant: %v", round, err)
		}
		short, err := cli.Grant(ctx, 2)
		if err != nil {
			t.Fatalf("round %d: grant: %v", round, err)
		}
		var longKeys []string
		for i := range 5 {
			k := fmt.Sprintf("lease/r%d/long/%d", round, i)
			longKeys = append(longKeys, k)
			if _, err := cli.Put(ctx, k, "v", clientv3.WithLease(long.ID)); err != nil {
				t.Fatalf("round %d: put: %v", round, err)
			}
		}
		shortKey := fmt.Sprintf("lease/r%d/short", round)
		if _, err := cli.Put(ctx, shortKey, "v", clientv3.WithLease(short.ID)); err != nil {
			t.Fatalf("round %d: put: %v", round, err)
		}
		time.Sleep(pause)
		m.Kill()
		if err := m.Start(); err != nil {
			t.Fatalf("round %d: restart after SIGKILL: %v", round, err)
		}

		tl, err := cli.TimeToLive(ctx, long.ID, clientv3.WithAttachedKeys())
		if err != nil {
			t.Fatalf("round %d: timetolive: %v", round, err)
		}
		var got []string
		for _, k := range tl.Keys {
			got = append(got, string(k))
		}
		if tl.GrantedTTL != 300 || tl.TTL <= 0 || !slices.Equal(got, longKeys) {
			t.Fatalf("round %d: long lease after restart: ttl %d granted %d keys %v, want keys %v",
				round, tl.TTL, tl.GrantedTTL, got, longKeys)
		}
		// The short lease expires on the restarted member, with its key.
		deadline := time.Now().Add(15 * time.Second)
		for {
			g, err := cli.Get(ctx, shortKey)
			if err != nil {
				t.Fatalf("round %d: get: %v", round, err)
			}
			if len(g.Kvs) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: key of the short lease never expired after restart", round)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if st, err := cli.TimeToLive(ctx, short.ID); err != nil || st.TTL != -1 {
			t.Fatalf("round %d: short lease after expiry: %v %v", round, st, err)
		}
		g, err := cli.Get(ctx, fmt.Sprintf("lease/r%d/long/", round), clientv3.WithPrefix())
		if err != nil || len(g.Kvs) != len(longKeys) {
			t.Fatalf("round %d: long lease keys: %v %v", round, g, err)
		}
		before := g.Header.Revision
		rr, err := cli.Revoke(ctx, long.ID)
		if err != nil {
			t.Fatalf("round %d: revoke: %v", round, err)
		}
		if rr.Header.Revision != before+1 {
			t.Errorf("round %d: revoke at revision %d, want %d", round, rr.Header.Revision, before+1)
		}
		g, err = cli.Get(ctx, "lease/", clientv3.WithPrefix())
		if err != nil || len(g.Kvs) != 0 {
			t.Fatalf("round %d: keys after revoke: %v %v", round, g, err)
		}
	}
	ls, err := cli.Leases(ctx)
	if err != nil || len(ls.Leases) != 0 {
		t.Fatalf("leases at the end: %v %v", ls, err)
	}
}
