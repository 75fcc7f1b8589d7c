package framework

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// ProxiedMember is a member whose peer port sits behind a Proxy: it listens
// for peers on its PeerURL and advertises the proxy's address, so every
// peer connection to it crosses the proxy.
type ProxiedMember struct {
	*Member
	Index int
	Proxy *Proxy
	// ID is the member ID in hex, as the peer protocol's X-Server-From
	// names it (known once the cluster is up).
	ID string
}

// ProxiedClusterConfig describes a cluster for StartProxiedCluster.
type ProxiedClusterConfig struct {
	Size int
	// Bin is the etcd executable; empty means EtcdBinary(t).
	Bin string
	// Token is --initial-cluster-token.
	Token string
	// ExtraArgs are given to every member, after the generated flags.
	ExtraArgs []string
	// Env returns extra environment for member i (nil: none).
	Env func(i int) []string
}

// StartProxiedCluster starts cfg.Size members named m0, m1, ... whose peer
// traffic goes through proxies (see ProxiedMember), waits until each is
// ready and learns their IDs.
func StartProxiedCluster(t testing.TB, cfg ProxiedClusterConfig) []*ProxiedMember {
	t.Helper()
	type ports struct{ client, peer, proxy int }
	ps := make([]ports, cfg.Size)
	var parts []string
	for i := range ps {
		ps[i] = ports{FreePort(t), FreePort(t), FreePort(t)}
		parts = append(parts, fmt.Sprintf("m%d=http://127.0.0.1:%d", i, ps[i].proxy))
	}
	initial := strings.Join(parts, ",")
	ms := make([]*ProxiedMember, cfg.Size)
	for i, p := range ps {
		proxy := StartProxy(t, p.proxy, fmt.Sprintf("127.0.0.1:%d", p.peer))
		args := append([]string{"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", p.proxy)}, cfg.ExtraArgs...)
		var env []string
		if cfg.Env != nil {
			env = cfg.Env(i)
		}
		fm := NewMember(t, MemberConfig{
			Bin:                 cfg.Bin,
			Name:                fmt.Sprintf("m%d", i),
			ClientPort:          p.client,
			PeerPort:            p.peer,
			InitialCluster:      initial,
			InitialClusterToken: cfg.Token,
			ExtraArgs:           args,
			Env:                 env,
		})
		ms[i] = &ProxiedMember{Member: fm, Index: i, Proxy: proxy}
	}
	for _, m := range ms {
		if err := m.StartNoWait(); err != nil {
			t.Fatalf("starting %s: %v", m.Name, err)
		}
	}
	if err := WaitAllReady(ms); err != nil {
		t.Fatalf("starting the cluster: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, m := range ms {
		cli := m.Client(t)
		r, err := cli.Status(ctx, m.ClientURL)
		if err != nil {
			t.Fatalf("status of %s: %v", m.Name, err)
		}
		m.ID = fmt.Sprintf("%x", r.Header.MemberId)
		cli.Close()
	}
	return ms
}

// WaitAllReady waits, in parallel, until every member is ready.
func WaitAllReady(ms []*ProxiedMember) error {
	errs := make([]error, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.WaitReady(DefaultReadyTimeout)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Isolate cuts every peer connection to and from m: m's own proxy applies
// mode to everything, every other member's proxy to the connections m
// opened.
func Isolate(ms []*ProxiedMember, m *ProxiedMember, mode Mode) {
	m.Proxy.SetRule(ToTarget, Rule{Mode: mode})
	m.Proxy.SetRule(FromTarget, Rule{Mode: mode})
	for _, o := range ms {
		if o != m {
			o.Proxy.SetOriginRule(m.ID, Rule{Mode: mode})
		}
	}
}

// HealAll passes all peer traffic again.
func HealAll(ms []*ProxiedMember) {
	for _, m := range ms {
		m.Proxy.Heal()
	}
}
