package robustness

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcdgo/etcd/tests/framework"
)

// member is one etcd process with the proxy in front of its peer port.
// ProxiedMember.ID changes when the member is removed and added again
// (replaceMember); only the fault goroutine reads it (the Status sampler
// keys by the ID in the answer's header), and it writes it under mu.
type member struct {
	*framework.ProxiedMember

	// life serializes the member's process lifecycle (kill, start,
	// freeze, and the crash monitor's restart), so that a fault never
	// acts on a process another actor is restarting.
	life sync.Mutex

	mu       sync.Mutex
	expected bool // a stop we caused: an exit now is not a crash
	stopped  bool // SIGSTOPped
}

func (m *member) setMemberID(id string) {
	m.mu.Lock()
	m.ID = id
	m.mu.Unlock()
}

func (m *member) setExpected(v bool) {
	m.mu.Lock()
	m.expected = v
	m.mu.Unlock()
}

func (m *member) isExpected() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.expected
}

// cluster is a set of members whose peer traffic goes through proxies.
type cluster struct {
	t       testing.TB
	members []*member
	status  map[string]*clientv3.Client // per member, for Status and HashKV
	// failpoint: the crash point armed on one member, "" for none.
	failpoint string

	mu    sync.Mutex
	fired []string // crash points that made a member exit
}

// recordFired notes that m exited at the armed crash point.
func (c *cluster) recordFired(m *member) {
	c.mu.Lock()
	c.fired = append(c.fired, fmt.Sprintf("%s exited at %s", m.Name, c.failpoint))
	c.mu.Unlock()
	c.t.Logf("crash point %s fired on %s", c.failpoint, m.Name)
}

// firedPoints returns what recordFired noted.
func (c *cluster) firedPoints() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.fired...)
}

// clusterConfig describes a cluster to start.
type clusterConfig struct {
	Size      int
	Bin       string
	Failpoint string // ETCD_FAILPOINTS for member FailpointMember
	FPMember  int
	ExtraArgs []string
}

// startCluster starts cfg.Size members behind proxies (see
// framework.StartProxiedCluster), so all peer traffic crosses the proxies.
func startCluster(t testing.TB, cfg clusterConfig) *cluster {
	t.Helper()
	c := &cluster{t: t, status: map[string]*clientv3.Client{}, failpoint: cfg.Failpoint}
	pms := framework.StartProxiedCluster(t, framework.ProxiedClusterConfig{
		Size:  cfg.Size,
		Bin:   cfg.Bin,
		Token: "robustness",
		ExtraArgs: append([]string{
			"--heartbeat-interval", "50",
			"--election-timeout", "500",
			"--log-level", "info",
			// Snapshots often, few entries kept: members that were down
			// catch up from a snapshot.
			"--snapshot-count", "300",
			"--snapshot-catchup-entries", "50",
			// Small compaction batches: a compaction spans several, so
			// the crash points between batches are reached.
			"--compaction-batch-limit", "50",
		}, cfg.ExtraArgs...),
		Env: func(i int) []string {
			if cfg.Failpoint != "" && i == cfg.FPMember {
				return []string{"ETCD_FAILPOINTS=" + cfg.Failpoint}
			}
			return nil
		},
	})
	for _, pm := range pms {
		c.members = append(c.members, &member{ProxiedMember: pm})
		c.status[pm.Name] = framework.NewClient(t, pm.ClientURL)
	}
	t.Cleanup(func() {
		for _, m := range c.members {
			if pid := m.PID(); pid != 0 && m.Running() {
				_ = m.Signal(syscall.SIGCONT) // a stopped process dies of SIGKILL too, but be tidy
			}
		}
	})
	return c
}

func (c *cluster) waitReady(ms []*member) error {
	pms := make([]*framework.ProxiedMember, len(ms))
	for i, m := range ms {
		pms[i] = m.ProxiedMember
	}
	return framework.WaitAllReady(pms)
}

// endpoints returns every member's client URL.
func (c *cluster) endpoints() []string {
	var eps []string
	for _, m := range c.members {
		eps = append(eps, m.ClientURL)
	}
	return eps
}

