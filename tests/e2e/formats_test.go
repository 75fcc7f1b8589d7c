package e2e

// Formats compatibility with the official etcd v3.7.3 (issue 9): the same
// history gives the same HashKV answers on both servers, before and after a
// physical compaction, and a snapshot of our member is read, restored and
// served by the official etcdutl and etcd.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/tests/framework"
)

// applyFormatsHistory applies one deterministic history through do: puts of
// text and binary keys (with \x00 and \xff bytes), overwrites, single, range,
// prefix and from-key deletes, txns writing several keys, and a key with many
// versions that is deleted and recreated. It grants no lease.
func applyFormatsHistory(do func(name string, op clientv3.Op)) {
	for _, kv := range [][2]string{
		{"a", "1"}, {"b", "2"}, {"c", "3"},
		{"\x00", "nul key"}, {"\x00\x00k", "two nuls"}, {"k\x00mid", "nul inside"},
		{"\xff", "ff"}, {"\xff\xff\xfe", "high bytes"}, {"bin/\x00\xff\x01", "\x00\xff\x00 binary value"},
		{"dir/1", "x1"}, {"dir/2", "x2"}, {"dir/3", "x3"}, {"dir/4", "x4"}, {"dir/5", "x5"}, {"dir/6", "x6"},
		{"empty", ""},
		{"big", strings.Repeat("formats!", 4000)},
	} {
		do("put "+printable(kv[0]), clientv3.OpPut(kv[0], kv[1]))
	}
	do("overwrite a", clientv3.OpPut("a", "1b"))
	do("overwrite binary key", clientv3.OpPut("\xff", "ff2\x00"))
	for i := range 40 {
		do(fmt.Sprintf("hot version %d", i+1), clientv3.OpPut("hot", fmt.Sprintf("v%03d", i)))
	}
	do("delete single", clientv3.OpDelete("b"))
	do("delete range", clientv3.OpDelete("dir/2", clientv3.WithRange("dir/5")))
	do("delete binary key", clientv3.OpDelete("\x00\x00k"))
	do("txn with several writes", clientv3.OpTxn(nil,
		[]clientv3.Op{clientv3.OpPut("t/1", "a"), clientv3.OpPut("t/2", "b"), clientv3.OpDelete("c"), clientv3.OpPut("a", "txn")}, nil))
	do("txn else with several writes", clientv3.OpTxn(
		[]clientv3.Cmp{clientv3.Compare(clientv3.Value("a"), "=", "never")}, nil,
		[]clientv3.Op{clientv3.OpPut("t/3", "c"), clientv3.OpDelete("dir/", clientv3.WithPrefix()), clientv3.OpPut("\x00", "nul again")}))
	do("txn writing one key twice", clientv3.OpTxn(nil,
		[]clientv3.Op{clientv3.OpPut("t/1", "a2"), clientv3.OpPut("t/4", "d")}, nil))
	do("delete hot", clientv3.OpDelete("hot"))
	for i := range 5 {
		do(fmt.Sprintf("recreated hot version %d", i+1), clientv3.OpPut("hot", fmt.Sprintf("again%d", i)))
	}
	do("recreate b", clientv3.OpPut("b", "reborn"))
	do("delete from key \\xff", clientv3.OpDelete("\xff", clientv3.WithFromKey()))
	do("put after deletes", clientv3.OpPut("z", "last"))
}

// hashKV compares Maintenance.HashKV at rev on both servers (hash,
// compact_revision, hash_revision and header revision) and returns the
// reference's answer; the reference must succeed.
func (d *differ) hashKV(rev int64) *pb.HashKVResponse {
	d.t.Helper()
	m := d.call(fmt.Sprintf("hashkv at rev %d", rev), hashKVCall(rev))
	r, ok := m.(*pb.HashKVResponse)
	if !ok || r == nil {
		d.t.Fatalf("hashkv at rev %d failed on the reference etcd", rev)
	}
	return r
}

// hashKVErr compares Maintenance.HashKV at rev on both servers where the
// reference must fail (compacted or future revision).
func (d *differ) hashKVErr(rev int64) {
	d.t.Helper()
	before := d.refErrors
	d.call(fmt.Sprintf("hashkv at rev %d (an error)", rev), hashKVCall(rev))
	if d.refErrors == before {
		d.t.Errorf("hashkv at rev %d succeeded on the reference etcd; the test expects an error", rev)
	}
}

func hashKVCall(rev int64) func(context.Context, *clientv3.Client) (proto.Message, error) {
	return func(ctx context.Context, c *clientv3.Client) (proto.Message, error) {
		r, err := c.HashKV(ctx, c.Endpoints()[0], rev)
		if err != nil {
			return nil, err
		}
		return (*pb.HashKVResponse)(r), nil
	}
}

