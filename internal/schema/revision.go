package schema

import "encoding/binary"

// Revision is an mvcc revision: Main is the store revision of a txn, Sub the
// index of the change within it.
type Revision struct{ Main, Sub int64 }

const (
	// RevBytesLen is the length of a revision key: 8-byte BE main, '_',
	// 8-byte BE sub.
	RevBytesLen = 8 + 1 + 8
	// MarkedRevBytesLen is the length of a tombstone revision key.
	MarkedRevBytesLen = RevBytesLen + 1
	markTombstone     = 't'
)

// GreaterThan reports whether r is after o.
func (r Revision) GreaterThan(o Revision) bool {
	if r.Main != o.Main {
		return r.Main > o.Main
	}
	return r.Sub > o.Sub
}

// RevToBytes encodes rev as a key of the "key" bucket, with a trailing 't'
// for a tombstone.
func RevToBytes(rev Revision, tombstone bool) []byte {
	n := RevBytesLen
	if tombstone {
		n = MarkedRevBytesLen
	}
	b := make([]byte, n)
	binary.BigEndian.PutUint64(b[0:8], uint64(rev.Main))
	b[8] = '_'
	binary.BigEndian.PutUint64(b[9:17], uint64(rev.Sub))
	if tombstone {
		b[17] = markTombstone
	}
	return b
}

// BytesToRev decodes a revision key (tombstone mark ignored). It panics on
// keys shorter than RevBytesLen.
func BytesToRev(b []byte) Revision {
	return Revision{
		Main: int64(binary.BigEndian.Uint64(b[0:8])),
		Sub:  int64(binary.BigEndian.Uint64(b[9:17])),
	}
}

// IsTombstone reports whether b is a tombstone revision key.
func IsTombstone(b []byte) bool {
	return len(b) == MarkedRevBytesLen && b[RevBytesLen] == markTombstone
}
