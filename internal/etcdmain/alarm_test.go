package etcdmain_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// smallQuota is a --quota-backend-bytes a few dozen 16 KiB puts exceed.
const smallQuota = "524288"

// fillUntilNoSpace puts 16 KiB values through m until a put fails, and
// returns that error.
func fillUntilNoSpace(t *testing.T, m *testMember) error {
	t.Helper()
	val := strings.Repeat("x", 16<<10)
	for i := range 1000 {
		if _, err := m.cli.Put(m.ctx(), fmt.Sprintf("fill/%04d", i), val); err != nil {
			return err
		}
	}
	t.Fatalf("1000 puts of 16 KiB never exceeded a quota of %s bytes", smallQuota)
	return nil
}

// waitAlarms waits until member m lists (through raft) alarms of exactly
// the types want, and returns the list.
func waitAlarms(t *testing.T, m *testMember, want ...pb.AlarmType) []*pb.AlarmMember {
	t.Helper()
	deadline := time.Now().Add(convergeTimeout)
	for {
		resp, err := m.cli.AlarmList(m.ctx())
		var got []pb.AlarmType
		if err == nil {
			for _, a := range resp.Alarms {
				got = append(got, a.Alarm)
			}
			if sameAlarmTypes(got, want) {
				return resp.Alarms
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: alarms %v (error %v), want %v", m.name, got, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sameAlarmTypes reports whether got and want name the same alarm types;
// several members may have the same alarm.
func sameAlarmTypes(got, want []pb.AlarmType) bool {
	set := func(ts []pb.AlarmType) map[pb.AlarmType]bool {
		m := map[pb.AlarmType]bool{}
		for _, a := range ts {
			m[a] = true
		}
		return m
	}
	g, w := set(got), set(want)
	if len(g) != len(w) {
		return false
	}
	for a := range w {
		if !g[a] {
			return false
		}
	}
	return true
}

// statusErrorsOf returns the errors member m's Status lists (local state,
// no raft round).
func statusErrorsOf(t *testing.T, m *testMember) []string {
	t.Helper()
	st, err := m.cli.Status(m.ctx(), m.clientURL)
	if err != nil {
		t.Fatalf("%s: status: %v", m.name, err)
	}
	return st.Errors
}

func hasAlarmError(errs []string, alarm string) bool {
	for _, e := range errs {
		if strings.Contains(e, "alarm:"+alarm) && strings.Contains(e, "memberID:") {
			return true
		}
	}
	return false
}

func TestAlarmNoSpaceOnEveryMemberUntilDisarmed(t *testing.T) {
	ms := startCluster(t, 3, "--quota-backend-bytes", smallQuota)
	err := fillUntilNoSpace(t, ms[0])
	wantClientErr(t, "put past the quota", err, rpctypes.ErrNoSpace)

	waitAlarms(t, ms[0], pb.AlarmType_NOSPACE)
	for _, m := range ms {
		waitAlarms(t, m, pb.AlarmType_NOSPACE)
		// Every member applies the alarm: its own writes fail too.
		_, err := m.cli.Put(m.ctx(), "small", "v")
		wantClientErr(t, m.name+": put under NOSPACE", err, rpctypes.ErrNoSpace)
		_, err = m.cli.Txn(m.ctx()).Then(clientv3.OpPut("small", "v")).Commit()
		wantClientErr(t, m.name+": txn put under NOSPACE", err, rpctypes.ErrNoSpace)
		_, err = m.cli.Grant(m.ctx(), 60)
		wantClientErr(t, m.name+": lease grant under NOSPACE", err, rpctypes.ErrNoSpace)
		if errs := statusErrorsOf(t, m); !hasAlarmError(errs, "NOSPACE") {
			t.Errorf("%s: status errors %q, want the NOSPACE alarm", m.name, errs)
		}
		if code, body := healthGet(t, m.clientURL+"/health"); code != http.StatusServiceUnavailable || !strings.Contains(body, "ALARM NOSPACE") {
			t.Errorf("%s: /health %d %q, want 503 with ALARM NOSPACE", m.name, code, body)
		}
		// Reads still work.
		resp, err := m.cli.Get(m.ctx(), "fill/0000")
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("%s: get under NOSPACE: %v %v", m.name, resp, err)
		}
	}

	// Deletes and compaction work; defragmentation gives the space back.
	del, err := ms[1].cli.Delete(ms[1].ctx(), "fill/", clientv3.WithPrefix())
	if err != nil || del.Deleted == 0 {
		t.Fatalf("delete under NOSPACE: %v %v", del, err)
	}
	if _, err := ms[2].cli.Compact(ms[2].ctx(), del.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("compact under NOSPACE: %v", err)
	}
	for _, m := range ms {
		if _, err := m.cli.Defragment(m.ctx(), m.clientURL); err != nil {
			t.Fatalf("%s: defragment: %v", m.name, err)
		}
	}
	// The alarm stays until it is disarmed.
	_, err = ms[0].cli.Put(ms[0].ctx(), "small", "v")
	wantClientErr(t, "put after defrag, before disarm", err, rpctypes.ErrNoSpace)

	// Disarm every member's alarm (each member that found itself past the
	// quota raised its own).
	alarms := waitAlarms(t, ms[1], pb.AlarmType_NOSPACE)
	for _, a := range alarms {
		resp, err := ms[1].cli.AlarmDisarm(ms[1].ctx(), (*clientv3.AlarmMember)(a))
		if err != nil {
			t.Fatalf("disarm %v: %v", a, err)
		}
		if len(resp.Alarms) != 1 || resp.Alarms[0].MemberID != a.MemberID || resp.Alarms[0].Alarm != pb.AlarmType_NOSPACE {
			t.Errorf("disarm answered %v, want the disarmed alarm %v", resp.Alarms, a)
		}
	}
	for _, m := range ms {
		waitAlarms(t, m)
		if _, err := m.cli.Put(m.ctx(), "small", "v"); err != nil {
			t.Errorf("%s: put after compact, defrag and disarm: %v", m.name, err)
		}
		if errs := statusErrorsOf(t, m); len(errs) != 0 {
			t.Errorf("%s: status errors %q after disarm, want none", m.name, errs)
		}
	}
}

// readAlarmBucket returns the alarms in the "alarm" bucket of a stopped
// member's db, and fails if a value is not empty (etcd's layout).
func readAlarmBucket(t *testing.T, dataDir string) []*pb.AlarmMember {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dataDir, "member", "snap", "db"), 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open db: %v", err)
	}
	defer db.Close()
	var out []*pb.AlarmMember
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("alarm"))
		if b == nil {
			return errors.New("no alarm bucket")
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v) != 0 {
				return fmt.Errorf("alarm %x has value %q, want empty", k, v)
			}
			m := &pb.AlarmMember{}
			if err := proto.Unmarshal(k, m); err != nil {
				return err
			}
			out = append(out, m)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("read alarm bucket: %v", err)
	}
	return out
}

