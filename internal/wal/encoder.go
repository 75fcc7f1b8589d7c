package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
)

const (
	// frameSizeBytes is the size of the length word before each record.
	frameSizeBytes = 8
	// minSectorSize is the unit in which a torn write is assumed to happen.
	minSectorSize = 512
	// walPageBytes is the alignment of the writes the encoder issues when its
	// buffer fills up, so a partially written page never straddles two writes.
	walPageBytes = 8 * minSectorSize
	// encoderFlushBytes is the buffered size past which the encoder writes
	// its page-aligned prefix without waiting for a flush.
	encoderFlushBytes = 1 << 20
)

// encodeFrameSize returns the length word for a record of dataBytes bytes and
// the number of zero bytes that pad it to 8-byte alignment.
func encodeFrameSize(dataBytes int) (lenField uint64, padBytes int) {
	lenField = uint64(dataBytes)
	padBytes = (8 - dataBytes%8) % 8
	if padBytes != 0 {
		lenField |= uint64(0x80|padBytes) << 56
	}
	return lenField, padBytes
}

// appendFrame appends a complete frame (length word, record, padding) to b.
func appendFrame(b []byte, typ int64, crc uint32, data []byte) []byte {
	start := len(b)
	b = append(b, make([]byte, frameSizeBytes)...)
	b = appendRecord(b, typ, crc, data)
	lenField, pad := encodeFrameSize(len(b) - start - frameSizeBytes)
	binary.LittleEndian.PutUint64(b[start:], lenField)
	for range pad {
		b = append(b, 0)
	}
	return b
}

// encoder appends frames to one segment file, chaining the CRC. Frames are
// buffered in memory; flush writes them out (the caller then syncs). It is
// not safe for concurrent use; the WAL serialises access.
type encoder struct {
	f       *os.File
	written int64 // file offset up to which buf has been written
	buf     []byte
	crc     uint32
}

// newEncoder returns an encoder appending to f at offset off, continuing the
// CRC chain from prevCrc.
func newEncoder(f *os.File, off int64, prevCrc uint32) *encoder {
	return &encoder{f: f, written: off, crc: prevCrc, buf: make([]byte, 0, 64*1024)}
}

// offset is the logical end of the segment including buffered frames.
func (e *encoder) offset() int64 { return e.written + int64(len(e.buf)) }

// encode appends one record. For a crc record data must be nil and the
// record carries the running CRC.
func (e *encoder) encode(typ int64, data []byte) error {
	e.crc = crc32.Update(e.crc, crcTable, data)
	e.buf = appendFrame(e.buf, typ, e.crc, data)
	if len(e.buf) >= encoderFlushBytes {
		end := e.offset() / walPageBytes * walPageBytes
		if n := int(end - e.written); n > 0 {
			if err := e.write(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush writes every buffered byte to the file.
func (e *encoder) flush() error {
	if len(e.buf) == 0 {
		return nil
	}
	return e.write(len(e.buf))
}

func (e *encoder) write(n int) error {
	if _, err := e.f.WriteAt(e.buf[:n], e.written); err != nil {
		return fmt.Errorf("write %s at %d: %w", e.f.Name(), e.written, err)
	}
	e.written += int64(n)
	rest := copy(e.buf, e.buf[n:])
	e.buf = e.buf[:rest]
	if cap(e.buf) > 4*encoderFlushBytes {
		e.buf = append(make([]byte, 0, 64*1024), e.buf...)
	}
	return nil
}
