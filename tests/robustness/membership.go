package robustness

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Bounds of the membership fault's steps.
const (
	// reconfigTimeout bounds the retries of one MemberRemove, MemberAdd or
	// MemberPromote: --strict-reconfig-check refuses a change ("unhealthy
	// cluster") until the peers have been connected for 5 s, and a
	// learner is promoted only once it holds 90% of the leader's log.
	reconfigTimeout = 30 * time.Second
	// removedExitTimeout bounds the wait for a removed member to notice
	// its removal and exit.
	removedExitTimeout = 15 * time.Second
)

// replaceMember removes m from the cluster through the client API, waits
// until its process exits by itself (a member that applies its own
// removal stops, with status 0), adds a member with the same peer URL (its
// proxy) and starts it on a fresh data dir with --initial-cluster-state
// existing, same name and ports. With learner, the new member joins as a
// learner and is promoted once it has caught up. The new incarnation has a
// new member ID: m.ID follows, so the proxies' origin rules and the
// leader lookups name it. It returns a note for the fault record.
func (c *cluster) replaceMember(ctx context.Context, m *member, learner bool) (string, error) {
	oldID, err := strconv.ParseUint(m.ID, 16, 64)
	if err != nil {
		return "", fmt.Errorf("member ID %q: %w", m.ID, err)
	}
	m.setExpected(true) // its exit after the removal is ours
	defer m.setExpected(false)
	notes := []string{fmt.Sprintf("old ID %x", oldID)}
	var exitErr error // the removed process's exit, if it was not clean

	n, err := c.reconfigure(ctx, m, func(ctx context.Context, o *member, attempt int) (bool, error) {
		_, err := c.status[o.Name].MemberRemove(ctx, oldID)
		if attempt > 0 && errors.Is(err, rpctypes.ErrMemberNotFound) {
			return true, nil // an earlier attempt without an answer went through
		}
		return err == nil, err
	}, rpctypes.ErrUnhealthy, rpctypes.ErrMemberNotEnoughStarted)
	if err != nil {
		return "", fmt.Errorf("removing %s (%x): %w", m.Name, oldID, err)
	}
	notes = append(notes, "removed ("+n+")")

	// The removed member stops by itself.
	code, werr := m.Wait(removedExitTimeout)
	switch {
	case werr != nil:
		c.kill(m)
		exitErr = fmt.Errorf("%s (%x) still running %s after its removal", m.Name, oldID, removedExitTimeout)
	case code == failpointExitCode && c.failpoint != "":
		c.recordFired(m)
		m.SetEnv(nil)
		notes = append(notes, "crash point fired while it was being removed")
	case code != 0:
		// A failure, but the member is out of the cluster: go on and add
		// it back, so the run goes on with three members.
		exitErr = fmt.Errorf("%s (%x) exited with status %d after its removal:\n%s", m.Name, oldID, code, m.Tail(40))
	}

	// Add it back, same peer URL (its proxy).
	peerURL := "http://" + m.Proxy.Addr()
	var members []*etcdserverpb.Member
	var newID uint64
	n, err = c.reconfigure(ctx, m, func(ctx context.Context, o *member, attempt int) (bool, error) {
		cli := c.status[o.Name]
		if attempt > 0 {
			// An earlier attempt without an answer may have added it.
			if l, err := cli.MemberList(ctx); err == nil {
				for _, x := range l.Members {
					if len(x.PeerURLs) == 1 && x.PeerURLs[0] == peerURL {
						members, newID = l.Members, x.ID
						return true, nil
					}
				}
			}
		}
		var r *clientv3.MemberAddResponse
		var err error
		if learner {
			r, err = cli.MemberAddAsLearner(ctx, []string{peerURL})
		} else {
			r, err = cli.MemberAdd(ctx, []string{peerURL})
		}
		if err != nil {
			return false, err
		}
		members, newID = r.Members, r.Member.GetID()
		return true, nil
	}, rpctypes.ErrUnhealthy, rpctypes.ErrMemberNotEnoughStarted)
	if err != nil {
		return "", fmt.Errorf("adding %s back (%s): %w", m.Name, peerURL, err)
	}
	notes = append(notes, "added ("+n+")")

	// Start it on a fresh data dir, told the current members.
	initial, err := c.initialCluster(members, m, peerURL)
	if err != nil {
		return "", err
	}
	m.setMemberID(fmt.Sprintf("%x", newID))
	notes = append(notes, fmt.Sprintf("new ID %x", newID))
	m.Reincarnate(filepath.Join(c.t.TempDir(), fmt.Sprintf("%s-%x.etcd", m.Name, newID)), initial)
	if err := c.startNew(m); err != nil {
		return strings.Join(notes, "; "), errors.Join(exitErr, err)
	}
	if !learner {
		return strings.Join(notes, "; "), exitErr
	}

	// Promote the learner once it has caught up.
	n, err = c.reconfigure(ctx, m, func(ctx context.Context, o *member, attempt int) (bool, error) {
		_, err := c.status[o.Name].MemberPromote(ctx, newID)
		if attempt > 0 && errors.Is(err, rpctypes.ErrMemberNotLearner) {
			return true, nil // an earlier attempt without an answer went through
		}
		return err == nil, err
	}, rpctypes.ErrMemberLearnerNotReady, rpctypes.ErrUnhealthy, rpctypes.ErrMemberNotEnoughStarted)
	if err != nil {
		return strings.Join(notes, "; "), errors.Join(exitErr, fmt.Errorf("promoting %s (%x): %w", m.Name, newID, err))
	}
	notes = append(notes, "promoted ("+n+")")
	return strings.Join(notes, "; "), exitErr
}