// compactPhysical compacts both servers at rev and waits for the
// compaction to be applied to the backend.
func (d *differ) compactPhysical(rev int64) {
	d.t.Helper()
	d.call(fmt.Sprintf("physical compaction at rev %d", rev), func(ctx context.Context, c *clientv3.Client) (proto.Message, error) {
		r, err := c.Compact(ctx, rev, clientv3.WithCompactPhysical())
		if err != nil {
			return nil, err
		}
		return (*pb.CompactionResponse)(r), nil
	})
}

// TestHashKVAgreesWithEtcd applies one history to the official etcd and
// ours and compares HashKV at every revision, at 0 (current) and beyond the
// current one; then again at and above a physical compaction, below it,
// after a new write, and after our member restarts.
func TestHashKVAgreesWithEtcd(t *testing.T) {
	d, theirs, ours := startDiffMembers(t)
	applyFormatsHistory(func(name string, op clientv3.Op) { d.do(name, op) })
	if d.refErrors != 0 {
		t.Fatalf("the reference etcd rejected %d requests of the history", d.refErrors)
	}
	cur := d.rev()

	first := d.hashKV(1)
	for r := int64(2); r < cur; r++ {
		d.hashKV(r)
	}
	last := d.hashKV(cur)
	if first.Hash == last.Hash {
		t.Errorf("the reference's hash at rev 1 equals its hash at rev %d (%d); the history does not reach the hash", cur, first.Hash)
	}
	if now := d.hashKV(0); now.Hash != last.Hash || now.HashRevision != cur {
		t.Errorf("the reference's hashkv at rev 0 = (hash %d, hash_revision %d), at rev %d = hash %d", now.Hash, now.HashRevision, cur, last.Hash)
	}
	d.hashKVErr(cur + 1)

	compactAt := cur / 2
	d.compactPhysical(compactAt)
	d.hashKVErr(compactAt - 1)
	// At the compaction's own revision etcd answers the hash it recorded
	// while compacting, which carries the previous compact revision (-1:
	// none); above it the hash is computed with the new compact revision.
	if got := d.hashKV(compactAt); got.CompactRevision != -1 {
		t.Errorf("the reference's hashkv at the compaction revision %d reports compact_revision %d, want -1", compactAt, got.CompactRevision)
	}
	for r := compactAt + 1; r <= cur; r++ {
		if got := d.hashKV(r); got.CompactRevision != compactAt {
			t.Errorf("the reference's hashkv at rev %d reports compact_revision %d, want %d", r, got.CompactRevision, compactAt)
		}
	}
	d.hashKV(0)
	d.do("put after compaction", clientv3.OpPut("after", "compaction"))
	d.do("overwrite after compaction", clientv3.OpPut("hot", "after compaction"))
	d.hashKV(0)
	d.hashKV(cur)

	// A second compaction, then the same answers from both members after
	// a restart, read back from their data directories (the hashes
	// recorded while compacting are gone, so every hash is computed with
	// the compact revision read from disk).
	cur = d.rev()
	second := cur - 1
	d.compactPhysical(second)
	if got := d.hashKV(second); got.CompactRevision != compactAt {
		t.Errorf("the reference's hashkv at the second compaction revision %d reports compact_revision %d, want the first one, %d", second, got.CompactRevision, compactAt)
	}
	d.hashKV(0)
	for _, m := range []*framework.Member{theirs, ours} {
		if err := m.Restart(); err != nil {
			t.Fatalf("restarting %s: %v", m.Name, err)
		}
	}
	d.do("get all after restart", clientv3.OpGet("", clientv3.WithPrefix()))
	if got := d.hashKV(second); got.CompactRevision != second {
		t.Errorf("after a restart the reference's hashkv at the compaction revision %d reports compact_revision %d, want %d", second, got.CompactRevision, second)
	}
	d.hashKV(cur)
	d.hashKV(0)
	d.hashKVErr(second - 1)
	t.Logf("%d steps compared, %d differed", d.steps, d.diffs)
}

// snapshotStatus is `etcdutl snapshot status -w json`.
type snapshotStatus struct {
	Hash      uint32 `json:"hash"`
	Revision  int64  `json:"revision"`
	TotalKey  int    `json:"totalKey"`
	TotalSize int64  `json:"totalSize"`
	Version   string `json:"version"`
}

