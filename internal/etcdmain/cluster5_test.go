package etcdmain_test

import (
	"fmt"
	"sync"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestClusterFiveMembersLoseTwoThenAllRestart runs five members: with two
// down the other three still take writes; then every member stops and starts
// again, and every acknowledged write is on every member.
func TestClusterFiveMembersLoseTwoThenAllRestart(t *testing.T) {
	// Five members under -race on two cores: a longer election timeout
	// than the other cluster tests, so that load alone elects nobody.
	ms := startCluster(t, 5, "--heartbeat-interval", "25", "--election-timeout", "500")
	var (
		mu    sync.Mutex
		acked []string
	)
	write := func(label string) {
		var wg sync.WaitGroup
		for i, m := range running(ms) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 10 {
					k := fmt.Sprintf("%s-%d-%d", label, i, j)
					// A proposal lost in a leader change times out, as in
					// etcd; durability is what is tested: try again.
					var err error
					for range 3 {
						if _, err = m.cli.Put(m.ctx(), k, k); err == nil {
							break
						}
					}
					if err != nil {
						t.Errorf("put %s via %s: %v", k, m.name, err)
						return
					}
					mu.Lock()
					acked = append(acked, k)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	write("all")
	lead := leaderOf(t, ms)
	// A follower and the leader go down: three of five remain a quorum.
	ms[(lead+1)%5].stop()
	ms[lead].stop()
	leaderOf(t, ms)
	write("three")

	for _, m := range ms {
		m.stop()
	}
	offs := make([]int, len(ms))
	for i, m := range ms {
		offs[i] = m.launch()
	}
	for i, m := range ms {
		m.waitReady(offs[i])
	}
	leaderOf(t, ms)
	for _, m := range ms {
		resp, err := m.cli.Get(m.ctx(), "", clientv3.WithPrefix(), clientv3.WithSerializable())
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, kv := range resp.Kvs {
			have[string(kv.Key)] = true
		}
		for _, k := range acked {
			if !have[k] {
				t.Errorf("%s lost acknowledged write %s", m.name, k)
			}
		}
	}
	if _, err := ms[0].cli.Put(ms[0].ctx(), "after", "restart"); err != nil {
		t.Fatal(err)
	}
	assertConverged(t, ms, "after", "restart")
}
