package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdgo/etcd/internal/server/servertest"
)

// TestRestartFinishesInterruptedSnapshotInstall: a member crashed after
// raft's copy of a leader snapshot reached the WAL but before the db that
// came with it replaced the backend. At restart the backend is older than
// the snapshot; the member installs <index>.snap.db and serves its data.
func TestRestartFinishesInterruptedSnapshotInstall(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	snapDir := filepath.Join(dataDir, "member", "snap")
	cfg := servertest.Config(t, "m0", dataDir, "http://127.0.0.1:0")
	cfg.SnapshotCount = 5
	cfg.SnapshotCatchUpEntries = 1
	s := servertest.Start(t, cfg)
	ctx := context.Background()
	put := func(k string) {
		if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte(k), Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	put("early")
	// The backend as it was early on: what the crashed member still has.
	old, err := os.Create(filepath.Join(dir, "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	sn := s.Backend().Snapshot()
	if _, err := sn.WriteTo(old); err != nil {
		t.Fatal(err)
	}
	sn.Close()
	old.Close()
	for i := range 20 {
		put(fmt.Sprintf("k%02d", i))
	}
	s.Stop()

	// The newest raft snapshot names the index the db must cover.
	var snaps []string
	ents, err := os.ReadDir(snapDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".snap") {
			snaps = append(snaps, e.Name())
		}
	}
	if len(snaps) == 0 {
		t.Fatal("no raft snapshot was taken")
	}
	sort.Strings(snaps)
	var term, index uint64
	if _, err := fmt.Sscanf(snaps[len(snaps)-1], "%016x-%016x.snap", &term, &index); err != nil {
		t.Fatal(err)
	}
	// The complete db waits at its .snap.db path; the backend is the old one.
	if err := os.Rename(filepath.Join(snapDir, "db"), filepath.Join(snapDir, fmt.Sprintf("%016x.snap.db", index))); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "old.db"), filepath.Join(snapDir, "db")); err != nil {
		t.Fatal(err)
	}

	s2 := servertest.Start(t, cfg)
	resp, err := s2.Range(ctx, &pb.RangeRequest{Key: []byte("k"), RangeEnd: []byte("l"), Serializable: true, CountOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Count != 20 {
		t.Fatalf("after the restart the member has %d of the 20 keys", resp.Count)
	}
	if _, err := os.Stat(filepath.Join(snapDir, fmt.Sprintf("%016x.snap.db", index))); !os.IsNotExist(err) {
		t.Errorf("the .snap.db file is still there after its install: %v", err)
	}
}
