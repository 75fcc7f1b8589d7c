package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// ErrCRCMismatch is wrapped by errors for a record whose CRC does not match
// the chained CRC of the log.
var ErrCRCMismatch = errors.New("wal: crc mismatch")

// CorruptError reports an undecodable record: the segment file, the byte
// offset of the record's frame, and the cause. Torn is set when the damage
// sits at the end of the last segment and looks like an interrupted write.
type CorruptError struct {
	Path   string
	Offset int64
	Torn   bool
	Err    error
}

func (e *CorruptError) Error() string {
	kind := "corrupt record"
	if e.Torn {
		kind = "torn record"
	}
	return fmt.Sprintf("wal: %s in %s at offset %d: %v", kind, e.Path, e.Offset, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// decodeFrameSize splits a length word into record and padding sizes.
func decodeFrameSize(lenField uint64) (recBytes, padBytes int64) {
	recBytes = int64(lenField &^ (uint64(0xff) << 56))
	if lenField&(1<<63) != 0 {
		padBytes = int64((lenField >> 56) & 0x7)
	}
	return recBytes, padBytes
}

// decodeFrame decodes the single frame at the start of b, returning the record
// and the number of bytes the frame occupies. It checks structure only, not
// the CRC (which needs the chain). A zero length word returns io.EOF.
func decodeFrame(b []byte) (record, int, error) {
	if len(b) < frameSizeBytes {
		return record{}, 0, io.ErrUnexpectedEOF
	}
	l := binary.LittleEndian.Uint64(b)
	if l == 0 {
		return record{}, 0, io.EOF
	}
	recBytes, padBytes := decodeFrameSize(l)
	if recBytes > int64(len(b)-frameSizeBytes)-padBytes {
		return record{}, 0, io.ErrUnexpectedEOF
	}
	rec, err := unmarshalRecord(b[frameSizeBytes : frameSizeBytes+recBytes])
	if err != nil {
		return record{}, 0, err
	}
	return rec, frameSizeBytes + int(recBytes+padBytes), nil
}

// segmentSource is one segment as seen by the decoder.
type segmentSource struct {
	path string
	r    io.ReaderAt
	size int64
}

// decoder reads records from consecutive segments, verifying the CRC chain.
// Damage in the last segment is flagged Torn when it looks like an
// interrupted write (see tornAt).
type decoder struct {
	segs []segmentSource
	i    int // current segment
	br   *bufio.Reader
	off  int64 // offset in segs[i] just past the last good record
	crc  uint32

	recOff int64 // frame offset of the record last returned
}

func newDecoder(segs []segmentSource) *decoder {
	d := &decoder{segs: segs}
	d.reset()
	return d
}

func (d *decoder) reset() {
	d.off = 0
	if d.i < len(d.segs) {
		s := d.segs[d.i]
		sr := io.NewSectionReader(s.r, 0, s.size)
		if d.br == nil {
			d.br = bufio.NewReaderSize(sr, 128*1024)
		} else {
			d.br.Reset(sr)
		}
	}
}

// curPath returns the path of the segment being read.
func (d *decoder) curPath() string { return d.segs[d.i].path }

// lastOffset returns the offset just past the last good record in the
// current segment.
func (d *decoder) lastOffset() int64 { return d.off }

// lastCRC returns the running CRC after the last good record.
func (d *decoder) lastCRC() uint32 { return d.crc }

var errSegmentEnd = errors.New("end of segment")

// next returns the next record, or io.EOF after the last segment.
func (d *decoder) next() (record, error) {
	for d.i < len(d.segs) {
		rec, err := d.decodeOne()
		if errors.Is(err, errSegmentEnd) {
			if d.i == len(d.segs)-1 {
				return record{}, io.EOF // stay on the last segment: lastOffset is its end
			}
			d.i++
			d.reset()
			continue
		}
		return rec, err
	}
	return record{}, io.EOF
}

func (d *decoder) decodeOne() (record, error) {
	s := d.segs[d.i]
	d.recOff = d.off
	remaining := s.size - d.off
	if remaining <= 0 {
		return record{}, errSegmentEnd
	}
	var hdr [frameSizeBytes]byte
	if remaining < frameSizeBytes {
		part := hdr[:remaining]
		if _, err := io.ReadFull(d.br, part); err != nil {
			return record{}, d.corrupt(err, true)
		}
		if allZero(part) {
			return record{}, errSegmentEnd
		}
		return record{}, d.corrupt(fmt.Errorf("partial length word: %w", io.ErrUnexpectedEOF), true)
	}
	if _, err := io.ReadFull(d.br, hdr[:]); err != nil {
		return record{}, d.corrupt(err, true)
	}
	l := binary.LittleEndian.Uint64(hdr[:])
	if l == 0 {
		return record{}, errSegmentEnd // preallocated space
	}
	recBytes, padBytes := decodeFrameSize(l)
	if recBytes+padBytes > remaining-frameSizeBytes {
		return record{}, d.corrupt(fmt.Errorf("record of %d bytes exceeds the %d bytes left: %w",
			recBytes+padBytes, remaining-frameSizeBytes, io.ErrUnexpectedEOF), true)
	}
	data := make([]byte, recBytes+padBytes)
	if _, err := io.ReadFull(d.br, data); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return record{}, d.corrupt(err, true)
	}
	end := d.off + frameSizeBytes + recBytes + padBytes
	rec, err := unmarshalRecord(data[:recBytes])
	if err != nil {
		return record{}, d.corrupt(err, d.tornAt(data, end))
	}
	if rec.Type == CrcType {
		// A fresh decoder (crc 0) adopts the chain from the first crc record.
		if d.crc != 0 && rec.Crc != d.crc {
			return record{}, d.corrupt(fmt.Errorf("%w: segment starts with %08x, chain is %08x",
				ErrCRCMismatch, rec.Crc, d.crc), d.tornAt(data, end))
		}
		d.crc = rec.Crc
	} else {
		c := crc32.Update(d.crc, crcTable, rec.Data)
		if c != rec.Crc {
			return record{}, d.corrupt(fmt.Errorf("%w: record has %08x, computed %08x",
				ErrCRCMismatch, rec.Crc, c), d.tornAt(data, end))
		}
		d.crc = c
	}
	d.off = end
	return rec, nil
}

// corrupt wraps err with the position of the current record. The damage is
// torn only when it is in the last segment and torn is true.
func (d *decoder) corrupt(err error, torn bool) error {
	return &CorruptError{
		Path:   d.segs[d.i].path,
		Offset: d.recOff,
		Torn:   torn && d.i == len(d.segs)-1,
		Err:    err,
	}
}

// tornAt reports whether a record that failed to decode looks like a torn
// write: some sector-aligned chunk of it is all zero (the sector never hit
// the disk), or nothing but zeros follows it (it was the last record
// written). Only meaningful in the last segment.
func (d *decoder) tornAt(data []byte, end int64) bool {
	if d.i != len(d.segs)-1 {
		return false
	}
	fileOff := d.recOff + frameSizeBytes
	for cur := 0; cur < len(data); {
		n := int(minSectorSize - fileOff%minSectorSize)
		n = min(n, len(data)-cur)
		if allZero(data[cur : cur+n]) {
			return true
		}
		cur += n
		fileOff += int64(n)
	}
	s := d.segs[d.i]
	zero, err := zeroFrom(s.r, end, s.size)
	return err == nil && zero
}

// zeroFrom reports whether r holds only zero bytes in [off, size).
func zeroFrom(r io.ReaderAt, off, size int64) (bool, error) {
	buf := make([]byte, 64*1024)
	for off < size {
		n := int(min(int64(len(buf)), size-off))
		m, err := r.ReadAt(buf[:n], off)
		if !allZero(buf[:m]) {
			return false, nil
		}
		if m < n {
			if err == nil || errors.Is(err, io.EOF) {
				return true, nil
			}
			return false, err
		}
		off += int64(m)
	}
	return true, nil
}

func allZero(b []byte) bool {
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}
