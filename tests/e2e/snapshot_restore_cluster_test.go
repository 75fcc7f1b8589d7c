package e2e

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/tests/framework"
)

// kvString is what a restored key must keep of the original: key, value,
// revisions, version and lease.
func kvString(kv *mvccpb.KeyValue) string {
	return fmt.Sprintf("%q=%q create=%d mod=%d version=%d lease=%x",
		kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease)
}

func kvStrings(kvs []*mvccpb.KeyValue) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kvString(kv)
	}
	return out
}

// TestSnapshotRestoreNewCluster is the operator's disaster recovery: our
// etcdctl saves a snapshot of a running three-member cluster of ours that
// holds keys, a lease with keys attached and a compacted history; our
// etcdutl restores it into three new data directories for a new
// three-member cluster (new names, peer URLs and cluster token); that
// cluster starts and every member serves every key of the snapshot with
// its revisions, version and lease, the lease itself, the compaction, and
// the same HashKV as the others and as the source; then it takes writes.
func TestSnapshotRestoreNewCluster(t *testing.T) {
	src := framework.StartCluster(t, "", 3)
	cli := framework.NewClient(t, framework.ClusterEndpoints(src)...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	for i := range 60 {
		if _, err := cli.Put(ctx, fmt.Sprintf("key/%03d", i), fmt.Sprintf("v%d", i)); err != nil {
			t.Fatalf("put: %v", err)
		}
	}
	for i := 0; i < 60; i += 3 {
		if _, err := cli.Put(ctx, fmt.Sprintf("key/%03d", i), fmt.Sprintf("v%d-again", i)); err != nil {
			t.Fatalf("overwrite: %v", err)
		}
	}
	if _, err := cli.Delete(ctx, "key/05", clientv3.WithPrefix()); err != nil {
		t.Fatalf("delete: %v", err)
	}
	lease, err := cli.Grant(ctx, 3600)
	if err != nil {
		t.Fatalf("lease grant: %v", err)
	}
	for i := range 5 {
		if _, err := cli.Put(ctx, fmt.Sprintf("leased/%d", i), "with lease", clientv3.WithLease(lease.ID)); err != nil {
			t.Fatalf("put with lease: %v", err)
		}
	}
	mid, err := cli.Put(ctx, "key/000", "before compaction")
	if err != nil {
		t.Fatal(err)
	}
	compactAt := mid.Header.Revision
	if _, err := cli.Compact(ctx, compactAt, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("compact: %v", err)
	}
	for i := range 10 {
		if _, err := cli.Put(ctx, fmt.Sprintf("after/%d", i), "compaction"); err != nil {
			t.Fatalf("put after compaction: %v", err)
		}
	}
	if _, err := cli.Put(ctx, "key/001", "after compaction"); err != nil {
		t.Fatal(err)
	}
	want, err := cli.Get(ctx, "", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	cur := want.Header.Revision
	srcHash, err := cli.HashKV(ctx, src[0].ClientURL, cur)
	if err != nil {
		t.Fatal(err)
	}
	srcAtCompact, err := cli.Get(ctx, "", clientv3.WithPrefix(), clientv3.WithRev(compactAt+1))
	if err != nil {
		t.Fatal(err)
	}

	// Our etcdctl saves the snapshot from one member.
	file := filepath.Join(t.TempDir(), "backup.db")
	ctl := framework.NewEtcdctl(t, src[1].ClientURL)
	ctl.Bin = framework.EtcdctlBinary(t)
	if out := ctl.MustRun("snapshot", "save", file); !strings.HasPrefix(out, "Snapshot saved at "+file) {
		t.Errorf("etcdctl snapshot save printed %q", out)
	}
	// The source cluster is gone: the new one must live on the file alone.
	for _, m := range src {
		if err := m.Stop(); err != nil {
			t.Fatalf("stop %s: %v", m.Name, err)
		}
	}

	// Our etcdutl restores it for a new cluster of three.
	const token = "restored-cluster"
	var parts []string
	clientPorts, peerPorts, dirs := make([]int, 3), make([]int, 3), make([]string, 3)
	for i := range 3 {
		clientPorts[i], peerPorts[i] = framework.FreePort(t), framework.FreePort(t)
		dirs[i] = filepath.Join(t.TempDir(), fmt.Sprintf("r%d.etcd", i))
		parts = append(parts, fmt.Sprintf("r%d=http://127.0.0.1:%d", i, peerPorts[i]))
	}
	initial := strings.Join(parts, ",")
	for i := range 3 {
		res := framework.RunCommand(t, time.Minute, "", "", framework.EtcdutlBinary(t), "snapshot", "restore", file,
			"--name", fmt.Sprintf("r%d", i),
			"--initial-cluster", initial,
			"--initial-cluster-token", token,
			"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peerPorts[i]),
			"--data-dir", dirs[i])
		if res.ExitCode != 0 {
			t.Fatalf("etcdutl snapshot restore r%d: exit %d\n%s%s", i, res.ExitCode, res.Stdout, res.Stderr)
		}
	}

	restored := make([]*framework.Member, 3)
	for i := range restored {
		restored[i] = framework.NewMember(t, framework.MemberConfig{
			Name:                fmt.Sprintf("r%d", i),
			DataDir:             dirs[i],
			ClientPort:          clientPorts[i],
			PeerPort:            peerPorts[i],
			InitialCluster:      initial,
			InitialClusterToken: token,
		})
		if err := restored[i].StartNoWait(); err != nil {
			t.Fatalf("start r%d: %v", i, err)
		}
	}
	errs := make([]error, len(restored))
	var wg sync.WaitGroup
	for i, m := range restored {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.WaitReady(framework.DefaultReadyTimeout)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("restored member r%d: %v\n%s", i, err, restored[i].Tail(40))
		}
	}

	rcli := framework.NewClient(t, framework.ClusterEndpoints(restored)...)
	members, err := rcli.MemberList(ctx)
	if err != nil {
		t.Fatalf("member list: %v", err)
	}
	if len(members.Members) != 3 {
		t.Errorf("the restored cluster has %d members, want 3: %v", len(members.Members), members.Members)
	}
	for _, mm := range members.Members {
		if !strings.HasPrefix(mm.Name, "r") || len(mm.PeerURLs) != 1 || !strings.Contains(initial, mm.Name+"="+mm.PeerURLs[0]) {
			t.Errorf("restored cluster member %s %v is not one of %s", mm.Name, mm.PeerURLs, initial)
		}
	}

	wantKVs := kvStrings(want.Kvs)
	t.Logf("snapshot at revision %d, compacted at %d, %d keys", cur, compactAt, len(wantKVs))
	var hash uint32
	for i, m := range restored {
		mc := m.Client(t)
		for _, serializable := range []bool{false, true} {
			opts := []clientv3.OpOption{clientv3.WithPrefix()}
			if serializable {
				opts = append(opts, clientv3.WithSerializable())
			}
			got, err := mc.Get(ctx, "", opts...)
			if err != nil {
				t.Fatalf("%s: get all: %v", m.Name, err)
			}
			if got.Header.Revision != cur {
				t.Errorf("%s: revision %d, the snapshot's is %d", m.Name, got.Header.Revision, cur)
			}
			if g := kvStrings(got.Kvs); strings.Join(g, "\n") != strings.Join(wantKVs, "\n") {
				t.Errorf("%s (serializable %v): %d keys differ from the snapshot's %d:\ngot:\n%s\nwant:\n%s",
					m.Name, serializable, len(g), len(wantKVs), strings.Join(g, "\n"), strings.Join(wantKVs, "\n"))
			}
		}
		at, err := mc.Get(ctx, "", clientv3.WithPrefix(), clientv3.WithRev(compactAt+1))
		if err != nil {
			t.Fatalf("%s: get at %d: %v", m.Name, compactAt+1, err)
		}
		if g, w := kvStrings(at.Kvs), kvStrings(srcAtCompact.Kvs); strings.Join(g, "\n") != strings.Join(w, "\n") {
			t.Errorf("%s: keys at revision %d differ from the source's", m.Name, compactAt+1)
		}
		if _, err := mc.Get(ctx, "key/000", clientv3.WithRev(compactAt-1)); !errors.Is(err, rpctypes.ErrCompacted) {
			t.Errorf("%s: get below the compaction at %d: %v, want %v", m.Name, compactAt, err, rpctypes.ErrCompacted)
		}
		h, err := mc.HashKV(ctx, m.ClientURL, 0)
		if err != nil {
			t.Fatalf("%s: hashkv: %v", m.Name, err)
		}
		if h.HashRevision != cur || h.CompactRevision != compactAt || h.Hash != srcHash.Hash {
			t.Errorf("%s: hashkv %d at %d (compacted at %d); the source had %d at %d (compacted at %d)",
				m.Name, h.Hash, h.HashRevision, h.CompactRevision, srcHash.Hash, srcHash.HashRevision, srcHash.CompactRevision)
		}
		if i == 0 {
			hash = h.Hash
		} else if h.Hash != hash {
			t.Errorf("%s: hashkv %d, r0 has %d", m.Name, h.Hash, hash)
		}
	}

	ttl, err := rcli.TimeToLive(ctx, lease.ID, clientv3.WithAttachedKeys())
	if err != nil {
		t.Fatalf("lease time-to-live: %v", err)
	}
	if ttl.TTL <= 0 || ttl.GrantedTTL != 3600 || len(ttl.Keys) != 5 {
		t.Errorf("restored lease %x: ttl %d granted %d keys %q; want a live lease of 3600 s with 5 keys", lease.ID, ttl.TTL, ttl.GrantedTTL, ttl.Keys)
	}

	// Writes work, at the next revision, and reach every member.
	put, err := rcli.Put(ctx, "after/restore", "written")
	if err != nil {
		t.Fatalf("put on the restored cluster: %v", err)
	}
	if put.Header.Revision != cur+1 {
		t.Errorf("first write on the restored cluster at revision %d, want %d", put.Header.Revision, cur+1)
	}
	if _, err := rcli.Revoke(ctx, lease.ID); err != nil {
		t.Fatalf("revoke the restored lease: %v", err)
	}
	for _, m := range restored {
		mc := m.Client(t)
		got, err := mc.Get(ctx, "after/restore")
		if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "written" {
			t.Errorf("%s: get the new key: %v %v", m.Name, got, err)
		}
		leased, err := mc.Get(ctx, "leased/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil || leased.Count != 0 {
			t.Errorf("%s: keys of the revoked lease: %v %v", m.Name, leased, err)
		}
		h, err := mc.HashKV(ctx, m.ClientURL, 0)
		if err != nil {
			t.Fatalf("%s: hashkv: %v", m.Name, err)
		}
		if h.HashRevision != cur+2 {
			t.Errorf("%s: hashkv at %d, want %d", m.Name, h.HashRevision, cur+2)
		}
		if m == restored[0] {
			hash = h.Hash
		} else if h.Hash != hash {
			t.Errorf("%s: hashkv %d after the writes, r0 has %d", m.Name, h.Hash, hash)
		}
	}
}
