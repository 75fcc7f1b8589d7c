package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

func TestCreateExisting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	w := mustCreate(t, dir, []byte("md"))
	w.Close()
	if _, err := Create(nil, dir, nil); !errors.Is(err, os.ErrExist) {
		t.Fatalf("second Create: got %v, want ErrExist", err)
	}
	if _, err := os.Stat(dir + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temp dir left behind: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	w := mustCreate(t, dir, []byte("metadata"))
	want := entries(1, 10, 1, 50)
	mustSave(t, w, hardState(1, 1, 5), want[:5])
	mustSave(t, w, hardState(1, 1, 10), want[5:])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	w, md, st, ents := readAll(t, dir, SnapshotMark{})
	if string(md) != "metadata" {
		t.Fatalf("metadata %q", md)
	}
	if !proto.Equal(st, hardState(1, 1, 10)) {
		t.Fatalf("state %v", st)
	}
	assertEntries(t, ents, want)

	more := entries(11, 12, 2, 10)
	mustSave(t, w, hardState(2, 2, 12), more)
	w.Close()
	w, _, st, ents = readAll(t, dir, SnapshotMark{})
	defer w.Close()
	assertEntries(t, ents, append(want, more...))
	if st.GetTerm() != 2 || st.GetCommit() != 12 {
		t.Fatalf("state %v", st)
	}
}

func TestSaveBeforeReadAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	mustCreate(t, dir, nil).Close()
	w, err := Open(nil, dir, SnapshotMark{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Save(hardState(1, 0, 0), nil); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Save before ReadAll: %v", err)
	}
	if _, _, _, err := w.ReadAll(); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := w.ReadAll(); !errors.Is(err, ErrNotReadable) {
		t.Fatalf("second ReadAll: %v", err)
	}
}

