package schema

import (
	"bytes"
	"encoding/hex"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/backend"
)

func newBackend(t *testing.T) (backend.Backend, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db")
	be, err := backend.New(backend.Config{Path: path, BatchInterval: time.Hour, UnsafeNoFsync: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tx := be.BatchTx()
	tx.Lock()
	CreateBuckets(tx)
	tx.Unlock()
	return be, path
}

// raw returns the stored bytes of bucket/key through a fresh view.
func raw(t *testing.T, be backend.Backend, b backend.Bucket, key string) []byte {
	t.Helper()
	r := be.ReadTx()
	defer r.Release()
	_, vs := r.UnsafeRange(b, []byte(key), nil, 0)
	if len(vs) == 0 {
		t.Fatalf("%s/%s missing", b.Name, key)
	}
	return append([]byte(nil), vs[0]...)
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestBucketNames(t *testing.T) {
	want := []string{"key", "meta", "lease", "alarm", "cluster", "members", "members_removed", "auth", "authUsers", "authRoles"}
	for i, b := range AllBuckets {
		if string(b.Name) != want[i] {
			t.Errorf("bucket %d = %q, want %q", i, b.Name, want[i])
		}
	}
	if string(Test.Name) != "test" {
		t.Error("test bucket")
	}
}

func TestRevisionGolden(t *testing.T) {
	rev := Revision{Main: 0x0102030405060708, Sub: 9}
	got := RevToBytes(rev, false)
	if want := mustHex("0102030405060708" + "5f" + "0000000000000009"); !bytes.Equal(got, want) {
		t.Fatalf("RevToBytes = %x, want %x", got, want)
	}
	ts := RevToBytes(rev, true)
	if want := mustHex("0102030405060708" + "5f" + "0000000000000009" + "74"); !bytes.Equal(ts, want) {
		t.Fatalf("tombstone = %x", ts)
	}
	if IsTombstone(got) || !IsTombstone(ts) {
		t.Fatal("IsTombstone")
	}
	if BytesToRev(got) != rev || BytesToRev(ts) != rev {
		t.Fatal("BytesToRev round trip")
	}
	// Byte order is revision order.
	a, b := RevToBytes(Revision{Main: 1, Sub: 300}, false), RevToBytes(Revision{Main: 2}, false)
	if bytes.Compare(a, b) >= 0 || !(Revision{Main: 2}).GreaterThan(Revision{Main: 1, Sub: 300}) {
		t.Fatal("ordering")
	}
}

func TestMetaGolden(t *testing.T) {
	be, path := newBackend(t)
	tx := be.BatchTx()
	tx.Lock()
	if i, tm := UnsafeReadConsistentIndex(tx); i != 0 || tm != 0 {
		t.Fatal("empty consistent index")
	}
	UnsafeUpdateConsistentIndex(tx, 0, 9) // never stores index 0
	UnsafeUpdateConsistentIndex(tx, 0x1234, 7)
	UnsafeSetScheduledCompact(tx, 42)
	UnsafeSetFinishedCompact(tx, 41)
	UnsafeSetStorageVersion(tx, "3.7.2")
	UnsafeSaveAuthEnabled(tx, true)
	UnsafeSaveAuthRevision(tx, 3)
	tx.Unlock()

	if got := raw(t, be, Meta, "consistent_index"); !bytes.Equal(got, mustHex("0000000000001234")) {
		t.Errorf("consistent_index = %x", got)
	}
	if got := raw(t, be, Meta, "term"); !bytes.Equal(got, mustHex("0000000000000007")) {
		t.Errorf("term = %x", got)
	}
	if got := raw(t, be, Meta, "scheduledCompactRev"); !bytes.Equal(got, mustHex("000000000000002a5f0000000000000000")) {
		t.Errorf("scheduledCompactRev = %x", got)
	}
	if got := raw(t, be, Meta, "finishedCompactRev"); !bytes.Equal(got, mustHex("00000000000000295f0000000000000000")) {
		t.Errorf("finishedCompactRev = %x", got)
	}
	if got := raw(t, be, Meta, "storageVersion"); string(got) != "3.7.0" {
		t.Errorf("storageVersion = %q", got)
	}
	if got := raw(t, be, Auth, "authEnabled"); !bytes.Equal(got, []byte{1}) {
		t.Errorf("authEnabled = %x", got)
	}
	if got := raw(t, be, Auth, "authRevision"); !bytes.Equal(got, mustHex("0000000000000003")) {
		t.Errorf("authRevision = %x", got)
	}
	// Survives a reopen and reads back.
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	be2, err := backend.New(backend.Config{Path: path, UnsafeNoFsync: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer be2.Close()
	r := be2.ReadTx()
	defer r.Release()
	if i, tm := UnsafeReadConsistentIndex(r); i != 0x1234 || tm != 7 {
		t.Errorf("consistent index = %d, %d", i, tm)
	}
	if rev, ok := UnsafeReadScheduledCompact(r); !ok || rev != 42 {
		t.Errorf("scheduled = %d %v", rev, ok)
	}
	if rev, ok := UnsafeReadFinishedCompact(r); !ok || rev != 41 {
		t.Errorf("finished = %d %v", rev, ok)
	}
	if v := UnsafeReadStorageVersion(r); v != "3.7.0" {
		t.Errorf("storage version %q", v)
	}
	if !UnsafeReadAuthEnabled(r) || UnsafeReadAuthRevision(r) != 3 {
		t.Error("auth meta")
	}
}

func TestStorageVersionEmptyIsUnset(t *testing.T) {
	be, _ := newBackend(t)
	defer be.Close()
	tx := be.BatchTx()
	tx.Lock()
	defer tx.Unlock()
	if UnsafeReadStorageVersion(tx) != "" {
		t.Fatal("unset")
	}
	// etcd writes "" while migrating 3.5 -> 3.6; it reads as unset.
	tx.UnsafePut(Meta, MetaStorageVersionName, []byte(""))
	if UnsafeReadStorageVersion(tx) != "" {
		t.Fatal("empty value")
	}
	UnsafeSetStorageVersion(tx, "3.6")
	if v := UnsafeReadStorageVersion(tx); v != "3.6.0" {
		t.Fatalf("got %q", v)
	}
	UnsafeClearStorageVersion(tx)
	if UnsafeReadStorageVersion(tx) != "" {
		t.Fatal("cleared")
	}
}

func TestConfStateGolden(t *testing.T) {
	autoLeave := true
	tests := []struct {
		cs   *raftpb.ConfState
		want string
	}{
		{&raftpb.ConfState{Voters: []uint64{3}, Learners: []uint64{1, 2}}, `{"voters":[3],"learners":[1,2]}`},
		{&raftpb.ConfState{Voters: []uint64{1, 2}, VotersOutgoing: []uint64{1}, LearnersNext: []uint64{4}, AutoLeave: &autoLeave},
			`{"voters":[1,2],"voters_outgoing":[1],"learners_next":[4],"auto_leave":true}`},
		{&raftpb.ConfState{}, `{}`},
	}
	be, _ := newBackend(t)
	defer be.Close()
	for _, tc := range tests {
		if got := string(MarshalConfState(tc.cs)); got != tc.want {
			t.Errorf("MarshalConfState = %s, want %s", got, tc.want)
		}
		tx := be.BatchTx()
		tx.Lock()
		UnsafeSaveConfState(tx, tc.cs)
		tx.Unlock()
		if got := string(raw(t, be, Meta, "confState")); got != tc.want {
			t.Errorf("stored %s", got)
		}
		r := be.ReadTx()
		got := UnsafeReadConfState(r)
		r.Release()
		if !proto.Equal(got, tc.cs) {
			t.Errorf("read back %v, want %v", got, tc.cs)
		}
	}
	// etcd 3.5/3.6 (gogoproto raftpb) always wrote auto_leave.
	tx := be.BatchTx()
	tx.Lock()
	tx.UnsafePut(Meta, MetaConfStateName, []byte(`{"voters":[3],"learners":[1,2],"auto_leave":false}`))
	got := UnsafeReadConfState(tx)
	tx.Unlock()
	if len(got.GetVoters()) != 1 || len(got.GetLearners()) != 2 || got.GetAutoLeave() {
		t.Fatalf("3.5 conf state read as %v", got)
	}
}

func TestMemberGolden(t *testing.T) {
	be, _ := newBackend(t)
	defer be.Close()
	m1 := &Member{ID: 0x8e9e05c52164694d, Name: "infra1", PeerURLs: []string{"http://127.0.0.1:2380"}, ClientURLs: []string{"http://127.0.0.1:2379"}}
	m2 := &Member{ID: 0xa, PeerURLs: []string{"http://10.0.0.2:2380"}, IsLearner: true}
	m3 := &Member{ID: 0xbeef, PeerURLs: []string{"http://x:2380"}}
	tx := be.BatchTx()
	tx.Lock()
	UnsafeSaveMember(tx, m1)
	UnsafeSaveMember(tx, m2)
	UnsafeSaveMember(tx, m3)
	UnsafeDeleteMember(tx, m3.ID)
	UnsafeSaveClusterVersion(tx, "3.7.0")
	UnsafeSaveDowngrade(tx, &DowngradeInfo{TargetVersion: "3.6.0", Enabled: true})
	tx.Unlock()

	if got, want := string(raw(t, be, Members, "8e9e05c52164694d")),
		`{"id":10276657743932975437,"peerURLs":["http://127.0.0.1:2380"],"name":"infra1","clientURLs":["http://127.0.0.1:2379"]}`; got != want {
		t.Errorf("member json = %s\nwant %s", got, want)
	}
	if got, want := string(raw(t, be, Members, "a")), `{"id":10,"peerURLs":["http://10.0.0.2:2380"],"isLearner":true}`; got != want {
		t.Errorf("learner json = %s", got)
	}
	if got := string(raw(t, be, MembersRemoved, "beef")); got != "removed" {
		t.Errorf("removed value %q", got)
	}
	if got := string(raw(t, be, Cluster, "clusterVersion")); got != "3.7.0" {
		t.Errorf("cluster version %q", got)
	}
	if got := string(raw(t, be, Cluster, "downgrade")); got != `{"target-version":"3.6.0","enabled":true}` {
		t.Errorf("downgrade %s", got)
	}
	r := be.ReadTx()
	defer r.Release()
	members, removed, err := UnsafeReadMembers(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 2 || len(removed) != 1 || !removed[0xbeef] {
		t.Fatalf("members %v removed %v", members, removed)
	}
	got := members[m1.ID]
	if got.Name != m1.Name || got.PeerURLs[0] != m1.PeerURLs[0] || got.ClientURLs[0] != m1.ClientURLs[0] || got.IsLearner {
		t.Fatalf("member read back %+v", got)
	}
	if !members[0xa].IsLearner {
		t.Fatal("learner flag lost")
	}
	if UnsafeReadClusterVersion(r) != "3.7.0" {
		t.Fatal("cluster version")
	}
	if d := UnsafeReadDowngrade(r); d == nil || !d.Enabled || d.TargetVersion != "3.6.0" {
		t.Fatalf("downgrade %v", d)
	}
}

func TestIgnoredInHash(t *testing.T) {
	for _, k := range []string{"term", "consistent_index", "storageVersion"} {
		if !IgnoredInHash(Meta.Name, []byte(k)) {
			t.Errorf("%s not ignored", k)
		}
	}
	if IgnoredInHash(Meta.Name, []byte("confState")) || IgnoredInHash(Key.Name, []byte("term")) {
		t.Error("ignores too much")
	}
}
