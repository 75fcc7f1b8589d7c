package wal

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// The expected bytes below are built by hand from etcd's format description,
// without this package's encoder: a little-endian length word (top bit and
// pad count set when padded), the walpb.Record fields in order
// (0x08 type, 0x10 crc, 0x1a data), zero padding to 8 bytes, and the
// Castagnoli CRC chained over the data of every record.

func uvarint(v uint64) []byte { return binary.AppendUvarint(nil, v) }

func handFrame(typ byte, crc uint32, data []byte, withData bool) []byte {
	rec := []byte{0x08, typ, 0x10}
	rec = append(rec, uvarint(uint64(crc))...)
	if withData {
		rec = append(rec, 0x1a)
		rec = append(rec, uvarint(uint64(len(data)))...)
		rec = append(rec, data...)
	}
	pad := (8 - len(rec)%8) % 8
	lw := make([]byte, 8)
	binary.LittleEndian.PutUint64(lw, uint64(len(rec)))
	if pad > 0 {
		lw[7] = 0x80 | byte(pad)
	}
	out := append(lw, rec...)
	return append(out, make([]byte, pad)...)
}

func TestGoldenBytes(t *testing.T) {
	withSegmentSize(t, 64*1024)
	dir := filepath.Join(t.TempDir(), "wal")
	w := mustCreate(t, dir, []byte("somedata"))
	// An entry of Term 1, Index 1, Type normal, Data "hi"; a HardState
	// {term 1, vote 2, commit 1}. Proto2 fields in field-number order.
	mustSave(t, w, hardState(1, 2, 1), []*raftpb.Entry{newEntry(1, 1, []byte("hi"))})
	w.Close()

	tab := crc32.MakeTable(crc32.Castagnoli)
	var want []byte
	// 1. crc record with crc 0 and no data: 08 04 10 00 + 4 pad bytes.
	want = append(want, 0x04, 0, 0, 0, 0, 0, 0, 0x84, 0x08, 0x04, 0x10, 0x00, 0, 0, 0, 0)
	// 2. metadata.
	c := crc32.Update(0, tab, []byte("somedata"))
	want = append(want, handFrame(1, c, []byte("somedata"), true)...)
	// 3. empty snapshot {index 0, term 0}.
	snap := []byte{0x08, 0x00, 0x10, 0x00}
	c = crc32.Update(c, tab, snap)
	want = append(want, handFrame(5, c, snap, true)...)
	// 4. entry: Type(1)=0, Term(2)=1, Index(3)=1, Data(4)="hi".
	ent := []byte{0x08, 0x00, 0x10, 0x01, 0x18, 0x01, 0x22, 0x02, 'h', 'i'}
	c = crc32.Update(c, tab, ent)
	want = append(want, handFrame(2, c, ent, true)...)
	// 5. hard state: term(1)=1, vote(2)=2, commit(3)=1.
	hs := []byte{0x08, 0x01, 0x10, 0x02, 0x18, 0x01}
	c = crc32.Update(c, tab, hs)
	want = append(want, handFrame(3, c, hs, true)...)

	got, err := os.ReadFile(filepath.Join(dir, "0000000000000000-0000000000000000.wal"))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(got)) != 64*1024 {
		t.Fatalf("segment is %d bytes, want preallocated %d", len(got), 64*1024)
	}
	if !bytes.Equal(got[:len(want)], want) {
		t.Fatalf("bytes differ\n got %x\nwant %x", got[:len(want)], want)
	}
	if !allZero(got[len(want):]) {
		t.Fatal("space after the records is not zero")
	}
	if len(want)%8 != 0 {
		t.Fatalf("unaligned: %d", len(want))
	}
}

func TestGoldenCutSegment(t *testing.T) {
	withSegmentSize(t, 512)
	dir := filepath.Join(t.TempDir(), "wal")
	w := mustCreate(t, dir, nil)
	big := bytes.Repeat([]byte{'x'}, 600)
	mustSave(t, w, hardState(4, 1, 0), []*raftpb.Entry{newEntry(1, 4, big)})
	w.Close()
	names := walFiles(t, dir)
	if len(names) != 2 || names[1] != "0000000000000001-0000000000000002.wal" {
		t.Fatalf("segments %v", names)
	}
	first, _ := os.ReadFile(filepath.Join(dir, names[0]))
	tab := crc32.MakeTable(crc32.Castagnoli)
	// Running crc over the first segment: nil metadata (no data field),
	// empty snapshot, the entry, the hard state.
	c := crc32.Update(0, tab, nil)
	c = crc32.Update(c, tab, []byte{0x08, 0, 0x10, 0})
	ent := append([]byte{0x08, 0x00, 0x10, 0x04, 0x18, 0x01, 0x22}, uvarint(600)...)
	ent = append(ent, big...)
	c = crc32.Update(c, tab, ent)
	hs := []byte{0x08, 0x04, 0x10, 0x01, 0x18, 0x00}
	c = crc32.Update(c, tab, hs)
	if !bytes.HasSuffix(first, handFrame(3, c, hs, true)) {
		t.Fatal("first segment does not end with the hard state (not truncated?)")
	}
	second, _ := os.ReadFile(filepath.Join(dir, names[1]))
	var want []byte
	want = append(want, handFrame(4, c, nil, false)...) // crc record carries the chain
	want = append(want, handFrame(1, c, nil, false)...) // nil metadata: crc unchanged
	c2 := crc32.Update(c, tab, hs)
	want = append(want, handFrame(3, c2, hs, true)...) // latest hard state
	if !bytes.Equal(second[:len(want)], want) {
		t.Fatalf("second segment\n got %x\nwant %x", second[:len(want)], want)
	}
}
