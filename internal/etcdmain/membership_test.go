package etcdmain_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// joiner returns a member, not yet started, that joins the running members
// ms as an existing-cluster member named name.
func joiner(t *testing.T, ms []*testMember, name string) *testMember {
	t.Helper()
	dir := t.TempDir()
	m := &testMember{
		t:         t,
		name:      name,
		dataDir:   filepath.Join(dir, "data"),
		logPath:   filepath.Join(dir, "etcd.log"),
		clientURL: fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
		peerURL:   fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
		extra:     []string{"--initial-cluster-state", "existing"},
	}
	var ic []string
	for _, o := range ms {
		if o.cli != nil {
			ic = append(ic, o.name+"="+o.peerURL)
		}
	}
	m.cluster = strings.Join(append(ic, name+"="+m.peerURL), ",")
	t.Cleanup(m.stop)
	return m
}

// retryUnhealthy repeats a membership change that --strict-reconfig-check
// refuses until the peers have been connected long enough (etcd's 5 s).
func retryUnhealthy[T any](t *testing.T, f func() (T, error)) (T, error) {
	t.Helper()
	deadline := time.Now().Add(convergeTimeout)
	for {
		v, err := f()
		if err == nil || !errors.Is(err, rpctypes.ErrUnhealthy) || time.Now().After(deadline) {
			return v, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sameError reports whether err carries the description of etcd's error
// want (the client turns some server errors into its own types).
func sameError(err, want error) bool {
	return err != nil && rpctypes.ErrorDesc(err) == rpctypes.ErrorDesc(want)
}

func memberByName(t *testing.T, cli *clientv3.Client, name string) (id uint64, learner bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	resp, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range resp.Members {
		if m.Name == name {
			return m.ID, m.IsLearner
		}
	}
	t.Fatalf("no member named %s in %v", name, resp.Members)
	return 0, false
}

// TestClusterLearnerJoinsAndIsPromoted adds a learner, starts it against the
// running cluster, checks it serves only what a learner may, promotes it
// through a follower (which forwards to the leader) and then removes it:
// the removed member stops by itself.
func TestClusterLearnerJoinsAndIsPromoted(t *testing.T) {
	ms := startCluster(t, 3)
	lead := leaderOf(t, ms)
	l := ms[lead]
	follower := ms[(lead+1)%3]
	if _, err := l.cli.Put(l.ctx(), "seen-by", "learner"); err != nil {
		t.Fatal(err)
	}

	j := joiner(t, ms, "m3")
	add, err := follower.cli.MemberAddAsLearner(follower.ctx(), []string{j.peerURL})
	if err != nil {
		t.Fatalf("add learner: %v", err)
	}
	if !add.Member.IsLearner || len(add.Members) != 4 {
		t.Fatalf("add learner answered %v", add)
	}
	// --max-learners defaults to 1.
	if _, err := l.cli.MemberAddAsLearner(l.ctx(), []string{"http://127.0.0.1:1"}); !errors.Is(err, rpctypes.ErrTooManyLearners) {
		t.Fatalf("second learner: %v, want %v", err, rpctypes.ErrTooManyLearners)
	}

	off := j.launch()
	if !j.waitLog(off, `"msg":"ready to serve client requests"`) {
		t.Fatalf("learner never became ready:\n%s", j.log())
	}
	deadline := time.Now().Add(convergeTimeout)
	for {
		resp, err := j.cli.Get(j.ctx(), "seen-by", clientv3.WithSerializable())
		if err == nil && len(resp.Kvs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("learner never caught up: %v %v", resp, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := j.cli.Get(j.ctx(), "seen-by"); !sameError(err, rpctypes.ErrGRPCNotSupportedForLearner) {
		t.Fatalf("linearizable get on a learner: %v", err)
	}
	if _, err := j.cli.Put(j.ctx(), "k", "v"); !sameError(err, rpctypes.ErrGRPCNotSupportedForLearner) {
		t.Fatalf("put on a learner: %v", err)
	}
	st, err := j.cli.Status(j.ctx(), j.clientURL)
	if err != nil || !st.IsLearner {
		t.Fatalf("learner status: %v %v", st, err)
	}
	id, learner := memberByName(t, l.cli, "m3")
	if !learner || id != add.Member.ID {
		t.Fatalf("member list shows m3 as %x learner=%v, want %x learner", id, learner, add.Member.ID)
	}

	// Promoting a voter is refused; promoting the learner through a
	// follower works once it is in sync.
	leadID := mustStatus(t, l).Header.MemberId
	if _, err := follower.cli.MemberPromote(follower.ctx(), leadID); !errors.Is(err, rpctypes.ErrMemberNotLearner) {
		t.Fatalf("promote a voter: %v, want %v", err, rpctypes.ErrMemberNotLearner)
	}
	deadline = time.Now().Add(convergeTimeout)
	for {
		_, err := follower.cli.MemberPromote(follower.ctx(), id)
		if err == nil {
			break
		}
		if !errors.Is(err, rpctypes.ErrMemberLearnerNotReady) || time.Now().After(deadline) {
			t.Fatalf("promote: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, learner := memberByName(t, l.cli, "m3"); learner {
		t.Fatal("m3 is still a learner after its promotion")
	}
	// Now a voter, it serves linearizable reads and writes.
	deadline = time.Now().Add(convergeTimeout)
	for {
		_, err := j.cli.Put(j.ctx(), "by", "m3")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("put on the promoted member: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	all := append(slices.Clone(ms), j)
	assertConverged(t, all, "by", "m3")

	// Removed, the member stops by itself; the others go on. Clients keep
	// reading from it meanwhile: it stops serving them before it closes
	// its store (a read on the closed store used to panic the process).
	readCtx, stopReading := context.WithCancel(context.Background())
	readersDone := make(chan struct{})
	go func() {
		defer close(readersDone)
		cli := j.cli
		for readCtx.Err() == nil {
			ctx, cancel := context.WithTimeout(readCtx, 100*time.Millisecond)
			cli.Status(ctx, j.clientURL)
			cli.Get(ctx, "by", clientv3.WithSerializable())
			cli.HashKV(ctx, j.clientURL, 0)
			cancel()
		}
	}()
	defer func() { stopReading(); <-readersDone }()
	if _, err := retryUnhealthy(t, func() (*clientv3.MemberRemoveResponse, error) {
		return l.cli.MemberRemove(l.ctx(), id)
	}); err != nil {
		t.Fatalf("remove m3: %v", err)
	}
	select {
	case err := <-j.done:
		if err != nil {
			t.Errorf("the removed member's Run returned %v, want nil", err)
		}
		j.done <- err
	case <-time.After(stopTimeout):
		t.Fatalf("the removed member did not stop:\n%s", j.log())
	}
	stopReading()
	<-readersDone
	j.stop()
	if _, err := l.cli.Put(l.ctx(), "after", "remove"); err != nil {
		t.Fatal(err)
	}
	assertConverged(t, ms, "after", "remove")
	if _, err := l.cli.MemberRemove(l.ctx(), id); !errors.Is(err, rpctypes.ErrMemberNotFound) {
		t.Fatalf("remove a removed member: %v, want %v", err, rpctypes.ErrMemberNotFound)
	}
}

// TestClusterMemberAddVoterAndErrors adds a voting member that joins with a
// fresh data dir, checks the errors of bad membership requests, updates a
// member's peer URLs, and moves the leadership.
func TestClusterMemberAddVoterAndErrors(t *testing.T) {
	ms := startCluster(t, 3)
	lead := leaderOf(t, ms)
	l := ms[lead]
	for i := range 20 {
		if _, err := l.cli.Put(l.ctx(), fmt.Sprintf("k%d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	j := joiner(t, ms, "m3")
	add, err := retryUnhealthy(t, func() (*clientv3.MemberAddResponse, error) {
		return l.cli.MemberAdd(l.ctx(), []string{j.peerURL})
	})
	if err != nil {
		t.Fatalf("add member: %v", err)
	}
	if add.Member.IsLearner || add.Member.PeerURLs[0] != j.peerURL {
		t.Fatalf("add answered %v", add.Member)
	}
	j.start()
	all := append(slices.Clone(ms), j)
	if _, err := j.cli.Put(j.ctx(), "from", "m3"); err != nil {
		t.Fatal(err)
	}
	assertConverged(t, all, "from", "m3")

	ctx := l.ctx()
	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"add a taken peer URL", func() error { _, err := l.cli.MemberAddAsLearner(ctx, []string{ms[1].peerURL}); return err }, rpctypes.ErrPeerURLExist},
		{"add a bad URL", func() error {
			// The client checks URLs itself: call the service directly.
			_, err := pb.NewClusterClient(l.cli.ActiveConnection()).MemberAdd(ctx, &pb.MemberAddRequest{PeerURLs: []string{"ftp://127.0.0.1:80"}})
			return err
		}, rpctypes.ErrGRPCMemberBadURLs},
		{"remove an unknown member", func() error { _, err := l.cli.MemberRemove(ctx, 42); return err }, rpctypes.ErrMemberNotFound},
		{"update an unknown member", func() error { _, err := l.cli.MemberUpdate(ctx, 42, []string{"http://127.0.0.1:9"}); return err }, rpctypes.ErrMemberNotFound},
		{"update to a taken URL", func() error {
			_, err := l.cli.MemberUpdate(ctx, add.Member.ID, []string{ms[0].peerURL})
			return err
		}, rpctypes.ErrPeerURLExist},
		{"promote an unknown member", func() error { _, err := l.cli.MemberPromote(ctx, 42); return err }, rpctypes.ErrMemberNotFound},
		{"move leader to an unknown member", func() error { _, err := l.cli.MoveLeader(ctx, 42); return err }, rpctypes.ErrBadLeaderTransferee},
		{"move leader from a follower", func() error {
			f := ms[(lead+1)%3]
			_, err := f.cli.MoveLeader(f.ctx(), add.Member.ID)
			return err
		}, rpctypes.ErrNotLeader},
	}
	for _, c := range cases {
		if err := c.call(); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}

	// An update changes the peer URLs every member knows.
	extra := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	upd, err := l.cli.MemberUpdate(ctx, add.Member.ID, []string{j.peerURL, extra})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range upd.Members {
		if m.ID == add.Member.ID && len(m.PeerURLs) != 2 {
			t.Fatalf("after update the member has peer URLs %v", m.PeerURLs)
		}
	}
	if _, err := l.cli.MemberUpdate(ctx, add.Member.ID, []string{j.peerURL}); err != nil {
		t.Fatal(err)
	}

	// MoveLeader hands the leadership to the new member.
	if _, err := l.cli.MoveLeader(ctx, add.Member.ID); err != nil {
		t.Fatalf("move leader: %v", err)
	}
	if st := mustStatus(t, j); st.Leader != add.Member.ID {
		t.Fatalf("after MoveLeader the leader is %x, want %x", st.Leader, add.Member.ID)
	}
	if _, err := l.cli.Put(l.ctx(), "after", "move"); err != nil {
		t.Fatal(err)
	}
	assertConverged(t, all, "after", "move")
}
