package snapshot

import (
	"context"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/mvcc"
	"github.com/etcdgo/etcd/internal/schema"
)

// expectedStatus computes the status through our backend's read view:
// buckets in name order, each name then its keys and values.
func expectedStatus(t *testing.T, dbPath string) Status {
	t.Helper()
	fi, err := os.Stat(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	be, err := backend.New(backend.Config{Path: dbPath, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	rt := be.ReadTx()
	defer rt.Release()
	buckets := slices.Clone(schema.AllBuckets)
	slices.SortFunc(buckets, func(a, b backend.Bucket) int { return strings.Compare(string(a.Name), string(b.Name)) })
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	st := Status{TotalSize: fi.Size(), Version: schema.UnsafeReadStorageVersion(rt)}
	for _, b := range buckets {
		h.Write(b.Name)
		rt.UnsafeForEach(b, func(k, v []byte) error {
			h.Write(k)
			h.Write(v)
			if string(b.Name) == string(schema.Key.Name) {
				st.Revision = schema.BytesToRev(k).Main
			}
			return nil
		})
	}
	// Live keys, counted through the MVCC store rather than the bucket.
	s := mvcc.NewStore(quietLogger(), be, mvcc.StoreConfig{})
	defer s.Close()
	r, err := s.Range(context.Background(), []byte{0}, []byte{0}, mvcc.RangeOptions{Count: true})
	if err != nil {
		t.Fatal(err)
	}
	st.TotalKey = r.Count
	st.Hash = h.Sum32()
	return st
}

func TestFileStatus(t *testing.T) {
	src := buildSource(t)
	// A closed backend's file holds exactly what a snapshot of it holds.
	want := expectedStatus(t, src.dbPath)
	if want.Revision != src.rev || want.Version != "3.6.0" {
		t.Fatalf("test setup: revision %d version %q", want.Revision, want.Version)
	}
	snapPath := writeSnapshotFile(t, src.dbPath)

	// The raw db part of the snapshot file.
	raw, err := os.ReadFile(snapPath)
	if err != nil {
		t.Fatal(err)
	}
	dbOnly := filepath.Join(t.TempDir(), "db")
	if err := os.WriteFile(dbOnly, raw[:len(raw)-32], 0o600); err != nil {
		t.Fatal(err)
	}
	want.TotalSize = int64(len(raw) - 32)

	for name, p := range map[string]string{"snapshot file with hash": snapPath, "db without hash": dbOnly} {
		got, err := FileStatus(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != want {
			t.Errorf("%s: status %+v, want %+v", name, got, want)
		}
	}

	// The status changes with the content.
	other := buildSource(t)
	be, err := backend.New(backend.Config{Path: other.dbPath, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	tx := be.BatchTx()
	tx.Lock()
	tx.UnsafePut(schema.Meta, []byte("extra"), []byte("1"))
	tx.Unlock()
	be.Close()
	got, err := FileStatus(writeSnapshotFile(t, other.dbPath))
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash == want.Hash || got.TotalKey != want.TotalKey {
		t.Errorf("status of a db with one more meta key (a new hash, the same live keys): %+v, base %+v", got, want)
	}

	if _, err := FileStatus(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("status of a missing file succeeded")
	}
	garbage := filepath.Join(t.TempDir(), "garbage")
	os.WriteFile(garbage, []byte(strings.Repeat("x", 8192)), 0o600)
	if _, err := FileStatus(garbage); err == nil {
		t.Error("status of a non-bbolt file succeeded")
	}
}
