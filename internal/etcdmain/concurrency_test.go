package etcdmain_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// The official client's concurrency recipes (sessions on leases, mutexes and
// elections on revisions and watches, STM on txns) against our member.

func newSession(t *testing.T, cli *clientv3.Client, ttl int) *concurrency.Session {
	t.Helper()
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(ttl))
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConcurrencySessionKeepsLeaseAlive(t *testing.T) {
	m := startMember(t)
	s := newSession(t, m.cli, 1)
	ctx := m.ctx()
	if _, err := m.cli.Put(ctx, "owned", "x", clientv3.WithLease(s.Lease())); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // three TTLs: the session's keep-alive must hold it
	if g, err := m.cli.Get(ctx, "owned"); err != nil || len(g.Kvs) != 1 {
		t.Fatalf("key of a live session after 3 TTLs: %v, %v", g, err)
	}
	if err := s.Close(); err != nil { // revokes the lease
		t.Fatal(err)
	}
	if g, err := m.cli.Get(ctx, "owned"); err != nil || len(g.Kvs) != 0 {
		t.Fatalf("key after the session closed: %v, %v; want gone", g, err)
	}
}

func TestConcurrencyMutexExcludes(t *testing.T) {
	m := startMember(t)
	s1, s2 := newSession(t, m.cli, 5), newSession(t, m.cli, 5)
	m1, m2 := concurrency.NewMutex(s1, "/lock"), concurrency.NewMutex(s2, "/lock")
	ctx := m.ctx()
	if err := m1.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	// The second session can neither take the lock nor try-lock it.
	if err := m2.TryLock(ctx); !errors.Is(err, concurrency.ErrLocked) {
		t.Fatalf("TryLock while held: %v, want ErrLocked", err)
	}
	got := make(chan error, 1)
	go func() { got <- m2.Lock(ctx) }()
	select {
	case err := <-got:
		t.Fatalf("second Lock returned (%v) while the first holds the lock", err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := m1.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second Lock not granted after Unlock")
	}
	if err := m2.Unlock(ctx); err != nil {
		t.Fatal(err)
	}

	// Many goroutines incrementing a counter under the lock never lose an update.
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := concurrency.NewSession(m.cli, concurrency.WithTTL(5))
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			mu := concurrency.NewMutex(s, "/counter-lock")
			for j := 0; j < 10; j++ {
				if err := mu.Lock(ctx); err != nil {
					t.Error(err)
					return
				}
				g, err := m.cli.Get(ctx, "counter")
				if err != nil {
					t.Error(err)
					return
				}
				n := 0
				if len(g.Kvs) == 1 {
					fmt.Sscan(string(g.Kvs[0].Value), &n)
				}
				if _, err := m.cli.Put(ctx, "counter", fmt.Sprint(n+1)); err != nil {
					t.Error(err)
					return
				}
				if err := mu.Unlock(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	g, err := m.cli.Get(ctx, "counter")
	if err != nil || len(g.Kvs) != 1 || string(g.Kvs[0].Value) != "40" {
		t.Fatalf("counter after 40 locked increments: %v, %v", g, err)
	}
}

func TestConcurrencyElection(t *testing.T) {
	m := startMember(t)
	s1, s2 := newSession(t, m.cli, 5), newSession(t, m.cli, 5)
	e1, e2 := concurrency.NewElection(s1, "/election"), concurrency.NewElection(s2, "/election")
	ctx := m.ctx()

	observeCtx, stopObserving := context.WithCancel(ctx)
	defer stopObserving()
	observed := concurrency.NewElection(s1, "/election").Observe(observeCtx)

	if err := e1.Campaign(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	if l, err := e2.Leader(ctx); err != nil || string(l.Kvs[0].Value) != "one" {
		t.Fatalf("leader after the first campaign: %v, %v", l, err)
	}
	second := make(chan error, 1)
	go func() { second <- e2.Campaign(ctx, "two") }()
	select {
	case err := <-second:
		t.Fatalf("second campaign won (%v) while the first leads", err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := e1.Proclaim(ctx, "one-again"); err != nil {
		t.Fatal(err)
	}
	if l, err := e2.Leader(ctx); err != nil || string(l.Kvs[0].Value) != "one-again" {
		t.Fatalf("leader after proclaim: %v, %v", l, err)
	}
	if err := e1.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-second:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second campaign not won after the leader resigned")
	}
	// Observe saw every leader value in order.
	want := []string{"one", "one-again", "two"}
	for _, w := range want {
		select {
		case r := <-observed:
			if string(r.Kvs[0].Value) != w {
				t.Fatalf("observed leader %q, want %q", r.Kvs[0].Value, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("did not observe leader %q", w)
		}
	}
}

func TestConcurrencySTM(t *testing.T) {
	m := startMember(t)
	ctx := m.ctx()
	if _, err := m.cli.Put(ctx, "a", "100"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.cli.Put(ctx, "b", "0"); err != nil {
		t.Fatal(err)
	}
	// Concurrent transfers between two accounts keep the total.
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				_, err := concurrency.NewSTM(m.cli, func(stm concurrency.STM) error {
					var a, b int
					fmt.Sscan(stm.Get("a"), &a)
					fmt.Sscan(stm.Get("b"), &b)
					stm.Put("a", fmt.Sprint(a-1))
					stm.Put("b", fmt.Sprint(b+1))
					return nil
				}, concurrency.WithAbortContext(ctx))
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	ga, _ := m.cli.Get(ctx, "a")
	gb, _ := m.cli.Get(ctx, "b")
	if string(ga.Kvs[0].Value) != "50" || string(gb.Kvs[0].Value) != "50" {
		t.Fatalf("after 50 STM transfers a=%s b=%s, want 50 and 50", ga.Kvs[0].Value, gb.Kvs[0].Value)
	}
}
