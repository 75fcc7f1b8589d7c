package snapshot

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/mvcc"
	"github.com/etcdgo/etcd/internal/schema"
	"github.com/etcdgo/etcd/internal/server"
	"github.com/etcdgo/etcd/internal/snap"
	"github.com/etcdgo/etcd/internal/wal"
)

var single = memberSpec{name: "solo", peerURL: "http://127.0.0.1:2380", cluster: "solo=http://127.0.0.1:2380", token: "tok-1"}

func TestRestoreAndServe(t *testing.T) {
	src := buildSource(t)
	snapPath := writeSnapshotFile(t, src.dbPath)
	dataDir := filepath.Join(t.TempDir(), "restored")
	if err := Restore(single.restoreConfig(snapPath, dataDir)); err != nil {
		t.Fatalf("restore: %v", err)
	}

	s := startServer(t, single, dataDir)
	wantID := server.MemberID([]string{single.peerURL}, single.token, nil)
	if s.ID() != wantID {
		t.Errorf("member ID %x, want %x (derived from peer URL and token)", s.ID(), wantID)
	}
	if want := server.ClusterID([]uint64{wantID}); s.ClusterID() != want {
		t.Errorf("cluster ID %x, want %x", s.ClusterID(), want)
	}

	resp := rangeAll(t, s, 0)
	if resp.Header.Revision != src.rev {
		t.Errorf("revision %d after restore, want %d", resp.Header.Revision, src.rev)
	}
	wantKVs(t, "restored keys", resp.Kvs, src.kvs)
	// History survives: k00 was overwritten; its first value is still there.
	old, err := s.Range(ctx(t), &pb.RangeRequest{Key: []byte("k00"), Revision: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(old.Kvs) != 1 || string(old.Kvs[0].Value) != "v0" {
		t.Errorf("k00 at revision 2 (its first put): %v, want v0", old.Kvs)
	}

	ml, err := s.MemberList(ctx(t), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(ml.Members) != 1 || ml.Members[0].ID != wantID || ml.Members[0].Name != single.name ||
		!slices.Equal(ml.Members[0].PeerURLs, []string{single.peerURL}) {
		t.Errorf("members %v, want only %x (%s) with the old cluster's members gone", ml.Members, wantID, single.name)
	}

	put, err := s.Put(ctx(t), &pb.PutRequest{Key: []byte("new"), Value: []byte("1")})
	if err != nil {
		t.Fatalf("put after restore: %v", err)
	}
	if put.Header.Revision != src.rev+1 {
		t.Errorf("put revision %d, want %d", put.Header.Revision, src.rev+1)
	}
	got, err := s.Range(ctx(t), &pb.RangeRequest{Key: []byte("new")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "1" {
		t.Errorf("new key reads %v", got.Kvs)
	}

	// The restored member restarts from its own WAL and db.
	s.Stop()
	s2 := startServer(t, single, dataDir)
	resp = rangeAll(t, s2, 0)
	if resp.Header.Revision < src.rev+1 || len(resp.Kvs) != len(src.kvs)+1 {
		t.Errorf("after restart: revision %d with %d keys, want >= %d with %d", resp.Header.Revision, len(resp.Kvs), src.rev+1, len(src.kvs)+1)
	}
}

func TestRestoreLayoutThreeMembers(t *testing.T) {
	src := buildSource(t)
	snapPath := writeSnapshotFile(t, src.dbPath)
	cluster := "a=http://127.0.0.1:12380,b=http://127.0.0.1:22380,c=http://127.0.0.1:32380"
	spec := memberSpec{name: "b", peerURL: "http://127.0.0.1:22380", cluster: cluster, token: "tok-3"}
	dataDir := filepath.Join(t.TempDir(), "b.etcd")
	walDir := filepath.Join(t.TempDir(), "custom-wal")
	cfg := spec.restoreConfig(snapPath, dataDir)
	cfg.OutputWALDir = walDir
	if err := Restore(cfg); err != nil {
		t.Fatalf("restore: %v", err)
	}

	type mem struct {
		id   uint64
		name string
		url  string
	}
	var ms []mem
	for _, n := range []string{"a", "b", "c"} {
		u := map[string]string{"a": "http://127.0.0.1:12380", "b": "http://127.0.0.1:22380", "c": "http://127.0.0.1:32380"}[n]
		ms = append(ms, mem{server.MemberID([]string{u}, spec.token, nil), n, u})
	}
	slices.SortFunc(ms, func(x, y mem) int {
		if x.id < y.id {
			return -1
		}
		return 1
	})
	ids := []uint64{ms[0].id, ms[1].id, ms[2].id}
	clusterID := server.ClusterID(ids)
	selfID := server.MemberID([]string{spec.peerURL}, spec.token, nil)

	// WAL: metadata, 3 conf change entries, hard state, snapshot record.
	if wal.Exist(filepath.Join(dataDir, "member", "wal")) {
		t.Errorf("WAL written under the data dir although --wal-dir was given")
	}
	w, err := wal.Open(quietLogger(), walDir, wal.SnapshotMark{})
	if err != nil {
		t.Fatal(err)
	}
	md, hs, ents, err := w.ReadAll()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	var meta pb.Metadata
	if err := proto.Unmarshal(md, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.GetNodeID() != selfID || meta.GetClusterID() != clusterID {
		t.Errorf("wal metadata %v, want node %x cluster %x", &meta, selfID, clusterID)
	}
	if hs.GetTerm() != 1 || hs.GetCommit() != 3 || hs.GetVote() != ms[0].id {
		t.Errorf("hard state %v, want term 1 commit 3 vote %x", hs, ms[0].id)
	}
	if len(ents) != 3 {
		t.Fatalf("%d wal entries, want 3", len(ents))
	}
	for i, e := range ents {
		if e.GetType() != raftpb.EntryType_EntryConfChange || e.GetTerm() != 1 || e.GetIndex() != uint64(i+1) {
			t.Errorf("entry %d: type %v term %d index %d", i, e.GetType(), e.GetTerm(), e.GetIndex())
		}
		cc := &raftpb.ConfChange{}
		if err := proto.Unmarshal(e.GetData(), cc); err != nil {
			t.Fatal(err)
		}
		if cc.GetType() != raftpb.ConfChangeType_ConfChangeAddNode || cc.GetNodeId() != ms[i].id {
			t.Errorf("entry %d: conf change %v, want add %x", i, cc, ms[i].id)
		}
		var ctxm struct {
			ID       uint64   `json:"id"`
			PeerURLs []string `json:"peerURLs"`
			Name     string   `json:"name"`
		}
		if err := json.Unmarshal(cc.GetContext(), &ctxm); err != nil {
			t.Fatalf("entry %d context %q: %v", i, cc.GetContext(), err)
		}
		if ctxm.ID != ms[i].id || ctxm.Name != ms[i].name || !slices.Equal(ctxm.PeerURLs, []string{ms[i].url}) {
			t.Errorf("entry %d context %s, want member %x %s %s", i, cc.GetContext(), ms[i].id, ms[i].name, ms[i].url)
		}
	}
	marks, err := wal.ValidSnapshotEntries(quietLogger(), walDir)
	if err != nil {
		t.Fatal(err)
	}
	last := marks[len(marks)-1]
	if last.Index != 3 || last.Term != 1 || !slices.Equal(last.ConfState.GetVoters(), ids) {
		t.Errorf("last wal snapshot record %+v, want index 3 term 1 voters %x", last, ids)
	}

	// Snap file at (1, 3) with the membership-only v2 store.
	sn, err := snap.New(quietLogger(), filepath.Join(dataDir, "member", "snap")).Load()
	if err != nil {
		t.Fatal(err)
	}
	if sn.GetMetadata().GetIndex() != 3 || sn.GetMetadata().GetTerm() != 1 || !slices.Equal(sn.GetMetadata().GetConfState().GetVoters(), ids) {
		t.Errorf("snap metadata %v", sn.GetMetadata())
	}
	checkV2Membership(t, sn.GetData(), ms[0].id, ms[1].id, ms[2].id)

	// db: new members only, consistent index (3, 1), keys untouched.
	be, err := backend.New(backend.Config{Path: filepath.Join(dataDir, "member", "snap", "db"), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	rt := be.ReadTx()
	members, removed, err := schema.UnsafeReadMembers(rt)
	ci, term := schema.UnsafeReadConsistentIndex(rt)
	rt.Release()
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 3 || len(removed) != 0 {
		t.Errorf("db members %v removed %v, want the 3 new members only", members, removed)
	}
	for _, m := range ms {
		got := members[m.id]
		if got == nil || got.Name != m.name || !slices.Equal(got.PeerURLs, []string{m.url}) || got.ClientURLs != nil {
			t.Errorf("db member %x = %+v, want %s %s", m.id, got, m.name, m.url)
		}
	}
	if ci != 3 || term != 1 {
		t.Errorf("consistent index (%d, %d), want (3, 1)", ci, term)
	}
	st := mvcc.NewStore(quietLogger(), be, mvcc.StoreConfig{})
	defer st.Close()
	res, err := st.Range(ctx(t), []byte{0}, []byte{0}, mvcc.RangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantKVs(t, "restored db", res.KVs, src.kvs)
}

// checkV2Membership checks the raft snapshot data: etcd's v2 store JSON with
// /0/members/<id>/raftAttributes for each member, created in ID order.
func checkV2Membership(t *testing.T, data []byte, ids ...uint64) {
	t.Helper()
	type node struct {
		Path          string
		CreatedIndex  uint64
		ModifiedIndex uint64
		ExpireTime    string
		Value         string
		Children      map[string]*node
	}
	var st struct {
		Root       *node
		WatcherHub struct {
			EventHistory struct {
				Queue struct {
					Events   []json.RawMessage
					Size     int
					Front    int
					Back     int
					Capacity int
				}
				StartIndex, LastIndex uint64
			}
		}
		CurrentIndex   uint64
		Stats          map[string]uint64
		CurrentVersion int
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("snap data is not v2 store JSON: %v\n%s", err, data)
	}
	n := uint64(len(ids))
	if st.CurrentVersion != 2 || st.CurrentIndex != n || st.Stats["createSuccess"] != n {
		t.Errorf("v2 store version %d index %d creates %d, want 2, %d, %d", st.CurrentVersion, st.CurrentIndex, st.Stats["createSuccess"], n, n)
	}
	if len(st.Stats) != 16 {
		t.Errorf("v2 store stats has %d fields, want etcd's 16", len(st.Stats))
	}
	q := st.WatcherHub.EventHistory.Queue
	if q.Capacity != 1000 || len(q.Events) != 1000 || q.Size != int(n) || q.Back != int(n) || q.Front != 0 ||
		st.WatcherHub.EventHistory.StartIndex != 1 || st.WatcherHub.EventHistory.LastIndex != n {
		t.Errorf("event history %+v", st.WatcherHub.EventHistory)
	}
	if st.Root == nil || st.Root.Path != "/" || st.Root.ExpireTime != "0001-01-01T00:00:00Z" || len(st.Root.Children) != 2 || st.Root.Children["1"] == nil {
		t.Fatalf("v2 root %+v", st.Root)
	}
	membersDir := st.Root.Children["0"].Children["members"]
	if membersDir == nil || membersDir.Path != "/0/members" || membersDir.CreatedIndex != 1 || len(membersDir.Children) != len(ids) {
		t.Fatalf("/0/members = %+v", membersDir)
	}
	for i, id := range ids {
		hex := strconv.FormatUint(id, 16)
		ra := membersDir.Children[hex].Children["raftAttributes"]
		if ra == nil || ra.Path != "/0/members/"+hex+"/raftAttributes" || ra.CreatedIndex != uint64(i+1) || ra.Children != nil {
			t.Errorf("member %s raftAttributes node %+v", hex, ra)
			continue
		}
		var attrs struct {
			PeerURLs []string `json:"peerURLs"`
		}
		if err := json.Unmarshal([]byte(ra.Value), &attrs); err != nil || len(attrs.PeerURLs) != 1 {
			t.Errorf("member %s raftAttributes %q", hex, ra.Value)
		}
		var ev struct {
			Action string `json:"action"`
			Node   struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			} `json:"node"`
		}
		if err := json.Unmarshal(q.Events[i], &ev); err != nil || ev.Action != "create" || ev.Node.Key != ra.Path || ev.Node.Value != ra.Value {
			t.Errorf("event %d: %s", i, q.Events[i])
		}
	}
	if string(q.Events[n]) != "null" {
		t.Errorf("event slot %d = %s, want null", n, q.Events[n])
	}
}

func TestRestoreHashCheck(t *testing.T) {
	src := buildSource(t)
	snapPath := writeSnapshotFile(t, src.dbPath)

	// One flipped byte in the database part.
	b, err := os.ReadFile(snapPath)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	corrupt := filepath.Join(t.TempDir(), "corrupt.db")
	if err := os.WriteFile(corrupt, b, 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(t.TempDir(), "out")
	err = Restore(single.restoreConfig(corrupt, dataDir))
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("restore of a corrupted snapshot: %v, want ErrHashMismatch", err)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("failed restore left %s behind (stat: %v)", dataDir, err)
	}

	// A bare db file (no trailer) needs --skip-hash-check.
	err = Restore(single.restoreConfig(src.dbPath, dataDir))
	if !errors.Is(err, ErrMissingHash) {
		t.Fatalf("restore of a db without hash: %v, want ErrMissingHash", err)
	}
	cfg := single.restoreConfig(src.dbPath, dataDir)
	cfg.SkipHashCheck = true
	if err := Restore(cfg); err != nil {
		t.Fatalf("restore with --skip-hash-check: %v", err)
	}
	s := startServer(t, single, dataDir)
	wantKVs(t, "restored from a bare db", rangeAll(t, s, 0).Kvs, src.kvs)
}

func TestRestoreRefusesExistingDirs(t *testing.T) {
	src := buildSource(t)
	snapPath := writeSnapshotFile(t, src.dbPath)
	dataDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dataDir, "keep"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Restore(single.restoreConfig(snapPath, dataDir)); err == nil {
		t.Fatal("restore into a non-empty data dir succeeded")
	}
	if _, err := os.Stat(filepath.Join(dataDir, "keep")); err != nil {
		t.Errorf("refused restore touched the data dir: %v", err)
	}

	cfg := single.restoreConfig(snapPath, filepath.Join(t.TempDir(), "d"))
	cfg.OutputWALDir = t.TempDir()
	if err := Restore(cfg); err == nil {
		t.Fatal("restore into an existing wal dir succeeded")
	}

	// An empty, existing data dir is fine.
	if err := Restore(single.restoreConfig(snapPath, t.TempDir())); err != nil {
		t.Fatalf("restore into an empty data dir: %v", err)
	}
}

func TestRestoreRejectsBadMembership(t *testing.T) {
	snapPath := writeSnapshotFile(t, buildSource(t).dbPath)
	for name, m := range map[string]memberSpec{
		"name not in cluster": {name: "x", peerURL: "http://127.0.0.1:2380", cluster: "solo=http://127.0.0.1:2380"},
		"peer url mismatch":   {name: "solo", peerURL: "http://127.0.0.1:2381", cluster: "solo=http://127.0.0.1:2380"},
		"duplicate url":       {name: "a", peerURL: "http://127.0.0.1:2380", cluster: "a=http://127.0.0.1:2380,b=http://127.0.0.1:2380"},
		"bad url":             {name: "solo", peerURL: "127.0.0.1:2380", cluster: "solo=127.0.0.1:2380"},
	} {
		dataDir := filepath.Join(t.TempDir(), "d")
		if err := Restore(m.restoreConfig(snapPath, dataDir)); err == nil {
			t.Errorf("%s: restore succeeded", name)
		}
		if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
			t.Errorf("%s: rejected restore created %s", name, dataDir)
		}
	}
	cfg := single.restoreConfig(snapPath, filepath.Join(t.TempDir(), "d"))
	cfg.RevisionBump = 10
	if err := Restore(cfg); err == nil {
		t.Error("--bump-revision without --mark-compacted accepted")
	}
}

func TestRestoreBumpRevisionMarkCompacted(t *testing.T) {
	src := buildSource(t)
	snapPath := writeSnapshotFile(t, src.dbPath)
	dataDir := filepath.Join(t.TempDir(), "bumped")
	cfg := single.restoreConfig(snapPath, dataDir)
	cfg.RevisionBump = 1000
	cfg.MarkCompacted = true
	if err := Restore(cfg); err != nil {
		t.Fatalf("restore: %v", err)
	}
	s := startServer(t, single, dataDir)
	bumped := src.rev + 1000
	resp := rangeAll(t, s, 0)
	if resp.Header.Revision != bumped {
		t.Errorf("revision %d, want %d", resp.Header.Revision, bumped)
	}
	wantKVs(t, "keys after bump", resp.Kvs, src.kvs)
	if _, err := s.Range(ctx(t), &pb.RangeRequest{Key: []byte("k00"), Revision: src.rev}); err == nil {
		t.Errorf("read at the old revision %d succeeded; want compacted", src.rev)
	}
	put, err := s.Put(ctx(t), &pb.PutRequest{Key: []byte("after"), Value: []byte("bump")})
	if err != nil {
		t.Fatal(err)
	}
	if put.Header.Revision != bumped+1 {
		t.Errorf("put revision %d, want %d", put.Header.Revision, bumped+1)
	}
}
