package wal

import (
	"errors"
	"fmt"
	"hash/crc32"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Record types, as in etcd's walpb.
const (
	MetadataType int64 = iota + 1
	EntryType
	StateType
	CrcType
	SnapshotType
)

// crcTable is the CRC-32 Castagnoli table used for the chained record CRC.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// marshalOpts gives deterministic bytes, as etcd's gogo marshaling did.
var marshalOpts = proto.MarshalOptions{Deterministic: true}

// record is a decoded walpb.Record.
type record struct {
	Type int64
	Crc  uint32
	Data []byte
}

// SnapshotMark identifies a raft snapshot recorded in the WAL (walpb.Snapshot).
type SnapshotMark struct {
	Index, Term uint64
	ConfState   *raftpb.ConfState
}

// appendRecord appends the proto2 encoding of walpb.Record to b. type and crc
// are always present (etcd's encoder always sets them); data is present when
// non-nil.
func appendRecord(b []byte, typ int64, crc uint32, data []byte) []byte {
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(typ))
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(crc))
	if data != nil {
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendBytes(b, data)
	}
	return b
}

// recordSize returns len(appendRecord(nil, typ, crc, data)).
func recordSize(typ int64, crc uint32, data []byte) int {
	n := 2 + protowire.SizeVarint(uint64(typ)) + protowire.SizeVarint(uint64(crc))
	if data != nil {
		n += 1 + protowire.SizeBytes(len(data))
	}
	return n
}

var errBadRecord = errors.New("malformed walpb.Record")

// unmarshalRecord decodes a walpb.Record. Unknown fields are skipped, as a
// protobuf decoder would. The returned Data aliases b.
func unmarshalRecord(b []byte) (record, error) {
	var r record
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return record{}, fmt.Errorf("%w: %w", errBadRecord, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return record{}, fmt.Errorf("%w: type: %w", errBadRecord, protowire.ParseError(n))
			}
			r.Type = int64(v)
			b = b[n:]
		case num == 2 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return record{}, fmt.Errorf("%w: crc: %w", errBadRecord, protowire.ParseError(n))
			}
			r.Crc = uint32(v)
			b = b[n:]
		case num == 3 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return record{}, fmt.Errorf("%w: data: %w", errBadRecord, protowire.ParseError(n))
			}
			if v == nil {
				v = []byte{}
			}
			r.Data = v
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return record{}, fmt.Errorf("%w: field %d: %w", errBadRecord, num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	return r, nil
}

// marshalSnapshot encodes a walpb.Snapshot. index and term are always
// present; conf_state when non-nil.
func marshalSnapshot(s SnapshotMark) ([]byte, error) {
	b := make([]byte, 0, 32)
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, s.Index)
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, s.Term)
	if s.ConfState != nil {
		cs, err := marshalOpts.Marshal(s.ConfState)
		if err != nil {
			return nil, fmt.Errorf("marshal conf state: %w", err)
		}
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendBytes(b, cs)
	}
	return b, nil
}

// unmarshalSnapshot decodes a walpb.Snapshot.
func unmarshalSnapshot(b []byte) (SnapshotMark, error) {
	var s SnapshotMark
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return SnapshotMark{}, fmt.Errorf("walpb.Snapshot: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return SnapshotMark{}, fmt.Errorf("walpb.Snapshot index: %w", protowire.ParseError(n))
			}
			s.Index = v
			b = b[n:]
		case num == 2 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return SnapshotMark{}, fmt.Errorf("walpb.Snapshot term: %w", protowire.ParseError(n))
			}
			s.Term = v
			b = b[n:]
		case num == 3 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return SnapshotMark{}, fmt.Errorf("walpb.Snapshot conf_state: %w", protowire.ParseError(n))
			}
			cs := &raftpb.ConfState{}
			if err := proto.Unmarshal(v, cs); err != nil {
				return SnapshotMark{}, fmt.Errorf("walpb.Snapshot conf_state: %w", err)
			}
			s.ConfState = cs
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return SnapshotMark{}, fmt.Errorf("walpb.Snapshot field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	return s, nil
}
