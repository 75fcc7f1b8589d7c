package wal

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzDecodeRecord feeds arbitrary bytes to the frame decoder and to the
// segment decoder (as a last segment). Neither may panic; a frame that
// decodes must re-encode to a frame that decodes to the same record; the
// segment decoder must never move past the end of its input.
// Seeds live in testdata/fuzz/FuzzDecodeRecord.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(appendFrame(nil, CrcType, 0, nil))
	f.Add(appendFrame(appendFrame(nil, CrcType, 0, nil), MetadataType, 0x12345678, []byte("md")))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, n, err := decodeFrame(b)
		if err == nil {
			if n < frameSizeBytes || n > len(b) {
				t.Fatalf("bad frame length %d of %d", n, len(b))
			}
			again := appendFrame(nil, rec.Type, rec.Crc, rec.Data)
			rec2, n2, err := decodeFrame(again)
			if err != nil || n2 != len(again) || len(again)%8 != 0 {
				t.Fatalf("re-encoded frame: %v n=%d len=%d", err, n2, len(again))
			}
			if rec2.Type != rec.Type || rec2.Crc != rec.Crc || !bytes.Equal(rec2.Data, rec.Data) ||
				(rec.Data == nil) != (rec2.Data == nil) {
				t.Fatalf("round trip: %+v != %+v", rec2, rec)
			}
		}

		d := newDecoder([]segmentSource{{path: "fuzz.wal", r: bytes.NewReader(b), size: int64(len(b))}})
		for range 1 << 16 {
			_, err := d.next()
			if d.lastOffset() > int64(len(b)) {
				t.Fatalf("offset %d of %d", d.lastOffset(), len(b))
			}
			if err == nil {
				continue
			}
			var ce *CorruptError
			if !errors.Is(err, io.EOF) && !errors.As(err, &ce) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		t.Fatal("decoder did not terminate")
	})
}
