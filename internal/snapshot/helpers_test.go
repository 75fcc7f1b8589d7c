package snapshot

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/mvcc"
	"github.com/etcdgo/etcd/internal/schema"
	"github.com/etcdgo/etcd/internal/server"
	"github.com/etcdgo/etcd/internal/server/servertest"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// source is a database built with our backend and MVCC store, as a member
// of an old cluster would have left it.
type source struct {
	dbPath string
	kvs    []*mvccpb.KeyValue // live keys at rev, in key order
	rev    int64
}

// buildSource writes puts, overwrites and deletes, an old membership and a
// consistent index far beyond what a restore writes.
func buildSource(t *testing.T) *source {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "db")
	be, err := backend.New(backend.Config{Path: dbPath, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	st := mvcc.NewStore(quietLogger(), be, mvcc.StoreConfig{})
	for i := range 50 {
		st.Put([]byte(fmt.Sprintf("k%02d", i)), []byte(fmt.Sprintf("v%d", i)), 0)
	}
	for i := range 10 {
		st.Put([]byte(fmt.Sprintf("k%02d", i)), []byte(fmt.Sprintf("w%d", i)), 0)
	}
	st.DeleteRange([]byte("k40"), []byte("k45"))
	st.DeleteRange([]byte("k49"), nil)
	st.Put([]byte("k40"), []byte("again"), 0)
	st.Put([]byte("other"), []byte("x"), 0)

	tx := be.BatchTx()
	tx.Lock()
	schema.UnsafeSaveMember(tx, &schema.Member{ID: 0xabc, Name: "old", PeerURLs: []string{"http://10.0.0.1:2380"}})
	schema.UnsafeDeleteMember(tx, 0xdef)
	schema.UnsafeUpdateConsistentIndex(tx, 1000, 7)
	schema.UnsafeSetStorageVersion(tx, "3.6.0")
	tx.Unlock()

	res, err := st.Range(context.Background(), []byte{0}, []byte{0}, mvcc.RangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := &source{dbPath: dbPath, kvs: res.KVs, rev: st.Rev()}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	return src
}

// writeSnapshotFile writes the database at dbPath as Maintenance.Snapshot
// streams it: a consistent copy of the bbolt file followed by its SHA-256.
func writeSnapshotFile(t *testing.T, dbPath string) string {
	t.Helper()
	be, err := backend.New(backend.Config{Path: dbPath, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	sn := be.Snapshot()
	defer sn.Close()
	p := filepath.Join(t.TempDir(), "snapshot.db")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := sn.WriteTo(io.MultiWriter(f, h)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(h.Sum(nil)); err != nil {
		t.Fatal(err)
	}
	return p
}

// memberSpec is one restored member's flags.
type memberSpec struct {
	name, peerURL, cluster, token string
}

func (m memberSpec) restoreConfig(snapPath, dataDir string) RestoreConfig {
	return RestoreConfig{
		SnapshotPath:        snapPath,
		Name:                m.name,
		OutputDataDir:       dataDir,
		PeerURLs:            []string{m.peerURL},
		InitialCluster:      m.cluster,
		InitialClusterToken: m.token,
		Logger:              quietLogger(),
	}
}

// startServer starts our member on dataDir in-process and waits until it
// has published itself.
func startServer(t *testing.T, m memberSpec, dataDir string) *server.Server {
	t.Helper()
	cfg := servertest.Config(t, m.name, dataDir, m.peerURL)
	cfg.InitialClusterToken = "ignored-on-restart"
	return servertest.Start(t, cfg)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// rangeAll reads every key at rev (0: current), linearizably.
func rangeAll(t *testing.T, s *server.Server, rev int64) *pb.RangeResponse {
	t.Helper()
	resp, err := s.Range(ctx(t), &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: rev})
	if err != nil {
		t.Fatalf("range all at %d: %v", rev, err)
	}
	return resp
}

func wantKVs(t *testing.T, what string, got, want []*mvccpb.KeyValue) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d keys, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("%s: key %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}
