package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/tests/framework"
)

// hashKV is `etcdutl hashkv -w json`'s output.
type hashKV struct {
	Hash            uint32 `json:"hash"`
	HashRevision    int64  `json:"hashRevision"`
	CompactRevision int64  `json:"compactRevision"`
}

// etcdutlHashKV runs `etcdutl hashkv` on a private copy of file (hashing
// opens the file for writing, so neither binary sees the other's writes).
func etcdutlHashKV(t *testing.T, etcdutl, file string, args ...string) hashKV {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "db")
	if err := os.WriteFile(cp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := framework.RunCommand(t, time.Minute, "", "", etcdutl, append([]string{"hashkv", cp, "-w", "json"}, args...)...)
	if r.ExitCode != 0 {
		t.Fatalf("%s hashkv %v: exit %d\n%s%s", etcdutl, args, r.ExitCode, r.Stdout, r.Stderr)
	}
	var h hashKV
	if err := json.Unmarshal([]byte(r.Stdout), &h); err != nil {
		t.Fatalf("hashkv -w json: %v\n%s", err, r.Stdout)
	}
	return h
}

// writeFragmentingHistory writes large values over and over, deletes some
// keys and compacts, so that the db file holds much free space; it returns
// the compaction revision and the final revision.
func writeFragmentingHistory(t *testing.T, cli *clientv3.Client) (compactAt, cur int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	big := strings.Repeat("v", 32<<10)
	for round := range 4 {
		for i := range 50 {
			if _, err := cli.Put(ctx, fmt.Sprintf("key-%02d", i), fmt.Sprintf("%d-%s", round, big)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := cli.Delete(ctx, "key-4", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Put(ctx, "small", "value")
	if err != nil {
		t.Fatal(err)
	}
	compactAt = resp.Header.Revision
	if _, err := cli.Compact(ctx, compactAt, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	resp, err = cli.Put(ctx, "after-compaction", "value")
	if err != nil {
		t.Fatal(err)
	}
	return compactAt, resp.Header.Revision
}

// TestEtcdutlHashKVAgreesWithEtcdutl: our etcdutl hashkv and the official
// one print the same hash, hash revision and compact revision for the db of
// our member and for that of the official etcd, at the latest revision and
// at the compaction.
func TestEtcdutlHashKVAgreesWithEtcdutl(t *testing.T) {
	ref := framework.Reference(t)
	ours := framework.EtcdutlBinary(t)
	for _, bin := range []struct{ name, etcd string }{{"our etcd", ""}, {"official etcd", ref.Etcd}} {
		t.Run(bin.name, func(t *testing.T) {
			m := framework.StartMember(t, framework.MemberConfig{Bin: bin.etcd})
			compactAt, cur := writeFragmentingHistory(t, m.Client(t))
			if err := m.Stop(); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(m.DataDir, "member", "snap", "db")
			for _, args := range [][]string{nil, {"--rev", fmt.Sprint(compactAt)}, {"--rev", fmt.Sprint(cur)}} {
				got, want := etcdutlHashKV(t, ours, db, args...), etcdutlHashKV(t, ref.Etcdutl, db, args...)
				if got != want {
					t.Errorf("hashkv %v: ours %+v, official %+v", args, got, want)
				}
				if want.CompactRevision != compactAt {
					t.Errorf("hashkv %v: compact revision %d, want %d", args, want.CompactRevision, compactAt)
				}
			}
		})
	}
}

// TestEtcdutlDefragShrinksDBForEtcd: our etcdutl defrag shrinks the db of a
// member's data dir; the keyspace hash (by the official etcdutl) is
// unchanged, and the official etcd starts on the data dir and serves every
// key with the same HashKV as before.
func TestEtcdutlDefragShrinksDBForEtcd(t *testing.T) {
	ref := framework.Reference(t)
	ours := framework.EtcdutlBinary(t)
	m := framework.StartMember(t, framework.MemberConfig{})
	writeFragmentingHistory(t, m.Client(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	before, err := m.Client(t).Get(ctx, "", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	hBefore, err := m.Client(t).HashKV(ctx, m.ClientURL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(m.DataDir, "member", "snap", "db")
	fi, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	hashBefore := etcdutlHashKV(t, ref.Etcdutl, db)

	r := framework.RunCommand(t, time.Minute, "", "", ours, "defrag", "--data-dir", m.DataDir)
	if r.ExitCode != 0 || r.Stdout != "" {
		t.Fatalf("our etcdutl defrag: exit %d\n%s%s", r.ExitCode, r.Stdout, r.Stderr)
	}
	fi2, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("db: %d bytes before defrag, %d after", fi.Size(), fi2.Size())
	if fi2.Size() >= fi.Size() {
		t.Errorf("defrag did not shrink the db: %d bytes, was %d", fi2.Size(), fi.Size())
	}
	if h := etcdutlHashKV(t, ref.Etcdutl, db); h != hashBefore {
		t.Errorf("official hashkv after our defrag %+v, before %+v", h, hashBefore)
	}

	theirs := framework.StartMember(t, framework.MemberConfig{Bin: ref.Etcd, Name: m.Name, DataDir: m.DataDir})
	after, err := theirs.Client(t).Get(ctx, "", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Kvs) != len(before.Kvs) || after.Header.Revision != before.Header.Revision {
		t.Fatalf("official etcd after defrag: %d keys at revision %d; before: %d at %d",
			len(after.Kvs), after.Header.Revision, len(before.Kvs), before.Header.Revision)
	}
	for i, kv := range after.Kvs {
		b := before.Kvs[i]
		if string(kv.Key) != string(b.Key) || string(kv.Value) != string(b.Value) || kv.ModRevision != b.ModRevision || kv.Version != b.Version {
			t.Errorf("key %q after defrag differs from before", kv.Key)
		}
	}
	hAfter, err := theirs.Client(t).HashKV(ctx, theirs.ClientURL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if hAfter.Hash != hBefore.Hash || hAfter.CompactRevision != hBefore.CompactRevision {
		t.Errorf("HashKV served by the official etcd after defrag: %d (compact %d); ours before: %d (compact %d)",
			hAfter.Hash, hAfter.CompactRevision, hBefore.Hash, hBefore.CompactRevision)
	}
}
