package robustness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// revSample is one Status answer of one member.
type revSample struct {
	At  time.Duration
	Rev int64
}

// revSampler polls every member's revision so the checks can see that no
// member's revision ever goes down, across faults and restarts.
type revSampler struct {
	c     *cluster
	start time.Time

	mu      sync.Mutex
	samples map[string][]revSample
}

const (
	samplePeriod = 200 * time.Millisecond
	maxSamples   = 5000 // per member
)

func (s *revSampler) run(ctx context.Context) {
	tick := time.NewTicker(samplePeriod)
	defer tick.Stop()
	for {
		for _, m := range s.c.members {
			if !m.Running() || m.isStopped() {
				continue
			}
			sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			r, err := s.c.status[m.Name].Status(sctx, m.ClientURL)
			cancel()
			if err != nil {
				continue
			}
			// Keyed by incarnation (the answering member's ID): a member
			// removed and added again on a fresh data dir is a new member
			// whose revision starts over.
			key := fmt.Sprintf("%s@%x", m.Name, r.Header.MemberId)
			s.mu.Lock()
			if len(s.samples[key]) < maxSamples {
				s.samples[key] = append(s.samples[key], revSample{At: time.Since(s.start), Rev: r.Header.Revision})
			}
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// check reports every time a member's revision went down.
func (s *revSampler) check() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []string
	for name, ss := range s.samples {
		for i := 1; i < len(ss); i++ {
			if ss[i].Rev < ss[i-1].Rev {
				errs = append(errs, fmt.Sprintf("%s: revision went down from %d (at %s) to %d (at %s)",
					name, ss[i-1].Rev, ss[i-1].At.Round(time.Millisecond), ss[i].Rev, ss[i].At.Round(time.Millisecond)))
				break
			}
		}
	}
	return errs
}

// checkConvergence waits (bounded) until every member reports the same
// revision twice in a row, then compares their HashKV at it. It returns
// that revision.
func checkConvergence(ctx context.Context, c *cluster, timeout time.Duration) (int64, []string) {
	deadline := time.Now().Add(timeout)
	var last []int64
	var stable int
	var rev int64
	for time.Now().Before(deadline) {
		revs := make([]int64, 0, len(c.members))
		for _, m := range c.members {
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			r, err := c.status[m.Name].Status(sctx, m.ClientURL)
			cancel()
			if err != nil {
				revs = nil
				break
			}
			revs = append(revs, r.Header.Revision)
		}
		same := len(revs) == len(c.members)
		for _, r := range revs {
			same = same && r == revs[0]
		}
		if same && len(last) > 0 && last[0] == revs[0] {
			stable++
		} else {
			stable = 0
		}
		last = revs
		if same && stable >= 1 {
			rev = revs[0]
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if rev == 0 {
		return 0, []string{fmt.Sprintf("members did not converge to one revision within %s: last revisions %v", timeout, last)}
	}
	var errs []string
	var refHash uint32
	var refName string
	for i, m := range c.members {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		r, err := c.status[m.Name].HashKV(sctx, m.ClientURL, rev)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: HashKV(%d): %v", m.Name, rev, err))
			continue
		}
		if i == 0 || refName == "" {
			refHash, refName = r.Hash, m.Name
			continue
		}
		if r.Hash != refHash {
			errs = append(errs, fmt.Sprintf("HashKV at revision %d: %s has %08x, %s has %08x", rev, refName, refHash, m.Name, r.Hash))
		}
	}
	return rev, errs
}

// checkDurability runs after every member was killed and restarted: each
// member must hold the revision reached before the kill and the watched key
// space at it, and acknowledged writes must read back at their revisions.
func checkDurability(ctx context.Context, c *cluster, cli *clientv3.Client, h *watchHistory, ops []operation, finalRev, compacted int64, rng *rand.Rand) []string {
	var errs []string
	want := h.stateAt(finalRev).rangeKVs(0, numKeys)
	for _, m := range c.members {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		r, err := c.status[m.Name].Get(sctx, keyPrefix, clientv3.WithPrefix(), clientv3.WithSerializable())
		cancel()
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s after restart: serializable get: %v", m.Name, err))
			continue
		}
		if r.Header.Revision < finalRev {
			errs = append(errs, fmt.Sprintf("%s after restart: revision %d, below %d reached before the kill", m.Name, r.Header.Revision, finalRev))
		}
		if got := fromKVs(r.Kvs); r.Header.Revision == finalRev && !sameKVsNoLease(got, want) {
			errs = append(errs, fmt.Sprintf("%s after restart: key space %s, want %s", m.Name, describeKVs(got), describeKVs(want)))
		}
	}
	// Acknowledged writes read back at their revision (a sample of them).
	var acked []operation
	for _, op := range ops {
		if op.Err != "" || op.Resp.Unknown || op.Resp.LeaseNotFound || op.Resp.Rev <= compacted {
			continue
		}
		if op.Req.Kind == opPut || op.Req.Kind == opPutLease || (op.Req.Kind == opTxnCAS && op.Resp.Succeeded) {
			acked = append(acked, op)
		}
	}
	rng.Shuffle(len(acked), func(i, j int) { acked[i], acked[j] = acked[j], acked[i] })
	for _, op := range acked[:min(len(acked), 100)] {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		r, err := cli.Get(sctx, keyName(op.Req.Key), clientv3.WithRev(op.Resp.Rev))
		cancel()
		if err != nil {
			errs = append(errs, fmt.Sprintf("reading back %s: %v", describeOp(op.Req, op.Resp), err))
			continue
		}
		if len(r.Kvs) != 1 || string(r.Kvs[0].Value) != op.Req.Value || r.Kvs[0].ModRevision != op.Resp.Rev {
			errs = append(errs, fmt.Sprintf("reading back %s after restart: got %s", describeOp(op.Req, op.Resp), describeKVs(fromKVs(r.Kvs))))
		}
		if len(errs) > 20 {
			break
		}
	}
	return errs
}