func TestAlarmPersistedAcrossRestart(t *testing.T) {
	m := startMember(t, "--quota-backend-bytes", smallQuota)
	wantClientErr(t, "put past the quota", fillUntilNoSpace(t, m), rpctypes.ErrNoSpace)
	alarms := waitAlarms(t, m, pb.AlarmType_NOSPACE)
	st, err := m.cli.Status(m.ctx(), m.clientURL)
	if err != nil {
		t.Fatal(err)
	}
	if alarms[0].MemberID != st.Header.MemberId {
		t.Errorf("alarm for member %x, want this member %x", alarms[0].MemberID, st.Header.MemberId)
	}

	m.stop()
	stored := readAlarmBucket(t, m.dataDir)
	if len(stored) != 1 || !proto.Equal(stored[0], alarms[0]) {
		t.Fatalf("alarm bucket holds %v, want %v", stored, alarms)
	}
	m.start()
	if errs := statusErrorsOf(t, m); !hasAlarmError(errs, "NOSPACE") {
		t.Errorf("status errors after restart %q, want the NOSPACE alarm", errs)
	}
	_, err = m.cli.Put(m.ctx(), "small", "v")
	wantClientErr(t, "put after restart", err, rpctypes.ErrNoSpace)

	if _, err := m.cli.AlarmDisarm(m.ctx(), (*clientv3.AlarmMember)(alarms[0])); err != nil {
		t.Fatalf("disarm: %v", err)
	}
	m.stop()
	if stored := readAlarmBucket(t, m.dataDir); len(stored) != 0 {
		t.Errorf("alarm bucket holds %v after disarm, want nothing", stored)
	}
}

