package snap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/etcdgo/etcd/internal/wal"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

func snapshot(term, index uint64, data string) *raftpb.Snapshot {
	return &raftpb.Snapshot{
		Data: []byte(data),
		Metadata: &raftpb.SnapshotMetadata{
			ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}, AutoLeave: new(false)},
			Index:     new(index),
			Term:      new(term),
		},
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := New(nil, dir)
	want := snapshot(2, 0x61ace, "v2 store")
	if err := s.SaveSnap(want); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "0000000000000002-0000000000061ace.snap")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Hand-built snappb.Snapshot: 0x08 crc varint, 0x12 length data.
	data, _ := proto.MarshalOptions{Deterministic: true}.Marshal(want)
	exp := append([]byte{0x08}, binary.AppendUvarint(nil, uint64(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))))...)
	exp = append(exp, 0x12)
	exp = append(append(exp, binary.AppendUvarint(nil, uint64(len(data)))...), data...)
	if !bytes.Equal(raw, exp) {
		t.Fatalf("file bytes\n got %x\nwant %x", raw, exp)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Fatal("temp file left behind")
	}
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

func TestEmptySnapshotNotSaved(t *testing.T) {
	dir := t.TempDir()
	s := New(nil, dir)
	if err := s.SaveSnap(&raftpb.Snapshot{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("got %v", err)
	}
}

func TestBrokenSnapshotSkippedAndRenamed(t *testing.T) {
	damages := map[string]func([]byte) []byte{
		"crc":     func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b },
		"garbage": func([]byte) []byte { return []byte{0xff, 0xff, 0xff} },
		"empty":   func([]byte) []byte { return nil },
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := New(nil, dir)
			older := snapshot(1, 10, "old")
			if err := s.SaveSnap(older); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveSnap(snapshot(1, 20, "new")); err != nil {
				t.Fatal(err)
			}
			newest := filepath.Join(dir, "0000000000000001-0000000000000014.snap")
			b, _ := os.ReadFile(newest)
			if err := os.WriteFile(newest, damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := s.Load()
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, older) {
				t.Fatalf("loaded %v", got)
			}
			if _, err := os.Stat(newest + ".broken"); err != nil {
				t.Fatalf("broken file not renamed: %v", err)
			}
			if _, err := os.Stat(newest); !os.IsNotExist(err) {
				t.Fatal("broken file still in place")
			}
		})
	}
}

func TestLoadNewestAvailable(t *testing.T) {
	dir := t.TempDir()
	s := New(nil, dir)
	for _, sn := range []*raftpb.Snapshot{snapshot(1, 5, "a"), snapshot(1, 10, "b"), snapshot(2, 15, "c")} {
		if err := s.SaveSnap(sn); err != nil {
			t.Fatal(err)
		}
	}
	walSnaps := []wal.SnapshotMark{{}, {Index: 5, Term: 1}, {Index: 10, Term: 1}}
	got, err := s.LoadNewestAvailable(walSnaps)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetMetadata().GetIndex() != 10 || string(got.GetData()) != "b" {
		t.Fatalf("got %v", got)
	}
	if _, err := s.LoadNewestAvailable([]wal.SnapshotMark{{Index: 15, Term: 1}}); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("term mismatch: %v", err)
	}
	got, err = s.Load()
	if err != nil || got.GetMetadata().GetIndex() != 15 {
		t.Fatalf("Load: %v %v", got, err)
	}
}

func TestNoSnapshotInEmptyDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "db"), []byte("bolt"), 0o600)
	if _, err := New(nil, dir).Load(); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("got %v", err)
	}
}

func TestPurge(t *testing.T) {
	dir := t.TempDir()
	s := New(nil, dir)
	for i := uint64(1); i <= 5; i++ {
		if err := s.SaveSnap(snapshot(1, i*10, "x")); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "db"), []byte("bolt"), 0o600)
	if err := Purge(dir, 0); err != nil {
		t.Fatal(err)
	}
	names, _ := snapNames(dir)
	if len(names) != 5 {
		t.Fatalf("max 0 removed files: %v", names)
	}
	if err := Purge(dir, 2); err != nil {
		t.Fatal(err)
	}
	names, _ = snapNames(dir)
	if len(names) != 2 || names[0] != "0000000000000001-0000000000000032.snap" ||
		names[1] != "0000000000000001-0000000000000028.snap" {
		t.Fatalf("kept %v", names)
	}
	if _, err := os.Stat(filepath.Join(dir, "db")); err != nil {
		t.Fatal("purge removed the db file")
	}
}

func TestNewCleansLeftovers(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.snap.tmp", "1.snap.broken", "2.snap.broken"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600)
	}
	New(nil, dir)
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 1 || filepath.Base(left[0]) != "2.snap.broken" {
		t.Fatalf("left %v", left)
	}
}
