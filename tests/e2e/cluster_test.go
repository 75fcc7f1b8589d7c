package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/tests/framework"
)

// clusterConverge bounds waiting for a cluster to agree on something; it
// only keeps a broken cluster from hanging the run.
const clusterConverge = 30 * time.Second

var clusterFlags = []string{"--heartbeat-interval", "20", "--election-timeout", "200"}

// clusterLeader waits until the running members agree on a leader among
// them and returns its index.
func clusterLeader(t *testing.T, ms []*framework.Member, clis []*clientv3.Client) int {
	t.Helper()
	return clusterLeaderAmong(t, ms, clis, func(i int) bool { return ms[i].Running() })
}

// clusterLeaderAmong is clusterLeader over the members i for which include
// is true.
func clusterLeaderAmong(t *testing.T, ms []*framework.Member, clis []*clientv3.Client, include func(i int) bool) int {
	t.Helper()
	deadline := time.Now().Add(clusterConverge)
	for {
		lead, idx, agree := uint64(0), -1, true
		for i, m := range ms {
			if !include(i) {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			st, err := clis[i].Status(ctx, m.ClientURL)
			cancel()
			if err != nil || st.Leader == 0 || (lead != 0 && st.Leader != lead) {
				agree = false
				break
			}
			lead = st.Leader
			if st.Header.MemberId == lead {
				idx = i
			}
		}
		if agree && idx >= 0 {
			return idx
		}
		if time.Now().After(deadline) {
			t.Fatalf("the members did not agree on a leader among them within %v", clusterConverge)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clusterConverged waits until every member reads key at value at one
// revision and all have the same HashKV at it.
func clusterConverged(t *testing.T, ms []*framework.Member, clis []*clientv3.Client, key, value string) {
	t.Helper()
	deadline := time.Now().Add(clusterConverge)
	for {
		var problems []string
		var rev int64
		var hash uint32
		for i, m := range ms {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			resp, err := clis[i].Get(ctx, key)
			var h *clientv3.HashKVResponse
			if err == nil {
				h, err = clis[i].HashKV(ctx, m.ClientURL, 0)
			}
			cancel()
			switch {
			case err != nil:
				problems = append(problems, fmt.Sprintf("%s: %v", m.Name, err))
			case len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != value:
				problems = append(problems, fmt.Sprintf("%s: %s = %v, want %q", m.Name, key, resp.Kvs, value))
			case i == 0:
				rev, hash = h.Header.Revision, h.Hash
			case h.Header.Revision != rev || h.Hash != hash:
				problems = append(problems, fmt.Sprintf("%s: hashkv %d at %d, %s has %d at %d", m.Name, h.Hash, h.Header.Revision, ms[0].Name, hash, rev))
			}
		}
		if len(problems) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the members did not converge within %v: %s", clusterConverge, strings.Join(problems, "; "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func clusterClients(t *testing.T, ms []*framework.Member) []*clientv3.Client {
	clis := make([]*clientv3.Client, len(ms))
	for i, m := range ms {
		clis[i] = m.Client(t)
	}
	return clis
}

func putOK(t *testing.T, cli *clientv3.Client, via, key, value string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Put(ctx, key, value)
	if err != nil {
		t.Fatalf("put %s via %s: %v", key, via, err)
	}
	return resp.Header.Revision
}

// TestClusterKillLeader runs three of our members: a put via one is read
// via the others; the leader is killed with SIGKILL and writes continue via
// the two left; restarted, it catches up and all three agree on HashKV.
func TestClusterKillLeader(t *testing.T) {
	ms := framework.StartCluster(t, "", 3, clusterFlags...)
	clis := clusterClients(t, ms)
	testClusterKillLeader(t, ms, clis)
}

func testClusterKillLeader(t *testing.T, ms []*framework.Member, clis []*clientv3.Client) {
	lead := clusterLeader(t, ms, clis)
	rev := putOK(t, clis[0], ms[0].Name, "k", "v0")
	for i := 1; i < len(ms); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := clis[i].Get(ctx, "k")
		cancel()
		if err != nil {
			t.Fatalf("get via %s: %v", ms[i].Name, err)
		}
		if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v0" || resp.Kvs[0].ModRevision != rev {
			t.Fatalf("get via %s = %v, want v0 at revision %d", ms[i].Name, resp.Kvs, rev)
		}
	}

	ms[lead].Kill()
	clusterLeader(t, ms, clis)
	for i, m := range ms {
		if i != lead {
			putOK(t, clis[i], m.Name, fmt.Sprintf("after-kill-%d", i), "x")
		}
	}
	other := (lead + 1) % len(ms)
	putOK(t, clis[other], ms[other].Name, "last", "v1")

	if err := ms[lead].Start(); err != nil {
		t.Fatalf("restart %s: %v", ms[lead].Name, err)
	}
	clusterLeader(t, ms, clis)
	clusterConverged(t, ms, clis, "last", "v1")
}

// TestClusterMixedWithReference runs official etcd as one of three members
// next to two of ours: the same checks as TestClusterKillLeader.
func TestClusterMixedWithReference(t *testing.T) {
	ref := framework.Reference(t)
	const n = 3
	var parts []string
	ports := make([][2]int, n)
	for i := range ports {
		ports[i] = [2]int{framework.FreePort(t), framework.FreePort(t)}
		parts = append(parts, fmt.Sprintf("m%d=http://127.0.0.1:%d", i, ports[i][1]))
	}
	ms := make([]*framework.Member, n)
	for i := range ms {
		bin := ""
		if i == 1 {
			bin = ref.Etcd
		}
		ms[i] = framework.NewMember(t, framework.MemberConfig{
			Bin:                 bin,
			Name:                fmt.Sprintf("m%d", i),
			ClientPort:          ports[i][0],
			PeerPort:            ports[i][1],
			InitialCluster:      strings.Join(parts, ","),
			InitialClusterToken: "e2e-mixed",
			ExtraArgs:           clusterFlags,
			ReadyTimeout:        clusterConverge,
		})
	}
	for _, m := range ms {
		if err := m.StartNoWait(); err != nil {
			t.Fatalf("start %s: %v", m.Name, err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, m := range ms {
		wg.Go(func() { errs[i] = m.WaitReady(clusterConverge) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s not ready: %v\n%s", ms[i].Name, err, ms[i].Tail(40))
		}
	}
	clis := clusterClients(t, ms)
	testClusterKillLeader(t, ms, clis)
}