// corruptValue changes, in a stopped member's db, the stored value of the
// newest revision of key from old to a value of the same length, so the
// member's HashKV differs from its peers' at the same revision.
func corruptValue(t *testing.T, dataDir, key, old, repl string) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dataDir, "member", "snap", "db"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open db: %v", err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("key"))
		var rk, rv []byte
		b.ForEach(func(k, v []byte) error {
			if bytes.Contains(v, []byte(key)) && bytes.Contains(v, []byte(old)) {
				rk, rv = append([]byte(nil), k...), append([]byte(nil), v...)
			}
			return nil
		})
		if rk == nil {
			return fmt.Errorf("no revision of %q with value %q", key, old)
		}
		return b.Put(rk, bytes.Replace(rv, []byte(old), []byte(repl), 1))
	})
	if err != nil {
		t.Fatalf("corrupt db: %v", err)
	}
}

// statusMemberID returns m's member ID.
func statusMemberID(t *testing.T, m *testMember) uint64 {
	t.Helper()
	st, err := m.cli.Status(m.ctx(), m.clientURL)
	if err != nil {
		t.Fatalf("%s: status: %v", m.name, err)
	}
	return st.Header.MemberId
}

func TestInitialCorruptCheckRefusesCorruptedMember(t *testing.T) {
	ms := startCluster(t, 3)
	for i := range 5 {
		if _, err := ms[0].cli.Put(ms[0].ctx(), fmt.Sprintf("k%d", i), "value-ok"); err != nil {
			t.Fatal(err)
		}
	}
	assertConverged(t, ms, "k4", "value-ok")
	bad := ms[2]
	id := statusMemberID(t, bad)
	bad.stop()
	corruptValue(t, bad.dataDir, "k2", "value-ok", "value-XX")

	bad.extra = append(bad.extra, "--experimental-initial-corrupt-check")
	logStart := bad.launch()
	var err error
	select {
	case err = <-bad.done:
	case <-time.After(startTimeout):
		t.Fatalf("the corrupted member did not stop within %v\nlog:\n%s", startTimeout, bad.log())
	}
	// Run has returned: nothing is left to stop.
	bad.cancel()
	bad.cancel = nil
	bad.cli.Close()
	bad.cli = nil
	want := fmt.Sprintf("%x found data inconsistency with peers", id)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("corrupted member's start returned %v, want %q", err, want)
	}
	log := bad.log()[logStart:]
	for _, s := range []string{`"msg":"starting initial corruption check"`, `"msg":"found different hash values from remote peer"`, `"msg":"checkInitialHashKV failed"`} {
		if !strings.Contains(log, s) {
			t.Errorf("log lacks %s:\n%s", s, log)
		}
	}

	// An intact member passes the same check.
	good := ms[1]
	good.stop()
	good.extra = append(good.extra, "--experimental-initial-corrupt-check")
	off := good.logLen()
	good.start()
	if !strings.Contains(good.log()[off:], `"msg":"initial corruption checking passed; no corruption"`) {
		t.Errorf("intact member did not log that its check passed:\n%s", good.log()[off:])
	}
}