// startNew starts the new incarnation of m and waits until it serves. A
// crash point that fires while it joins (it receives the leader's
// snapshot) is recorded and the member started again with it disarmed.
func (c *cluster) startNew(m *member) error {
	err := m.Start()
	if err == nil {
		return nil
	}
	if code, ok := m.ExitCode(); ok && code == failpointExitCode && c.failpoint != "" {
		c.recordFired(m)
		m.SetEnv(nil)
		return m.Start()
	}
	return fmt.Errorf("starting %s on a fresh data dir: %w", m.Name, err)
}

// initialCluster builds --initial-cluster for a member joining with
// peerURL: every member of the list, named by the cluster member whose
// proxy it advertises.
func (c *cluster) initialCluster(members []*etcdserverpb.Member, joining *member, peerURL string) (string, error) {
	byURL := map[string]string{}
	for _, x := range c.members {
		byURL["http://"+x.Proxy.Addr()] = x.Name
	}
	var parts []string
	for _, x := range members {
		for _, u := range x.PeerURLs {
			name, ok := byURL[u]
			if !ok {
				return "", fmt.Errorf("member %x has peer URL %s, which no proxy of ours has", x.ID, u)
			}
			parts = append(parts, name+"="+u)
		}
	}
	sort.Strings(parts)
	if !strings.Contains(","+strings.Join(parts, ",")+",", ","+joining.Name+"="+peerURL+",") {
		return "", fmt.Errorf("the member list after adding %s lacks it: %v", peerURL, parts)
	}
	return strings.Join(parts, ","), nil
}

// reconfigure runs a membership call against the running members other
// than m, one after the other, until call reports done or reconfigTimeout
// passes. It retries the errors of retry (the server's "not yet") and any
// error that leaves the outcome unknown (a timeout, a leader change);
// other errors end it. call gets the attempt number so that it can
// recognize the trace of an earlier attempt whose answer was lost. It
// returns a note for the fault record: the attempts and the last refusal.
func (c *cluster) reconfigure(ctx context.Context, m *member, call func(context.Context, *member, int) (bool, error), retry ...error) (string, error) {
	n, last, err := c.reconfigureN(ctx, m, call, retry...)
	note := fmt.Sprintf("%d attempts", n)
	if n > 1 && last != nil {
		note += ", last refusal: " + last.Error()
	}
	return note, err
}

// reconfigureN is reconfigure returning the attempts and the last error.
func (c *cluster) reconfigureN(ctx context.Context, m *member, call func(context.Context, *member, int) (bool, error), retry ...error) (attempts int, last, err error) {
	deadline := time.Now().Add(reconfigTimeout)
	for attempt := 0; time.Now().Before(deadline) && ctx.Err() == nil; attempt++ {
		attempts = attempt + 1
		var others []*member
		for _, o := range c.members {
			if o != m && o.Running() && !o.isStopped() {
				others = append(others, o)
			}
		}
		if len(others) == 0 {
			return attempts, last, errors.New("no other running member")
		}
		o := others[attempt%len(others)]
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		done, err := call(cctx, o, attempt)
		cancel()
		if done {
			return attempts, last, nil
		}
		last = err
		if isDefinite(err) && !isAny(err, retry) {
			return attempts, last, err
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	return attempts, last, fmt.Errorf("gave up after %s: %w", reconfigTimeout, last)
}

// isDefinite reports whether a membership call's error is the server's
// refusal (an etcd error other than the ones that leave the outcome open).
func isDefinite(err error) bool {
	var ee rpctypes.EtcdError
	if !errors.As(err, &ee) {
		return false // transport errors, deadlines: unknown outcome
	}
	return !isAny(err, []error{rpctypes.ErrTimeout, rpctypes.ErrTimeoutDueToLeaderFail, rpctypes.ErrTimeoutDueToConnectionLost,
		rpctypes.ErrLeaderChanged, rpctypes.ErrNoLeader, rpctypes.ErrStopped, rpctypes.ErrNotCapable, rpctypes.ErrTooManyRequests})
}

func isAny(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