func TestLocking(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	w := mustCreate(t, dir, nil)
	if _, err := Open(nil, dir, SnapshotMark{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("Open of a WAL in use: got %v, want ErrLocked", err)
	}
	w.Close()
	w2, err := Open(nil, dir, SnapshotMark{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	w2.Close()
}

func TestManySegments(t *testing.T) {
	withSegmentSize(t, 4096)
	dir := filepath.Join(t.TempDir(), "wal")
	w := mustCreate(t, dir, []byte("md"))
	want := entries(1, 300, 1, 100)
	for i, e := range want {
		mustSave(t, w, hardState(1, 1, uint64(i)), []*raftpb.Entry{e})
	}
	w.Close()

	names := walFiles(t, dir)
	if len(names) < 5 {
		t.Fatalf("only %d segments", len(names))
	}
	if !isValidSeq(names) {
		t.Fatalf("bad sequence: %v", names)
	}
	// Every segment after the first is named for its first entry.
	for _, name := range names[1:] {
		_, first, _ := parseWALName(name)
		segs := newDecoderForTest(t, filepath.Join(dir, name))
		var sawEntry bool
		for {
			rec, err := segs.next()
			if err != nil {
				break
			}
			if rec.Type == EntryType && !sawEntry {
				e := &raftpb.Entry{}
				if err := proto.Unmarshal(rec.Data, e); err != nil {
					t.Fatal(err)
				}
				if e.GetIndex() != first {
					t.Fatalf("%s: first entry %d", name, e.GetIndex())
				}
				sawEntry = true
			}
		}
	}
	// Non-tail segments were truncated to their content.
	for _, name := range names[:len(names)-1] {
		fi, _ := os.Stat(filepath.Join(dir, name))
		_, end := frameOffsets(t, filepath.Join(dir, name))
		if fi.Size() != end {
			t.Fatalf("%s: size %d, content ends at %d", name, fi.Size(), end)
		}
	}
	w, md, st, ents := readAll(t, dir, SnapshotMark{})
	defer w.Close()
	if string(md) != "md" || st.GetCommit() != 299 {
		t.Fatalf("md %q state %v", md, st)
	}
	assertEntries(t, ents, want)
}

// newDecoderForTest decodes one segment on its own (as Open at its index would).
func newDecoderForTest(t *testing.T, path string) *decoder {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, _ := f.Stat()
	return newDecoder([]segmentSource{{path: path, r: f, size: fi.Size()}})
}

func TestSegmentHeaderChainsCRC(t *testing.T) {
	withSegmentSize(t, 2048)
	dir := filepath.Join(t.TempDir(), "wal")
	w := mustCreate(t, dir, []byte("md"))
	for i := uint64(1); i <= 60; i++ {
		mustSave(t, w, hardState(3, 1, i-1), entries(i, i, 3, 64))
	}
	w.Close()
	names := walFiles(t, dir)
	if len(names) < 2 {
		t.Fatal("expected a cut")
	}
	// Running CRC at the end of segment 0 must be what segment 1 starts with.
	d0 := newDecoderForTest(t, filepath.Join(dir, names[0]))
	for {
		if _, err := d0.next(); err != nil {
			break
		}
	}
	d1 := newDecoderForTest(t, filepath.Join(dir, names[1]))
	first, err := d1.next()
	if err != nil {
		t.Fatal(err)
	}
	if first.Type != CrcType || first.Crc != d0.lastCRC() {
		t.Fatalf("segment 1 starts with %+v, want crc record %08x", first, d0.lastCRC())
	}
	md, _ := d1.next()
	st, _ := d1.next()
	if md.Type != MetadataType || string(md.Data) != "md" || st.Type != StateType {
		t.Fatalf("segment header: %+v %+v", md, st)
	}
}

// writeTen makes a WAL holding entries 1..10 (one Save each) and returns
// them with the path of its only segment.
func writeTen(t *testing.T) (string, string, []*raftpb.Entry) {
	t.Helper()
	withSegmentSize(t, 1<<20)
	dir := filepath.Join(t.TempDir(), "wal")
	w := mustCreate(t, dir, []byte("md"))
	want := entries(1, 10, 1, 300)
	for _, e := range want {
		mustSave(t, w, nil, []*raftpb.Entry{e})
	}
	w.Close()
	return dir, lastWAL(t, dir), want
}

func TestTornTail(t *testing.T) {
	cases := map[string]func(t *testing.T, path string, last, end int64){
		"truncated mid-record": func(t *testing.T, path string, last, end int64) {
			if err := os.Truncate(path, last+100); err != nil {
				t.Fatal(err)
			}
		},
		"truncated mid length word": func(t *testing.T, path string, last, end int64) {
			if err := os.Truncate(path, last+3); err != nil {
				t.Fatal(err)
			}
		},
		"zeroed record body": func(t *testing.T, path string, last, end int64) {
			patchFile(t, path, last+8, make([]byte, end-last-8))
		},
		"zeroed whole record": func(t *testing.T, path string, last, end int64) {
			patchFile(t, path, last, make([]byte, end-last))
		},
		"zeroed sector inside record": func(t *testing.T, path string, last, end int64) {
			// the record spans a 512-byte boundary; zero the chunk after it
			b := (last + 8 + 511) / 512 * 512
			patchFile(t, path, b, make([]byte, min(end, b+512)-b))
		},
		"crc mismatch in final record": func(t *testing.T, path string, last, end int64) {
			flipByte(t, path, end-20)
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			dir, path, want := writeTen(t)
			offs, end := frameOffsets(t, path)
			last := offs[len(offs)-1]
			damage(t, path, last, end)

			w, _, _, ents := readAll(t, dir, SnapshotMark{})
			assertEntries(t, ents, want[:9])
			// Append after the repair, overwriting index 10 with new data.
			fresh := []*raftpb.Entry{newEntry(10, 2, []byte("new ten")), newEntry(11, 2, []byte("eleven"))}
			mustSave(t, w, hardState(2, 1, 11), fresh)
			w.Close()

			w, _, st, ents := readAll(t, dir, SnapshotMark{})
			defer w.Close()
			assertEntries(t, ents, append(want[:9:9], fresh...))
			if st.GetCommit() != 11 {
				t.Fatalf("state %v", st)
			}
		})
	}
}

func TestTornTailKeepsBackup(t *testing.T) {
	dir, path, _ := writeTen(t)
	offs, _ := frameOffsets(t, path)
	if err := os.Truncate(path, offs[len(offs)-1]+100); err != nil {
		t.Fatal(err)
	}
	w, _, _, _ := readAll(t, dir, SnapshotMark{})
	w.Close()
	if _, err := os.Stat(path + ".broken"); err != nil {
		t.Fatalf("no backup of the torn segment: %v", err)
	}
	if !Exist(dir) || len(walFiles(t, dir)) != 1 {
		t.Fatal("backup must not count as a segment")
	}
}

func TestCorruptionInsideLastSegmentRefused(t *testing.T) {
	dir, path, _ := writeTen(t)
	offs, _ := frameOffsets(t, path)
	// offs: crc, metadata, snapshot, entries 1..10. Damage entry 5.
	bad := offs[3+4]
	flipByte(t, path, bad+30)
	w, err := Open(nil, dir, SnapshotMark{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, _, _, err = w.ReadAll()
	var ce *CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCRCMismatch) {
		t.Fatalf("got %v, want CRC CorruptError", err)
	}
	if ce.Path != path || ce.Offset != bad || ce.Torn {
		t.Fatalf("got %+v, want %s at %d", ce, path, bad)
	}
	if !strings.Contains(err.Error(), filepath.Base(path)) || !strings.Contains(err.Error(), fmt.Sprint(bad)) {
		t.Fatalf("error %q does not name file and offset", err)
	}
}

func TestCorruptionInNonLastSegmentRefused(t *testing.T) {
	damages := map[string]func(t *testing.T, path string, off int64){
		"flipped byte": func(t *testing.T, path string, off int64) { flipByte(t, path, off+20) },
		"truncated":    func(t *testing.T, path string, off int64) { os.Truncate(path, off+20) },
		"zeroed":       func(t *testing.T, path string, off int64) { patchFile(t, path, off+8, make([]byte, 40)) },
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			withSegmentSize(t, 4096)
			dir := filepath.Join(t.TempDir(), "wal")
			w := mustCreate(t, dir, []byte("md"))
			for i := uint64(1); i <= 100; i++ {
				mustSave(t, w, hardState(1, 1, i), entries(i, i, 1, 100))
			}
			w.Close()
			names := walFiles(t, dir)
			if len(names) < 3 {
				t.Fatal("expected several segments")
			}
			victim := filepath.Join(dir, names[1])
			offs, _ := frameOffsets(t, victim)
			bad := offs[len(offs)/2]
			damage(t, victim, bad)

			w, err := Open(nil, dir, SnapshotMark{})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			_, _, _, err = w.ReadAll()
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want CorruptError", err)
			}
			if ce.Path != victim || ce.Offset != bad || ce.Torn {
				t.Fatalf("got %+v, want %s at %d", ce, victim, bad)
			}
			if _, err := os.Stat(victim + ".broken"); !os.IsNotExist(err) {
				t.Fatal("a non-last segment must not be repaired")
			}
		})
	}
}

