package e2e

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/etcdgo/etcd/tests/framework"
)

// TestDataDirSwap is the strongest check of the formats on disk: the official
// etcd v3.7.3 and ours build the same history (with a physical compaction),
// stop, and each then starts on the OTHER's data directory -- WAL, snap
// files and bbolt db as the other wrote them. Both must come back at the same
// revision with every key at every revision the compaction kept, the same
// compaction, the same HashKV, and take the next write at the next revision.
func TestDataDirSwap(t *testing.T) {
	ref := framework.Reference(t)
	src := startSnapshotSource(t)
	for _, m := range []*framework.Member{src.theirs, src.ours} {
		if err := m.Stop(); err != nil {
			t.Fatalf("stopping %s: %v", m.Name, err)
		}
	}
	// Each binary restarts on the other's directory with the other's name
	// and peer URL, as an operator replacing the binary would.
	theirsOnOurs := framework.StartMember(t, framework.MemberConfig{
		Bin: ref.Etcd, Name: src.ours.Name, DataDir: src.ours.DataDir, PeerPort: peerPort(t, src.ours),
	})
	oursOnTheirs := framework.StartMember(t, framework.MemberConfig{
		Name: src.theirs.Name, DataDir: src.theirs.DataDir, PeerPort: peerPort(t, src.theirs),
	})
	// The official etcd on our data dir is the reference for ours on its.
	d := newDiffer(t, theirsOnOurs.Client(t), oursOnTheirs.Client(t))
	checkRestored(t, d, oursOnTheirs.Client(t), src)
	if d.diffs != 0 {
		t.Errorf("%d of %d steps differed between official etcd on our data dir and ours on its", d.diffs, d.steps)
	}
}

func peerPort(t *testing.T, m *framework.Member) int {
	t.Helper()
	u, err := url.Parse(m.PeerURL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}