// saveSnapshot streams Maintenance.Snapshot from cli into path, checks the
// SHA-256 trailer the server appends, and returns the storage version the
// server announced.
func saveSnapshot(t *testing.T, cli *clientv3.Client, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := cli.SnapshotWithVersion(ctx)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	defer resp.Snapshot.Close()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, resp.Snapshot); err != nil {
		f.Close()
		t.Fatalf("receiving snapshot: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := len(data) - sha256.Size
	if n <= 0 || n%512 != 0 {
		t.Fatalf("snapshot of %d bytes: want a database (a multiple of 512 bytes) followed by a %d-byte SHA-256", len(data), sha256.Size)
	}
	if sum := sha256.Sum256(data[:n]); !bytes.Equal(sum[:], data[n:]) {
		t.Fatalf("snapshot trailer %x is not the SHA-256 of the database (%x)", data[n:], sum)
	}
	return resp.Version
}

func etcdutlStatus(t *testing.T, etcdutl, path string) snapshotStatus {
	t.Helper()
	r := framework.RunCommand(t, time.Minute, "", "", etcdutl, "snapshot", "status", path, "-w", "json")
	if r.ExitCode != 0 {
		t.Fatalf("etcdutl snapshot status %s: exit %d\n%s%s", path, r.ExitCode, r.Stdout, r.Stderr)
	}
	var st snapshotStatus
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("etcdutl snapshot status -w json: %v\n%s", err, r.Stdout)
	}
	return st
}

// snapshotSource is the official etcd and ours holding the same history,
// physically compacted, with writes after the compaction.
type snapshotSource struct {
	d             *differ
	theirs, ours  *framework.Member
	compactAt     int64 // the compaction revision
	cur           int64 // the store revision
	live          int64 // how many keys exist at cur
	snapshotFiles string
}

func startSnapshotSource(t *testing.T) *snapshotSource {
	t.Helper()
	d, theirs, ours := startDiffMembers(t)
	applyFormatsHistory(func(name string, op clientv3.Op) { d.do(name, op) })
	compactAt := d.rev() - 20
	d.compactPhysical(compactAt)
	d.do("put after compaction", clientv3.OpPut("after", "compaction"))
	d.do("overwrite after compaction", clientv3.OpPut("hot", "after compaction"))
	cur := d.rev()
	live := d.do("count live keys", clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithCountOnly())).Get().Count
	if d.refErrors != 0 || d.diffs != 0 {
		t.Fatalf("building the snapshot source: the reference etcd rejected %d requests, %d steps differed", d.refErrors, d.diffs)
	}
	return &snapshotSource{d: d, theirs: theirs, ours: ours, compactAt: compactAt, cur: cur, live: live, snapshotFiles: t.TempDir()}
}

// checkRestored compares a member started on a restored data directory with
// a member holding the source history, through d (one of its two clients is
// the restored member's, restored): the keys at every revision the
// compaction kept, the compaction, HashKV; then the restored member must
// take a new write at the next revision.
func checkRestored(t *testing.T, d *differ, restored *clientv3.Client, src *snapshotSource) {
	t.Helper()
	all := d.do("get all", clientv3.OpGet("", clientv3.WithPrefix()))
	if g := all.Get(); g == nil || g.Header.Revision != src.cur || g.Count != src.live {
		t.Fatalf("the reference answers %v; want revision %d and %d keys", g, src.cur, src.live)
	}
	for r := src.compactAt; r <= src.cur; r++ {
		d.do(fmt.Sprintf("get all at rev %d", r), clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithRev(r)))
	}
	before := d.refErrors
	d.do("get below the compaction", clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithRev(src.compactAt-1)))
	if d.refErrors == before {
		t.Errorf("the reference serves revision %d, below the compaction at %d", src.compactAt-1, src.compactAt)
	}
	if h := d.hashKV(0); h.CompactRevision != src.compactAt || h.HashRevision != src.cur {
		t.Errorf("the reference's hashkv: compact_revision %d, hash_revision %d; want %d, %d", h.CompactRevision, h.HashRevision, src.compactAt, src.cur)
	}
	// Not at compactAt itself: the member that compacted answers there the
	// hash it recorded while compacting, which a restored one does not
	// have.
	d.hashKV(src.compactAt + 1)
	d.hashKV(src.cur)

	ctx, cancel := opCtx()
	defer cancel()
	put, err := restored.Put(ctx, "new", "write")
	if err != nil {
		t.Fatalf("write on the restored member: %v", err)
	}
	if put.Header.Revision != src.cur+1 {
		t.Errorf("the restored member's next write is at revision %d, want %d", put.Header.Revision, src.cur+1)
	}
	get, err := restored.Get(ctx, "new")
	if err != nil {
		t.Fatalf("read on the restored member: %v", err)
	}
	if len(get.Kvs) != 1 || string(get.Kvs[0].Value) != "write" || get.Kvs[0].CreateRevision != src.cur+1 || get.Kvs[0].ModRevision != src.cur+1 || get.Kvs[0].Version != 1 {
		t.Errorf("the restored member's new key: %v; want value \"write\", version 1, created and modified at %d", get.Kvs, src.cur+1)
	}
	t.Logf("%d steps compared, %d differed", d.steps, d.diffs)
}

