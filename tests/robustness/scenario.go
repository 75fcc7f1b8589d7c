package robustness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/tests/framework"
)

// scenario is one run: a cluster, its traffic and its faults.
type scenario struct {
	Name      string
	Seed      uint64
	Size      int
	Faults    []faultKind
	Failpoint string // ETCD_FAILPOINTS of one member; empty: the plain binary
	Rate      int
	Clients   int
}

// failpointExitCode is internal/failpoint.ExitCode, the status of a
// process stopped at an armed crash point (the main module's internal
// packages are not importable from here).
const failpointExitCode = 87

// failpointChoice is an armed crash point and the range of its hit count.
type failpointChoice struct {
	Name     string
	From, To int
}

// failpoints are the crash points traffic reaches. The members take a
// snapshot every few hundred entries and keep few entries for slow
// followers (see cluster.go), so a member that was down catches up from a
// snapshot and the snapshot points are reached; the receiving side's only
// when the armed member is the one behind. Hit ranges are sized so the
// crash lands in the middle of a run.
var failpoints = []failpointChoice{
	{"raftBeforeSave", 50, 600},
	{"raftAfterSave", 50, 600},
	{"beforeCommit", 5, 40},
	{"afterCommit", 5, 40},
	{"compactAfterSetFinishedCompact", 1, 2},
	{"compactBeforeCommitBatch", 1, 1},
	{"defragBeforeCopy", 1, 1},
	{"defragBeforeRename", 1, 1},
	{"beforeApplyOneEntry", 50, 600},
	{"afterApplyOneEntry", 50, 600},
	{"raftBeforeSaveSnapshot", 1, 3},
	{"raftAfterSaveSnapshot", 1, 3},
	{"raftAfterWALRelease", 1, 3},
	{"raftBeforeSaveSnap", 1, 1},
	{"raftAfterSaveSnap", 1, 1},
	{"applyBeforeOpenSnapshot", 1, 1},
	{"applyAfterOpenSnapshot", 1, 1},
	{"raftBeforeApplySnap", 1, 1},
	{"raftAfterApplySnap", 1, 1},
	{"leaderBeforeSendSnapshot", 1, 2},
	{"leaderAfterStreamSnapshot", 1, 2},
}

// makeScenarios derives n scenarios from seed. The first three are the
// default run's: a 3-member cluster under a process fault and a member
// replaced (removed, added back on a fresh data dir), a 3-member
// cluster under network faults with a crash point armed, and one member
// with a crash point and a kill of everything.
func makeScenarios(seed uint64, n, rate int) []scenario {
	rng := rand.New(rand.NewPCG(seed, 0x726f62))
	pick := func(from []faultKind, k int) []faultKind {
		out := make([]faultKind, 0, k)
		for range k {
			out = append(out, from[rng.IntN(len(from))])
		}
		return out
	}
	fp := func() string {
		f := failpoints[rng.IntN(len(failpoints))]
		return fmt.Sprintf("%s=exit@%d", f.Name, f.From+rng.IntN(f.To-f.From+1))
	}
	var out []scenario
	for i := range n {
		s := scenario{Seed: seed + uint64(i), Clients: 4, Rate: 100 + rng.IntN(300)}
		switch i {
		case 0:
			s.Size, s.Faults = 3, append(pick(processFaults, 1), pick(membershipFaults, 1)...)
		case 1:
			s.Size, s.Faults, s.Failpoint = 3, pick(networkFaults, 2), fp()
		case 2:
			s.Size, s.Faults, s.Failpoint = 1, []faultKind{killAll}, fp()
		default:
			s.Size = []int{1, 3, 3}[rng.IntN(3)]
			all := processFaults
			if s.Size > 1 {
				all = append(append(append([]faultKind(nil), processFaults...), networkFaults...), membershipFaults...)
			}
			s.Faults = pick(all, 1+rng.IntN(3))
			if s.Size == 1 {
				for j, f := range s.Faults {
					if f != killAll {
						s.Faults[j] = []faultKind{killAll, stopLeader}[rng.IntN(2)]
					}
				}
			}
			if rng.IntN(2) == 0 {
				s.Failpoint = fp()
			}
			s.Clients = 2 + rng.IntN(6)
			s.Rate = 20 + rng.IntN(900)
		}
		if rate > 0 {
			s.Rate = rate
		}
		var fs []string
		for _, f := range s.Faults {
			fs = append(fs, string(f))
		}
		s.Name = fmt.Sprintf("%d-%dm-%s", i, s.Size, strings.Join(fs, "+"))
		if s.Failpoint != "" {
			s.Name += "-" + strings.SplitN(s.Failpoint, "=", 2)[0]
		}
		out = append(out, s)
	}
	return out
}

// runConfig is the run's knobs (flags).
type runConfig struct {
	Duration         time.Duration
	PorcupineTimeout time.Duration
	ArtifactsDir     string
	Replay           string
}

