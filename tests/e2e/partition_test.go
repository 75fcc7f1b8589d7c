package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/tests/framework"
)

// unavailable reports whether err is how a member cut off from the quorum
// answers: etcd's timeout or no-leader errors, or the caller's deadline.
func unavailable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, rpctypes.ErrTimeout) ||
		errors.Is(err, rpctypes.ErrNoLeader) || errors.Is(err, rpctypes.ErrTimeoutDueToLeaderFail) ||
		rpctypes.ErrorDesc(err) == rpctypes.ErrorDesc(rpctypes.ErrGRPCNoLeader) ||
		rpctypes.ErrorDesc(err) == rpctypes.ErrorDesc(rpctypes.ErrGRPCTimeout)
}

// TestPartition cuts first a follower, then the leader, off from the other
// two members of a cluster of built binaries (through TCP proxies in front
// of every peer port). The cut-off member fails linearizable reads and
// writes; the majority elects a leader if it must and goes on; once healed
// every member converges on the same revision and hash.
func TestPartition(t *testing.T) {
	ms := framework.StartProxiedCluster(t, framework.ProxiedClusterConfig{
		Size: 3, Token: "partition",
		ExtraArgs: []string{"--heartbeat-interval", "50", "--election-timeout", "500"},
	})
	clients := make([]*clientv3.Client, len(ms))
	plain := make([]*framework.Member, len(ms))
	for i, m := range ms {
		clients[i] = m.Client(t)
		plain[i] = m.Member
	}
	leaderIndex := func(skip int) int {
		return clusterLeaderAmong(t, plain, clients, func(i int) bool { return i != skip })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	put := func(i int, k, v string) error {
		cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
		defer ccancel()
		_, err := clients[i].Put(cctx, k, v)
		return err
	}
	get := func(i int, k string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
		cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
		defer ccancel()
		return clients[i].Get(cctx, k, opts...)
	}

	for round, cut := range []string{"follower", "leader"} {
		lead := leaderIndex(-1)
		victim := (lead + 1) % 3
		if cut == "leader" {
			victim = lead
		}
		framework.Isolate(ms, ms[victim], framework.Blackhole)
		// The majority goes on (after an election when the leader was cut).
		key := fmt.Sprintf("round%d", round)
		other := (victim + 1) % 3
		deadline := time.Now().Add(30 * time.Second)
		for {
			err := put(other, key, "majority")
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s cut off: the majority cannot write: %v", cut, err)
			}
		}
		if cut == "leader" {
			if newLead := leaderIndex(victim); newLead == victim {
				t.Fatalf("the isolated leader still leads the majority")
			}
		}
		// The isolated member fails linearizable reads and writes...
		if err := put(victim, key, "minority"); !unavailable(err) {
			t.Fatalf("%s cut off: its write answered %v, want a timeout or no-leader error", cut, err)
		}
		if _, err := get(victim, key); !unavailable(err) {
			t.Fatalf("%s cut off: its linearizable read answered %v, want a timeout or no-leader error", cut, err)
		}
		// ...but serves serializable reads of what it has.
		if _, err := get(victim, key, clientv3.WithSerializable()); err != nil {
			t.Fatalf("%s cut off: serializable read: %v", cut, err)
		}

		// PreVote: the cut-off follower's failed elections raise no term
		// the majority will see, so rejoining does not disrupt its leader.
		var leadTerm uint64
		var leadID uint64
		if cut == "follower" {
			cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
			st, err := clients[lead].Status(cctx, ms[lead].ClientURL)
			ccancel()
			if err != nil {
				t.Fatal(err)
			}
			leadTerm, leadID = st.RaftTerm, st.Leader
		}

		framework.HealAll(ms)
		// After healing every member reads the majority's write.
		deadline = time.Now().Add(30 * time.Second)
		for i := range ms {
			for {
				resp, err := get(i, key)
				if err == nil && len(resp.Kvs) == 1 && string(resp.Kvs[0].Value) == "majority" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after healing %s reads %v, %v", ms[i].Name, resp, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		if cut == "follower" {
			cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
			st, err := clients[victim].Status(cctx, ms[victim].ClientURL)
			ccancel()
			if err != nil {
				t.Fatal(err)
			}
			if st.Leader != leadID || st.RaftTerm != leadTerm {
				t.Errorf("the rejoining follower disrupted the leader: leader %x term %d, was %x term %d", st.Leader, st.RaftTerm, leadID, leadTerm)
			}
		}
	}
	// All converge: same revision and hash everywhere.
	if err := put(0, "final", "write"); err != nil {
		t.Fatal(err)
	}
	clusterConverged(t, plain, clients, "final", "write")
}