// restoreTarget is where a restore puts a lone member: name, data
// directory and peer port (the cluster's only peer URL).
type restoreTarget struct {
	name     string
	dataDir  string
	peerPort int
}

func newRestoreTarget(t *testing.T, name string) restoreTarget {
	return restoreTarget{name: name, dataDir: filepath.Join(t.TempDir(), name+".etcd"), peerPort: framework.FreePort(t)}
}

func (r restoreTarget) peerURL() string { return fmt.Sprintf("http://127.0.0.1:%d", r.peerPort) }

// etcdutlRestore restores file into r with the official etcdutl.
func etcdutlRestore(t *testing.T, file string, r restoreTarget) {
	t.Helper()
	res := framework.RunCommand(t, time.Minute, "", "", framework.Reference(t).Etcdutl, "snapshot", "restore", file,
		"--data-dir", r.dataDir, "--name", r.name,
		"--initial-cluster", r.name+"="+r.peerURL(), "--initial-advertise-peer-urls", r.peerURL())
	if res.ExitCode != 0 {
		t.Fatalf("etcdutl snapshot restore: exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
}

// startRestored starts bin (empty: ours) on a restored data directory.
func startRestored(t *testing.T, bin string, r restoreTarget) *framework.Member {
	t.Helper()
	return framework.StartMember(t, framework.MemberConfig{Bin: bin, Name: r.name, DataDir: r.dataDir, PeerPort: r.peerPort})
}

// TestSnapshotFromOursRestoredByEtcd takes a snapshot of our member after a
// history and a physical compaction, checks it with the official etcdutl
// (status, then restore into a new data directory), starts the official
// etcd on the restored directory and compares it with our member.
func TestSnapshotFromOursRestoredByEtcd(t *testing.T) {
	ref := framework.Reference(t)
	src := startSnapshotSource(t)
	oursFile, theirsFile := filepath.Join(src.snapshotFiles, "ours.db"), filepath.Join(src.snapshotFiles, "theirs.db")
	verOurs := saveSnapshot(t, src.ours.Client(t), oursFile)
	verRef := saveSnapshot(t, src.theirs.Client(t), theirsFile)
	if verOurs != verRef {
		t.Errorf("snapshot stream storage version: ours %q, reference %q", verOurs, verRef)
	}

	st, stRef := etcdutlStatus(t, ref.Etcdutl, oursFile), etcdutlStatus(t, ref.Etcdutl, theirsFile)
	t.Logf("etcdutl snapshot status: ours %+v, reference %+v", st, stRef)
	if stRef.Revision != src.cur || int64(stRef.TotalKey) != src.live {
		t.Fatalf("etcdutl snapshot status of the reference's snapshot: revision %d, totalKey %d; want %d, %d (the test is wrong)", stRef.Revision, stRef.TotalKey, src.cur, src.live)
	}
	if st.Revision != src.cur {
		t.Errorf("etcdutl snapshot status: revision %d, want %d", st.Revision, src.cur)
	}
	if int64(st.TotalKey) != src.live {
		t.Errorf("etcdutl snapshot status: totalKey %d, want %d live keys", st.TotalKey, src.live)
	}
	if st.Version != stRef.Version {
		t.Errorf("etcdutl snapshot status: storage version %q, reference %q", st.Version, stRef.Version)
	}

	target := newRestoreTarget(t, "restored")
	etcdutlRestore(t, oursFile, target)
	restored := startRestored(t, ref.Etcd, target)
	// The restored official etcd is the reference.
	checkRestored(t, newDiffer(t, restored.Client(t), src.ours.Client(t)), restored.Client(t), src)
}

// TestSnapshotFromEtcdServedByOurs takes a snapshot of the official etcd
// after the same history, restores it with the official etcdutl, starts our
// member on the restored directory and compares it with the official etcd.
func TestSnapshotFromEtcdServedByOurs(t *testing.T) {
	src := startSnapshotSource(t)
	file := filepath.Join(src.snapshotFiles, "theirs.db")
	saveSnapshot(t, src.theirs.Client(t), file)
	target := newRestoreTarget(t, "restored")
	etcdutlRestore(t, file, target)
	restored := startRestored(t, "", target)
	checkRestored(t, newDiffer(t, src.theirs.Client(t), restored.Client(t)), restored.Client(t), src)
}