func TestPeriodicCorruptCheckRaisesCorruptAlarm(t *testing.T) {
	ms := startCluster(t, 3, "--corrupt-check-time", "200ms")
	for i := range 5 {
		if _, err := ms[0].cli.Put(ms[0].ctx(), fmt.Sprintf("k%d", i), "value-ok"); err != nil {
			t.Fatal(err)
		}
	}
	assertConverged(t, ms, "k4", "value-ok")
	bad := ms[(leaderOf(t, ms)+1)%len(ms)]
	id := statusMemberID(t, bad)
	bad.stop()
	corruptValue(t, bad.dataDir, "k2", "value-ok", "value-XX")
	bad.start()

	alarms := waitAlarms(t, ms[0], pb.AlarmType_CORRUPT)
	if lead := ms[leaderOf(t, ms)]; lead != bad && alarms[0].MemberID != id {
		t.Errorf("CORRUPT alarm for member %x, want the corrupted member %x", alarms[0].MemberID, id)
	}
	for _, m := range ms {
		waitAlarms(t, m, pb.AlarmType_CORRUPT)
		_, err := m.cli.Put(m.ctx(), "k9", "v")
		wantClientErr(t, m.name+": put under CORRUPT", err, rpctypes.ErrCorrupt)
		if errs := statusErrorsOf(t, m); !hasAlarmError(errs, "CORRUPT") {
			t.Errorf("%s: status errors %q, want the CORRUPT alarm", m.name, errs)
		}
	}
}

func TestAutoCompactionPeriodic(t *testing.T) {
	m := startMember(t, "--auto-compaction-mode", "periodic", "--auto-compaction-retention", "1s")
	var first int64
	for i := range 5 {
		resp, err := m.cli.Put(m.ctx(), "k", fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = resp.Header.Revision
		}
	}
	deadline := time.Now().Add(convergeTimeout)
	for {
		_, err := m.cli.Get(m.ctx(), "k", clientv3.WithRev(first))
		if errors.Is(err, rpctypes.ErrCompacted) {
			break
		}
		if err != nil {
			t.Fatalf("get at revision %d: %v", first, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("revision %d not compacted within %v", first, convergeTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !m.waitLog(0, `"msg":"completed auto periodic compaction"`) {
		t.Errorf("log lacks the completed auto periodic compaction line")
	}
}

func healthGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAlarmComesWithSnapshot(t *testing.T) {
	ms := startCluster(t, 3, "--snapshot-count", "40", "--snapshot-catchup-entries", "5")
	lead := leaderOf(t, ms)
	f, l := ms[(lead+1)%3], ms[lead]
	f.stop()

	// Raise an alarm with the raw API (etcdctl only lists and disarms),
	// then push it into a snapshot with more entries: alarm lists go
	// through raft too.
	mc := pb.NewMaintenanceClient(l.cli.ActiveConnection())
	raised, err := mc.Alarm(l.ctx(), &pb.AlarmRequest{Action: pb.AlarmRequest_ACTIVATE, MemberID: statusMemberID(t, l), Alarm: pb.AlarmType_NOSPACE})
	if err != nil || len(raised.Alarms) != 1 {
		t.Fatalf("activate NOSPACE: %v %v", raised, err)
	}
	for range 60 {
		if _, err := l.cli.AlarmList(l.ctx()); err != nil {
			t.Fatal(err)
		}
	}

	off := f.logLen()
	f.start()
	if !f.waitLog(off, `"msg":"applied snapshot"`) {
		t.Fatalf("the follower did not install a snapshot:\n%s", f.log()[off:])
	}
	if errs := statusErrorsOf(t, f); !hasAlarmError(errs, "NOSPACE") {
		t.Errorf("follower's status errors %q after the snapshot, want the NOSPACE alarm", errs)
	}
	_, err = f.cli.Put(f.ctx(), "k", "v")
	wantClientErr(t, "put through the follower", err, rpctypes.ErrNoSpace)
}
