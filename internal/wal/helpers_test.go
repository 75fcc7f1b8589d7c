package wal

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

func newEntry(index, term uint64, data []byte) *raftpb.Entry {
	return &raftpb.Entry{
		Term:  new(term),
		Index: new(index),
		Type:  new(raftpb.EntryType_EntryNormal),
		Data:  data,
	}
}

func entries(from, to, term uint64, size int) []*raftpb.Entry {
	var es []*raftpb.Entry
	for i := from; i <= to; i++ {
		d := bytes.Repeat([]byte{byte(i)}, size)
		es = append(es, newEntry(i, term, d))
	}
	return es
}

func hardState(term, vote, commit uint64) *raftpb.HardState {
	return &raftpb.HardState{Term: new(term), Vote: new(vote), Commit: new(commit)}
}

// withSegmentSize shrinks the segment size for one test.
func withSegmentSize(t *testing.T, n int64) {
	old := segmentSizeBytes
	segmentSizeBytes = n
	t.Cleanup(func() { segmentSizeBytes = old })
}

func mustCreate(t *testing.T, dir string, md []byte) *WAL {
	t.Helper()
	w, err := Create(nil, dir, md)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return w
}

func mustSave(t *testing.T, w *WAL, st *raftpb.HardState, ents []*raftpb.Entry) {
	t.Helper()
	if err := w.Save(st, ents); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

func readAll(t *testing.T, dir string, snap SnapshotMark) (*WAL, []byte, *raftpb.HardState, []*raftpb.Entry) {
	t.Helper()
	w, err := Open(nil, dir, snap)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	md, st, ents, err := w.ReadAll()
	if err != nil {
		w.Close()
		t.Fatalf("ReadAll: %v", err)
	}
	return w, md, st, ents
}

func assertEntries(t *testing.T, got, want []*raftpb.Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("entry %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

// frameOffsets returns the start offsets of the frames written in a segment,
// and the offset just past the last one.
func frameOffsets(t *testing.T, path string) ([]int64, int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	var off int64
	for off+8 <= int64(len(b)) {
		l := binary.LittleEndian.Uint64(b[off:])
		if l == 0 {
			break
		}
		rec, pad := decodeFrameSize(l)
		offs = append(offs, off)
		off += 8 + rec + pad
	}
	return offs, off
}

func walFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := segmentNames(dir)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func lastWAL(t *testing.T, dir string) string {
	t.Helper()
	names := walFiles(t, dir)
	return filepath.Join(dir, names[len(names)-1])
}

func patchFile(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	patchFile(t, path, off, []byte{b[off] ^ 0x55})
}
