package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/tests/framework"
)

const (
	crashRounds  = 5
	crashWriters = 16
	// crashBudget bounds the whole test.
	crashBudget = 55 * time.Second
)

// ackedPut is a put the server acknowledged.
type ackedPut struct {
	key, value string
	rev        int64
}

// TestCrashKill9 writes from 16 concurrent clients, kills the server with
// SIGKILL at a random moment, restarts it on the same data directory and
// checks that every acknowledged put survived with its value and revision
// and that the store revision never went backwards. It repeats for several
// rounds on the same data directory.
func TestCrashKill9(t *testing.T) {
	start := time.Now()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))

	m := framework.StartMember(t, framework.MemberConfig{Name: "crash", ReadyTimeout: 15 * time.Second})
	cli := m.Client(t)

	var all []ackedPut
	var highest int64 // highest revision ever acknowledged or observed
	for round := range crashRounds {
		if time.Since(start) > crashBudget-8*time.Second {
			t.Fatalf("round %d: out of time budget (%s used); the server restarts too slowly", round, time.Since(start).Round(time.Millisecond))
		}
		acked := writeUntilKilled(t, m, cli, round, time.Duration(100+rng.IntN(900))*time.Millisecond)
		if len(acked) == 0 {
			t.Fatalf("round %d: no put was acknowledged before the kill", round)
		}
		all = append(all, acked...)
		for _, a := range acked {
			highest = max(highest, a.rev)
		}
		if err := m.Start(); err != nil {
			t.Fatalf("round %d: restart after SIGKILL: %v", round, err)
		}
		rev := verifyAcked(t, cli, all)
		if rev < highest {
			t.Fatalf("round %d: store revision %d after restart is below the highest acknowledged revision %d", round, rev, highest)
		}
		highest = rev
		t.Logf("round %d: %d puts acknowledged, %d verified, revision %d", round, len(acked), len(all), rev)
	}
	if elapsed := time.Since(start); elapsed > 60*time.Second {
		t.Errorf("test took %s, over its 60s bound", elapsed)
	}
}

// writeUntilKilled runs crashWriters writers until delay after the first
// acknowledged put, then kills the server with SIGKILL and returns the
// acknowledged puts.
func writeUntilKilled(t *testing.T, m *framework.Member, cli *clientv3.Client, round int, delay time.Duration) []ackedPut {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu       sync.Mutex
		acked    []ackedPut
		firstAck = make(chan struct{})
		once     sync.Once
		wg       sync.WaitGroup
	)
	for w := range crashWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ctx.Err() == nil && seq < 100000; seq++ {
				key := fmt.Sprintf("crash/r%d/w%02d/%06d", round, w, seq)
				val := fmt.Sprintf("value-%d-%d-%d", round, w, seq)
				pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
				resp, err := cli.Put(pctx, key, val)
				pcancel()
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					time.Sleep(10 * time.Millisecond)
					continue
				}
				mu.Lock()
				acked = append(acked, ackedPut{key: key, value: val, rev: resp.Header.Revision})
				mu.Unlock()
				once.Do(func() { close(firstAck) })
			}
		}()
	}
	select {
	case <-firstAck:
	case <-time.After(10 * time.Second):
		cancel()
		wg.Wait()
		t.Fatalf("round %d: no put acknowledged within 10s", round)
	}
	time.Sleep(delay)
	m.Kill()
	// Acks recorded after the kill were received before it: the server is
	// gone, so nothing new can be acknowledged.
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return append([]ackedPut(nil), acked...)
}

// verifyAcked checks every acknowledged put and returns the current store
// revision.
func verifyAcked(t *testing.T, cli *clientv3.Client, acked []ackedPut) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "crash/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("reading back after restart: %v", err)
	}
	got := make(map[string]int, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		got[string(kv.Key)] = i
	}
	missing := 0
	for _, a := range acked {
		i, ok := got[a.key]
		if !ok {
			missing++
			if missing <= 10 {
				t.Errorf("acknowledged put %s (revision %d) lost after SIGKILL", a.key, a.rev)
			}
			continue
		}
		kv := resp.Kvs[i]
		if string(kv.Value) != a.value || kv.ModRevision != a.rev || kv.CreateRevision != a.rev || kv.Version != 1 {
			t.Errorf("%s after restart: value %q mod %d create %d version %d; acknowledged value %q at revision %d",
				a.key, kv.Value, kv.ModRevision, kv.CreateRevision, kv.Version, a.value, a.rev)
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged puts lost", missing, len(acked))
	}
	return resp.Header.Revision
}