// leader returns the member the running members name as leader, or nil.
func (c *cluster) leader(ctx context.Context) *member {
	for _, m := range c.members {
		if !m.Running() || m.isStopped() {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		r, err := c.status[m.Name].Status(sctx, m.ClientURL)
		cancel()
		if err != nil || r.Leader == 0 {
			continue
		}
		id := fmt.Sprintf("%x", r.Leader)
		for _, l := range c.members {
			if l.ID == id {
				return l
			}
		}
	}
	return nil
}

func (m *member) isStopped() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stopped
}

// kill sends SIGKILL to m and waits for its exit.
func (c *cluster) kill(m *member) {
	m.life.Lock()
	defer m.life.Unlock()
	m.setExpected(true)
	m.Kill()
	m.mu.Lock()
	m.stopped = false
	m.mu.Unlock()
}

// start starts m again and waits until it serves clients.
func (c *cluster) start(m *member) error {
	m.life.Lock()
	defer m.life.Unlock()
	return c.startLocked(m)
}

// startLocked is start for a caller that holds m.life.
func (c *cluster) startLocked(m *member) error {
	if m.Running() {
		return nil
	}
	if err := m.Start(); err != nil {
		return err
	}
	m.setExpected(false)
	return nil
}

// freeze and thaw send SIGSTOP and SIGCONT.
//
// A member that is down (an armed crash point fired and the crash monitor
// has not restarted it yet) is waited for, up to freezeWait.
func (c *cluster) freeze(m *member) error {
	deadline := time.Now().Add(freezeWait)
	for {
		m.life.Lock()
		if m.Running() {
			break
		}
		m.life.Unlock()
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not running after %v", m.Name, freezeWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
	defer m.life.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	m.stopped = true
	return nil
}

// freezeWait bounds how long freeze waits for a member that is down.
const freezeWait = 30 * time.Second

func (c *cluster) thaw(m *member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		_ = m.Signal(syscall.SIGCONT)
		m.stopped = false
	}
}

// isolate cuts every peer connection to and from m (see the Proxy
// documentation): its own proxy applies mode to everything, every other
// proxy to the connections m opened.
func (c *cluster) isolate(m *member, mode framework.Mode) {
	framework.Isolate(c.proxied(), m.ProxiedMember, mode)
}

// proxied returns the framework view of the members.
func (c *cluster) proxied() []*framework.ProxiedMember {
	out := make([]*framework.ProxiedMember, len(c.members))
	for i, m := range c.members {
		out[i] = m.ProxiedMember
	}
	return out
}

// delayAll delays every peer byte by d plus up to jitter.
func (c *cluster) delayAll(d, jitter time.Duration) {
	for _, m := range c.members {
		r := framework.Rule{Mode: framework.Delay, Delay: d, Jitter: jitter}
		m.Proxy.SetRule(framework.ToTarget, r)
		m.Proxy.SetRule(framework.FromTarget, r)
	}
}

// heal passes all peer traffic again.
func (c *cluster) heal() { framework.HealAll(c.proxied()) }

// restoreAll heals the network, thaws frozen members and starts dead ones.
func (c *cluster) restoreAll() error {
	c.heal()
	var dead []*member
	for _, m := range c.members {
		c.thaw(m)
		if !m.Running() {
			dead = append(dead, m)
		}
	}
	for _, m := range dead {
		m.SetEnv(nil)
		if err := m.StartNoWait(); err != nil {
			return err
		}
	}
	if err := c.waitReady(dead); err != nil {
		return err
	}
	for _, m := range dead {
		m.setExpected(false)
	}
	return nil
}

// newTrafficClient returns a client that tries each unary call once.
// client/v3 retries calls it deems repeatable (LeaseRevoke among them) on
// Unavailable; a retried revoke whose first attempt went through answers
// "lease not found", which would read as a definite refusal. With one
// attempt, every error but "lease not found" is an unknown outcome.
func newTrafficClient(t testing.TB, endpoints []string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          framework.DefaultDialTimeout,
		DialKeepAliveTime:    5 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		MaxUnaryRetries:      1,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("client for %v: %v", endpoints, err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}
