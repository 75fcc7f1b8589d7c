package e2e

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/etcdgo/etcd/tests/framework"
)

// oursRestore restores file into r with this repository's etcdutl.
func oursRestore(t *testing.T, file string, r restoreTarget) {
	t.Helper()
	res := framework.RunCommand(t, time.Minute, "", "", framework.EtcdutlBinary(t), "snapshot", "restore", file,
		"--data-dir", r.dataDir, "--name", r.name,
		"--initial-cluster", r.name+"="+r.peerURL(), "--initial-advertise-peer-urls", r.peerURL())
	if res.ExitCode != 0 {
		t.Fatalf("our etcdutl snapshot restore: exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
}

// TestEtcdutlRestoresEtcdSnapshot: a snapshot of the official etcd,
// restored by our etcdutl, is served by our etcd with every key, value,
// version, create and mod revision, the store revision, the compaction and
// HashKV equal to the official member's.
func TestEtcdutlRestoresEtcdSnapshot(t *testing.T) {
	src := startSnapshotSource(t)
	file := filepath.Join(src.snapshotFiles, "theirs.db")
	saveSnapshot(t, src.theirs.Client(t), file)
	target := newRestoreTarget(t, "restored")
	oursRestore(t, file, target)
	restored := startRestored(t, "", target)
	checkRestored(t, newDiffer(t, src.theirs.Client(t), restored.Client(t)), restored.Client(t), src)
}

// TestEtcdutlRestoreServedByEtcd: a snapshot of our member, restored by our
// etcdutl, is served by the official etcd with the same data as our member.
func TestEtcdutlRestoreServedByEtcd(t *testing.T) {
	ref := framework.Reference(t)
	src := startSnapshotSource(t)
	file := filepath.Join(src.snapshotFiles, "ours.db")
	saveSnapshot(t, src.ours.Client(t), file)
	target := newRestoreTarget(t, "restored")
	oursRestore(t, file, target)
	restored := startRestored(t, ref.Etcd, target)
	// The restored official etcd is the reference.
	checkRestored(t, newDiffer(t, restored.Client(t), src.ours.Client(t)), restored.Client(t), src)
}

// TestEtcdutlStatusAgreesWithEtcdutl: `snapshot status -w json` of our
// etcdutl and of the official etcdutl agree on every field (hash, revision,
// totalKey, totalSize, version) for a snapshot of the official etcd and one
// of ours, and on the restored databases, so one reader decodes both
// files.
func TestEtcdutlStatusAgreesWithEtcdutl(t *testing.T) {
	ref := framework.Reference(t)
	ours := framework.EtcdutlBinary(t)
	src := startSnapshotSource(t)
	files := map[string]string{
		"official etcd's snapshot": filepath.Join(src.snapshotFiles, "theirs.db"),
		"our etcd's snapshot":      filepath.Join(src.snapshotFiles, "ours.db"),
	}
	saveSnapshot(t, src.theirs.Client(t), files["official etcd's snapshot"])
	saveSnapshot(t, src.ours.Client(t), files["our etcd's snapshot"])
	// The data dirs our etcdutl restores, read back as member/snap/db.
	for _, name := range []string{"official etcd's snapshot", "our etcd's snapshot"} {
		target := newRestoreTarget(t, "restored")
		oursRestore(t, files[name], target)
		files["restored "+name] = filepath.Join(target.dataDir, "member", "snap", "db")
	}
	for name, file := range files {
		got, want := etcdutlStatus(t, ours, file), etcdutlStatus(t, ref.Etcdutl, file)
		t.Logf("%s: ours %+v, official %+v", name, got, want)
		if got != want {
			t.Errorf("%s: our etcdutl reports %+v, the official %+v", name, got, want)
		}
		if want.Revision != src.cur || int64(want.TotalKey) != src.live {
			t.Errorf("%s: revision %d and %d keys; want %d and %d", name, want.Revision, want.TotalKey, src.cur, src.live)
		}
	}
}
