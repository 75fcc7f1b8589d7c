package e2e

import (
	"fmt"
	"net/url"
	"strconv"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

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
	d := newDiffer(t, theirsOnOurs.Client(t), oursOnTheirs.Client(t))
	checkSwapped(t, d, src)
}

// checkSwapped compares the two swapped members with each other and with
// the history's revision, compaction and key count.
func checkSwapped(t *testing.T, d *differ, src *snapshotSource) {
	t.Helper()
	all := d.do("get all", clientv3.OpGet("", clientv3.WithPrefix()))
	if g := all.Get(); g == nil || g.Header.Revision != src.cur || g.Count != src.live {
		t.Fatalf("official etcd on our data dir answers %v; want revision %d and %d keys", g, src.cur, src.live)
	}
	for r := src.compactAt; r <= src.cur; r++ {
		d.do(fmt.Sprintf("get all at rev %d", r), clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithRev(r)))
	}
	before := d.refErrors
	d.do("get below the compaction", clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithRev(src.compactAt-1)))
	if d.refErrors == before {
		t.Errorf("official etcd on our data dir serves revision %d, below the compaction at %d", src.compactAt-1, src.compactAt)
	}
	if h := d.hashKV(0); h.CompactRevision != src.compactAt || h.HashRevision != src.cur {
		t.Errorf("official etcd on our data dir: hashkv compact_revision %d, hash_revision %d; want %d, %d", h.CompactRevision, h.HashRevision, src.compactAt, src.cur)
	}
	d.hashKV(src.cur)
	d.do("next write", clientv3.OpPut("swapped", "write"))
	d.do("read it back", clientv3.OpGet("swapped"))
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
