package robustness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/etcdgo/etcd/tests/framework"
)

// faultKind names a fault.
type faultKind string

const (
	killLeader        faultKind = "kill-leader"
	killFollower      faultKind = "kill-follower"
	killAll           faultKind = "kill-all"
	stopLeader        faultKind = "sigstop-leader"
	stopFollower      faultKind = "sigstop-follower"
	isolateLeader     faultKind = "isolate-leader"
	isolateFollower   faultKind = "isolate-follower"
	blackholeFollower faultKind = "blackhole-follower"
	blackholeLeader   faultKind = "blackhole-leader"
	delayPeers        faultKind = "delay-peers"
	// replaceMember removes a member (a third of the time the leader)
	// and adds it back on a fresh data dir; replaceLearner adds it back
	// as a learner and promotes it once it caught up.
	replaceMember  faultKind = "replace-member"
	replaceLearner faultKind = "replace-learner"
)

// processFaults, networkFaults and membershipFaults are the catalog;
// networkFaults and membershipFaults need more than one member.
var (
	processFaults    = []faultKind{killLeader, killFollower, killAll, stopLeader, stopFollower}
	networkFaults    = []faultKind{isolateLeader, isolateFollower, blackholeFollower, blackholeLeader, delayPeers}
	membershipFaults = []faultKind{replaceMember, replaceLearner}
)

// faultRecord is what happened, for the report.
type faultRecord struct {
	Kind     faultKind
	Member   string
	At, Took time.Duration // since the start of traffic
	Err      string
	// Seen: the leader another member named at the end of the fault,
	// which shows whether the fault forced an election.
	Seen string
}

func (f faultRecord) String() string {
	s := fmt.Sprintf("%s on %s at %s for %s", f.Kind, f.Member, f.At.Round(time.Millisecond), f.Took.Round(time.Millisecond))
	if f.Seen != "" {
		s += "; " + f.Seen
	}
	if f.Err != "" {
		s += " (" + f.Err + ")"
	}
	return s
}

// injectFault runs one fault to its end: every fault heals itself (the
// member is restarted, thawed, reconnected or back in the cluster) before
// it returns. It is bounded by about 10 s plus a member's start, or, for
// the membership faults, by their retries' bounds (see membership.go).
func injectFault(ctx context.Context, c *cluster, kind faultKind, rng *rand.Rand) faultRecord {
	rec := faultRecord{Kind: kind}
	hold := time.Duration(1500+rng.IntN(2500)) * time.Millisecond
	target := func(wantLeader bool) *member {
		l := c.leader(ctx)
		if wantLeader && l != nil {
			return l
		}
		var cands []*member
		for _, m := range c.members {
			if m != l && m.Running() && !m.isStopped() {
				cands = append(cands, m)
			}
		}
		if len(cands) == 0 {
			return c.members[rng.IntN(len(c.members))]
		}
		return cands[rng.IntN(len(cands))]
	}
	sleep := func(d time.Duration) {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	switch kind {
	case killLeader, killFollower:
		m := target(kind == killLeader)
		rec.Member = m.Name
		c.kill(m)
		sleep(hold / 2)
		if err := c.start(m); err != nil {
			rec.Err = err.Error()
		}
	case killAll:
		rec.Member = "all"
		for _, m := range c.members {
			c.kill(m)
		}
		sleep(hold / 4)
		for _, m := range c.members {
			if err := m.StartNoWait(); err != nil {
				rec.Err = err.Error()
			}
		}
		if err := c.waitReady(c.members); err != nil {
			rec.Err = err.Error()
		}
		for _, m := range c.members {
			m.setExpected(false)
		}
	case stopLeader, stopFollower:
		m := target(kind == stopLeader)
		rec.Member = m.Name
		if err := c.freeze(m); err != nil {
			rec.Err = err.Error()
			break
		}
		sleep(hold)
		rec.Seen = c.leaderSeenBy(ctx, m)
		c.thaw(m)
	case isolateLeader, isolateFollower, blackholeLeader, blackholeFollower:
		m := target(kind == isolateLeader || kind == blackholeLeader)
		rec.Member = m.Name
		mode := framework.Drop
		if kind == blackholeLeader || kind == blackholeFollower {
			mode = framework.Blackhole
		}
		c.isolate(m, mode)
		sleep(hold)
		rec.Seen = c.leaderSeenBy(ctx, m)
		c.heal()
	case replaceMember, replaceLearner:
		l := c.leader(ctx)
		m := target(rng.IntN(3) == 0)
		rec.Member = m.Name
		if m == l {
			rec.Member += " (leader)"
		}
		note, err := c.replaceMember(ctx, m, kind == replaceLearner)
		if err != nil {
			rec.Err = err.Error()
		}
		rec.Seen = note
		if s := c.leaderSeenBy(ctx, m); s != "" {
			rec.Seen += "; " + s
		}
	case delayPeers:
		rec.Member = "all"
		d := time.Duration(20+rng.IntN(80)) * time.Millisecond
		c.delayAll(d, d)
		sleep(hold)
		c.heal()
	}
	return rec
}

// leaderSeenBy reports the leader that a member other than m names.
func (c *cluster) leaderSeenBy(ctx context.Context, m *member) string {
	for _, o := range c.members {
		if o == m || !o.Running() || o.isStopped() {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		r, err := c.status[o.Name].Status(sctx, o.ClientURL)
		cancel()
		if err != nil {
			continue
		}
		for _, l := range c.members {
			if l.ID == fmt.Sprintf("%x", r.Leader) {
				return fmt.Sprintf("%s sees leader %s (term %d)", o.Name, l.Name, r.RaftTerm)
			}
		}
		return fmt.Sprintf("%s sees no leader (term %d)", o.Name, r.RaftTerm)
	}
	return ""
}
