package etcdmain_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// logOffsets returns the current length of each member's log.
func logOffsets(ms []*testMember) []int {
	offs := make([]int, len(ms))
	for i, m := range ms {
		offs[i] = m.logLen()
	}
	return offs
}

// waitAnyLog waits until the log of some member, from its offset in offs
// on, contains s, and returns that part of its log.
func waitAnyLog(t *testing.T, ms []*testMember, offs []int, s string) string {
	t.Helper()
	deadline := time.Now().Add(convergeTimeout)
	for {
		for i, m := range ms {
			if l := m.log(); len(l) >= offs[i] && strings.Contains(l[offs[i]:], s) {
				return l[offs[i]:]
			}
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for i, m := range ms {
				if l := m.log(); len(l) >= offs[i] {
					fmt.Fprintf(&b, "--- %s\n%s", m.name, l[offs[i]:])
				}
			}
			t.Fatalf("no member logged %s within %v:\n%s", s, convergeTimeout, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// compactNow compacts the history of the cluster at its current revision.
func compactNow(t *testing.T, m *testMember) int64 {
	t.Helper()
	resp, err := m.cli.Get(m.ctx(), "k0")
	if err != nil {
		t.Fatal(err)
	}
	rev := resp.Header.Revision
	if _, err := m.cli.Compact(m.ctx(), rev, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("compact at %d: %v", rev, err)
	}
	return rev
}

// TestCompactHashCheckRaisesCorruptAlarm runs etcd's compaction hash check
// (CompactHashCheck feature gate): on an intact cluster the leader finds
// every member's hash of a compaction equal to its own; after one member's
// data was changed offline, the next compaction's hash differs on that
// member alone and the leader raises the CORRUPT alarm for it. The periodic
// and initial corruption checks are off, so only this check can raise it.
func TestCompactHashCheckRaisesCorruptAlarm(t *testing.T) {
	ms := startCluster(t, 3, "--feature-gates", "CompactHashCheck=true", "--compact-hash-check-time", "100ms")
	for i := range 5 {
		if _, err := ms[0].cli.Put(ms[0].ctx(), fmt.Sprintf("k%d", i), "value-ok"); err != nil {
			t.Fatal(err)
		}
	}
	assertConverged(t, ms, "k4", "value-ok")

	offs := logOffsets(ms)
	rev := compactNow(t, ms[0])
	log := waitAnyLog(t, ms, offs, `"msg":"successfully checked hash on whole cluster"`)
	if !strings.Contains(log, fmt.Sprintf(`"revision":%d`, rev)) || !strings.Contains(log, `"number-of-peers-checked":2`) {
		t.Errorf("leader's check of the compaction at %d:\n%s", rev, log)
	}
	if resp, err := ms[0].cli.AlarmList(ms[0].ctx()); err != nil || len(resp.Alarms) != 0 {
		t.Fatalf("alarms on an intact cluster: %v (error %v)", resp, err)
	}

	bad := ms[(leaderOf(t, ms)+1)%len(ms)]
	id := statusMemberID(t, bad)
	bad.stop()
	corruptValue(t, bad.dataDir, "k2", "value-ok", "value-XX")
	bad.start()
	for i := 5; i < 10; i++ {
		if _, err := ms[0].cli.Put(ms[0].ctx(), fmt.Sprintf("k%d", i), "value-ok"); err != nil {
			t.Fatal(err)
		}
	}
	assertConvergedRevision(t, ms, "k9")

	offs = logOffsets(ms)
	rev = compactNow(t, ms[0])
	alarms := waitAlarms(t, ms[0], pb.AlarmType_CORRUPT)
	if len(alarms) != 1 || alarms[0].MemberID != id {
		t.Errorf("CORRUPT alarms %v, want one for the corrupted member %x", alarms, id)
	}
	log = waitAnyLog(t, ms, offs, `"msg":"Detected compaction hash mismatch"`)
	for _, s := range []string{fmt.Sprintf(`"peer-ids":"%x"`, id), `"quorum-exist":true`, fmt.Sprintf(`"leader-revision":%d`, rev)} {
		if !strings.Contains(log, s) {
			t.Errorf("leader's mismatch log lacks %s:\n%s", s, log)
		}
	}
	for _, m := range ms {
		waitAlarms(t, m, pb.AlarmType_CORRUPT)
		_, err := m.cli.Put(m.ctx(), "k-after", "v")
		wantClientErr(t, m.name+": put under CORRUPT", err, rpctypes.ErrCorrupt)
	}
}

// assertConvergedRevision waits until every member applied the newest
// revision of key (its value may differ on a corrupted member).
func assertConvergedRevision(t *testing.T, ms []*testMember, key string) {
	t.Helper()
	deadline := time.Now().Add(convergeTimeout)
	for {
		var revs []int64
		for _, m := range ms {
			resp, err := m.cli.Get(m.ctx(), key)
			if err != nil {
				t.Fatalf("%s: get %q: %v", m.name, key, err)
			}
			revs = append(revs, resp.Header.Revision)
		}
		same := true
		for _, r := range revs {
			same = same && r == revs[0]
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("members at revisions %v after %v", revs, convergeTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