func TestGarbageAfterZeroLengthWordCleared(t *testing.T) {
	dir, path, want := writeTen(t)
	_, end := frameOffsets(t, path)
	// A torn write that left a later frame but not the one before it.
	patchFile(t, path, end+64, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	w, _, _, ents := readAll(t, dir, SnapshotMark{})
	assertEntries(t, ents, want)
	mustSave(t, w, nil, []*raftpb.Entry{newEntry(11, 1, nil)})
	w.Close()
	w, _, _, ents = readAll(t, dir, SnapshotMark{})
	defer w.Close()
	if len(ents) != 11 {
		t.Fatalf("got %d entries", len(ents))
	}
}

func TestOverwriteByLaterTerm(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	w := mustCreate(t, dir, nil)
	mustSave(t, w, hardState(1, 1, 2), entries(1, 5, 1, 8))
	newer := entries(3, 4, 2, 9)
	mustSave(t, w, hardState(2, 2, 2), newer)
	w.Close()
	w, _, st, ents := readAll(t, dir, SnapshotMark{})
	defer w.Close()
	want := append(entries(1, 2, 1, 8), newer...)
	assertEntries(t, ents, want)
	if st.GetTerm() != 2 {
		t.Fatalf("state %v", st)
	}
}

func TestEntryGapRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	w := mustCreate(t, dir, nil)
	mustSave(t, w, nil, entries(1, 2, 1, 8))
	mustSave(t, w, nil, entries(5, 5, 1, 8))
	w.Close()
	w, err := Open(nil, dir, SnapshotMark{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, _, _, err := w.ReadAll(); !errors.Is(err, ErrSliceOutOfRange) {
		t.Fatalf("got %v", err)
	}
}

func TestSnapshotsAndOpenAtSnapshot(t *testing.T) {
	withSegmentSize(t, 4096)
	dir := filepath.Join(t.TempDir(), "wal")
	cs := &raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	w := mustCreate(t, dir, []byte("md"))
	all := entries(1, 60, 1, 100)
	mustSave(t, w, hardState(1, 1, 30), all[:30])
	if err := w.SaveSnapshot(SnapshotMark{Index: 20, Term: 1, ConfState: cs}); err != nil {
		t.Fatal(err)
	}
	mustSave(t, w, hardState(1, 1, 45), all[30:])
	if err := w.SaveSnapshot(SnapshotMark{Index: 50, Term: 1, ConfState: cs}); err != nil {
		t.Fatal(err)
	}
	if err := w.SaveSnapshot(SnapshotMark{Index: 55}); err == nil {
		t.Fatal("snapshot without ConfState accepted")
	}
	w.Close()

	snaps, err := ValidSnapshotEntries(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	// index 50 is above commit 45, so it is not valid yet.
	if len(snaps) != 2 || snaps[0].Index != 0 || snaps[1].Index != 20 || snaps[1].Term != 1 ||
		!proto.Equal(snaps[1].ConfState, cs) {
		t.Fatalf("snapshots %+v", snaps)
	}

	w, md, st, ents := readAll(t, dir, SnapshotMark{Index: 20, Term: 1})
	if string(md) != "md" || st.GetCommit() != 45 {
		t.Fatalf("md %q state %v", md, st)
	}
	assertEntries(t, ents, all[20:])
	w.Close()

	w, err = Open(nil, dir, SnapshotMark{Index: 20, Term: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := w.ReadAll(); !errors.Is(err, ErrSnapshotMismatch) {
		t.Fatalf("wrong term: %v", err)
	}
	w.Close()

	w, err = Open(nil, dir, SnapshotMark{Index: 25, Term: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, _, ents, err = w.ReadAll()
	if !errors.Is(err, ErrSnapshotNotFound) {
		t.Fatalf("unknown snapshot: %v", err)
	}
	assertEntries(t, ents, all[25:])
	w.Close()
}

func TestReleaseLockToAndPurge(t *testing.T) {
	withSegmentSize(t, 4096)
	dir := filepath.Join(t.TempDir(), "wal")
	w := mustCreate(t, dir, nil)
	for i := uint64(1); i <= 200; i++ {
		mustSave(t, w, hardState(1, 1, i), entries(i, i, 1, 100))
	}
	names := walFiles(t, dir)
	if len(names) < 6 {
		t.Fatalf("only %d segments", len(names))
	}
	// Nothing released yet: Purge must not remove anything.
	if err := w.Purge(1); err != nil {
		t.Fatal(err)
	}
	if got := walFiles(t, dir); len(got) != len(names) {
		t.Fatalf("purged locked segments: %d -> %d", len(names), len(got))
	}
	_, idx3, _ := parseWALName(names[3])
	if err := w.ReleaseLockTo(idx3 + 1); err != nil {
		t.Fatal(err)
	}
	if err := Purge(nil, dir, 1); err != nil {
		t.Fatal(err)
	}
	got := walFiles(t, dir)
	if len(got) != len(names)-3 || got[0] != names[3] {
		t.Fatalf("after purge: %v (had %v)", got, names)
	}
	w.Close()
	// The log is still readable from a snapshot in the kept segments.
	if err := writeSnapshotAt(dir, idx3+1); err != nil {
		t.Fatal(err)
	}
}

// writeSnapshotAt opens the WAL at index (found by reading), as a restart
// after a snapshot would, and checks the entries after it.
func writeSnapshotAt(dir string, index uint64) error {
	w, err := Open(nil, dir, SnapshotMark{Index: index})
	if err != nil {
		return err
	}
	defer w.Close()
	_, _, ents, err := w.ReadAll()
	if !errors.Is(err, ErrSnapshotNotFound) {
		return fmt.Errorf("want ErrSnapshotNotFound, got %w", err)
	}
	if len(ents) == 0 || ents[0].GetIndex() != index+1 || ents[len(ents)-1].GetIndex() != 200 {
		return fmt.Errorf("entries %d..", len(ents))
	}
	return nil
}

func TestSyncOnlyWhenNeeded(t *testing.T) {
	// A commit-only hard state change is written but not synced; it must
	// still be on disk after Close.
	dir := filepath.Join(t.TempDir(), "wal")
	w := mustCreate(t, dir, nil)
	mustSave(t, w, hardState(1, 1, 0), entries(1, 1, 1, 8))
	mustSave(t, w, hardState(1, 1, 1), nil)
	w.Close()
	w, _, st, _ := readAll(t, dir, SnapshotMark{})
	defer w.Close()
	if st.GetCommit() != 1 {
		t.Fatalf("state %v", st)
	}
}