// runScenario runs one scenario and checks it.
func runScenario(t *testing.T, sc scenario, rc runConfig) {
	rng := rand.New(rand.NewPCG(sc.Seed, 1))
	bin := framework.EtcdBinary(t)
	if sc.Failpoint != "" {
		bin = framework.EtcdFailpointBinary(t)
	}
	t.Logf("scenario %s: seed %d, %d members, %d clients at %d ops/s for %s, faults %v, failpoint %q",
		sc.Name, sc.Seed, sc.Size, sc.Clients, sc.Rate, rc.Duration, sc.Faults, sc.Failpoint)
	c := startCluster(t, clusterConfig{
		Size:      sc.Size,
		Bin:       bin,
		Failpoint: sc.Failpoint,
		FPMember:  rng.IntN(sc.Size),
	})
	var errs []string
	var errMu sync.Mutex
	fail := func(format string, args ...any) {
		errMu.Lock()
		defer errMu.Unlock()
		errs = append(errs, fmt.Sprintf(format, args...))
	}

	bg, stopBg := context.WithCancel(context.Background())
	defer stopBg()
	var bgWG sync.WaitGroup
	sampler := &revSampler{c: c, start: time.Now(), samples: map[string][]revSample{}}
	bgWG.Add(1)
	go func() { defer bgWG.Done(); sampler.run(bg) }()

	// Watchers: one from revision 1 with prev_kv, one from the current
	// revision.
	sctx, scancel := context.WithTimeout(bg, 5*time.Second)
	st, err := c.status[c.members[0].Name].Status(sctx, c.members[0].ClientURL)
	scancel()
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	watchCtx, stopWatch := context.WithCancel(bg)
	defer stopWatch()
	watchers := []*watcher{
		{ID: 0, StartRev: 1, PrevKV: true},
		{ID: 1, StartRev: st.Header.Revision},
	}
	for _, w := range watchers {
		w.cli = framework.NewClient(t, c.endpoints()...)
		w.done = make(chan struct{})
		go w.run(watchCtx)
	}

	// The crash monitor restarts members that exited without us killing
	// them: an armed crash point (expected) or a crash (a failure).
	monCtx, stopMon := context.WithCancel(bg)
	var monWG sync.WaitGroup
	monWG.Add(1)
	go func() {
		defer monWG.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-monCtx.Done():
				return
			case <-tick.C:
			}
			for _, m := range c.members {
				// Under the member's lifecycle lock: a fault does not kill
				// or freeze it while it is restarted here.
				m.life.Lock()
				if m.Running() || m.isExpected() {
					m.life.Unlock()
					continue
				}
				code, _ := m.ExitCode()
				if code == failpointExitCode && sc.Failpoint != "" {
					c.recordFired(m)
				} else {
					fail("%s exited by itself with status %d:\n%s", m.Name, code, m.Tail(30))
				}
				m.SetEnv(nil)
				err := c.startLocked(m)
				m.life.Unlock()
				if err != nil {
					fail("restarting %s after its exit: %v", m.Name, err)
				}
			}
		}
	}()

	// Traffic.
	rec := newRecorder(max(500, min(6000, int(float64(sc.Rate)*rc.Duration.Seconds()*1.5))))
	tcfg := trafficConfig{Clients: sc.Clients, Rate: sc.Rate, OpTimout: 2 * time.Second, LeaseTTL: int64(max(600, 5*rc.Duration.Seconds()))}
	sent := map[string]bool{}
	var sentMu sync.Mutex
	trafficCtx, stopTraffic := context.WithCancel(bg)
	var trafficWG sync.WaitGroup
	leases := &leasePool{}
	ids := &idAllocator{}
	clients := make([]*trafficClient, sc.Clients)
	for i := range clients {
		clients[i] = &trafficClient{
			cli: newTrafficClient(t, c.endpoints()), rng: rand.New(rand.NewPCG(sc.Seed, uint64(100+i))),
			cfg: tcfg, rec: rec, leases: leases, ids: ids, name: i, id: ids.get(),
		}
		trafficWG.Add(1)
		go func() { defer trafficWG.Done(); clients[i].run(trafficCtx) }()
	}
	// Compaction and defragmentation now and then, never past what the
	// watchers have.
	var compacted int64
	trafficWG.Add(1)
	go func() {
		defer trafficWG.Done()
		crng := rand.New(rand.NewPCG(sc.Seed, 2))
		for i := 0; ; i++ {
			select {
			case <-trafficCtx.Done():
				return
			case <-time.After(time.Duration(1500+crng.IntN(2500)) * time.Millisecond):
			}
			rev := watchers[0].progress()
			for _, w := range watchers[1:] {
				rev = min(rev, w.progress())
			}
			if rev > compacted+10 {
				cctx, cancel := context.WithTimeout(trafficCtx, 3*time.Second)
				_, _ = clients[0].cli.Compact(cctx, rev, compactOpts(crng)...)
				cancel()
				// Even a call that failed may have compacted (its answer
				// lost to a fault or to the end of traffic): revisions up
				// to rev are not read back at their revision.
				compacted = rev
			}
			if i%2 == 1 {
				m := c.members[crng.IntN(len(c.members))]
				dctx, cancel := context.WithTimeout(trafficCtx, 5*time.Second)
				_, _ = c.status[m.Name].Defragment(dctx, m.ClientURL)
				cancel()
			}
		}
	}()

	// Faults at random moments, one after the other.
	trafficStart := time.Now()
	var faults []faultRecord
	gap := rc.Duration / time.Duration(len(sc.Faults)+1)
	for _, f := range sc.Faults {
		select {
		case <-time.After(time.Duration(rng.Int64N(int64(gap))) + 500*time.Millisecond):
		case <-bg.Done():
		}
		at := time.Since(trafficStart)
		r := injectFault(bg, c, f, rng)
		r.At, r.Took = at, time.Since(trafficStart)-at
		t.Logf("fault: %s", r)
		faults = append(faults, r)
		if r.Err != "" {
			fail("fault %s: %s", r.Kind, r.Err)
		}
	}
	// Traffic keeps going after the last fault, to the duration and at
	// least two more seconds.
	remaining := max(rc.Duration-time.Since(trafficStart), 2*time.Second)
	select {
	case <-time.After(remaining):
	case <-bg.Done():
	}
	stopTraffic()
	trafficWG.Wait()
	stopMon()
	monWG.Wait()
	if sc.Failpoint != "" && len(c.firedPoints()) == 0 {
		t.Logf("crash point %s was not reached in this run", sc.Failpoint)
	}
	ops := rec.operations()
	for _, op := range ops {
		if op.Req.Value != "" {
			sentMu.Lock()
			sent[op.Req.Value] = true
			sentMu.Unlock()
		}
	}

	// Heal, converge, drain the watchers.
	if err := c.restoreAll(); err != nil {
		fail("restoring the cluster after the faults: %v", err)
	}
	finalRev, convErrs := checkConvergence(bg, c, 30*time.Second)
	errs = append(errs, convErrs...)
	watchComplete := finalRev > 0
	for _, w := range watchers {
		if finalRev > 0 && !w.waitFor(bg, finalRev, 20*time.Second) {
			fail("watcher %d reached only revision %d of %d", w.ID, w.progress(), finalRev)
			watchComplete = false
		}
	}
	stopWatch()
	var results []watcherResult
	for _, w := range watchers {
		<-w.done
		items, werrs := w.snapshot()
		results = append(results, watcherResult{ID: w.ID, StartRev: w.StartRev, PrevKV: w.PrevKV, Items: items, Errs: werrs})
	}
	h, watchErrs := checkWatches(results, finalRev, sent)
	errs = append(errs, watchErrs...)
	errs = append(errs, checkAcknowledged(h, ops)...)
	errs = append(errs, checkStaleReads(h, ops)...)

	// Durability: kill -9 everything, restart, read back.
	if finalRev > 0 {
		for _, m := range c.members {
			c.kill(m)
		}
		if err := c.restoreAll(); err != nil {
			fail("restarting every member: %v", err)
		} else {
			dcli := framework.NewClient(t, c.endpoints()...)
			errs = append(errs, checkDurability(bg, c, dcli, h, ops, finalRev, compacted, rng)...)
		}
	}
	stopBg()
	bgWG.Wait()
	errs = append(errs, sampler.check()...)

	// Linearizability.
	hist := prepareHistory(ops, h, watchComplete)
	lin := checkLinearizable(hist, rc.PorcupineTimeout)
	t.Logf("%d operations (%d unknown outcome), %d in the linearizability check; final revision %d; %s",
		len(ops), countUnknown(ops), len(hist), finalRev, lin)
	switch lin.Result {
	case "Illegal":
		fail("the history is not linearizable (see history.html):\n%s", lin.explain(hist))
	case "Unknown":
		fail("porcupine did not finish within %s: the history is neither proven nor refuted", rc.PorcupineTimeout)
	}

	if len(errs) == 0 {
		return
	}
	logs := map[string]string{}
	for _, m := range c.members {
		logs[m.Name] = m.Logs()
	}
	sampler.mu.Lock()
	revs := sampler.samples
	sampler.mu.Unlock()
	a := &artifacts{Scenario: sc.Name, Seed: sc.Seed, Replay: rc.Replay, Faults: faults, Errors: errs,
		Ops: ops, Lin: &lin, Hist: hist, Watchers: results, Revs: revs, Logs: logs}
	dir, werr := a.write(rc.ArtifactsDir)
	if werr != nil {
		t.Logf("writing artifacts: %v", werr)
	}
	for i, e := range errs {
		if i == 30 {
			t.Errorf("... and %d more", len(errs)-i)
			break
		}
		t.Errorf("%s", e)
	}
	t.Errorf("scenario %s failed; seed %d; artifacts (history.html, operations, watches, member logs) in %s\nreplay: %s", sc.Name, sc.Seed, dir, rc.Replay)
}

func compactOpts(rng *rand.Rand) []clientv3.CompactOption {
	if rng.IntN(2) == 0 {
		return []clientv3.CompactOption{clientv3.WithCompactPhysical()}
	}
	return nil
}

func countUnknown(ops []operation) int {
	n := 0
	for _, op := range ops {
		if op.Resp.Unknown {
			n++
		}
	}
	return n
}
