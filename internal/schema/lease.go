package schema

import (
	"encoding/binary"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdgo/etcd/internal/backend"
)

// LeaseRecord is etcd's leasepb.Lease, the value of the lease bucket:
// ID (field 1), TTL (field 2) and RemainingTTL (field 3), all int64 varints.
// RemainingTTL is 0 unless a checkpoint recorded how much of TTL was left.
type LeaseRecord struct {
	ID           int64
	TTL          int64
	RemainingTTL int64
}

// LeaseKey is the lease bucket key of a lease: its ID as 8 bytes big-endian.
func LeaseKey(id int64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(id))
	return k
}

// MarshalLease encodes l as leasepb.Lease does (proto3: zero fields are
// left out, fields in number order).
func MarshalLease(l LeaseRecord) []byte {
	var b []byte
	for _, f := range []struct {
		num protowire.Number
		v   int64
	}{{1, l.ID}, {2, l.TTL}, {3, l.RemainingTTL}} {
		if f.v == 0 {
			continue
		}
		b = protowire.AppendTag(b, f.num, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(f.v))
	}
	return b
}

// UnmarshalLease decodes a leasepb.Lease; unknown fields are skipped.
func UnmarshalLease(b []byte) (LeaseRecord, error) {
	var l LeaseRecord
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return l, fmt.Errorf("decode lease: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if typ == protowire.VarintType && num >= 1 && num <= 3 {
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return l, fmt.Errorf("decode lease field %d: %w", num, protowire.ParseError(m))
			}
			b = b[m:]
			switch num {
			case 1:
				l.ID = int64(v)
			case 2:
				l.TTL = int64(v)
			case 3:
				l.RemainingTTL = int64(v)
			}
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return l, fmt.Errorf("decode lease field %d: %w", num, protowire.ParseError(m))
		}
		b = b[m:]
	}
	return l, nil
}

// UnsafePutLease stores l in the lease bucket. The caller holds the lock.
func UnsafePutLease(tx backend.UnsafeWriter, l LeaseRecord) {
	tx.UnsafePut(Lease, LeaseKey(l.ID), MarshalLease(l))
}

// UnsafeDeleteLease removes lease id from the lease bucket.
func UnsafeDeleteLease(tx backend.UnsafeWriter, id int64) {
	tx.UnsafeDelete(Lease, LeaseKey(id))
}

// UnsafeGetAllLeases returns every lease of the lease bucket in key order.
func UnsafeGetAllLeases(tx backend.UnsafeReader) ([]LeaseRecord, error) {
	var ls []LeaseRecord
	err := tx.UnsafeForEach(Lease, func(k, v []byte) error {
		l, err := UnmarshalLease(v)
		if err != nil {
			return fmt.Errorf("lease %x: %w", k, err)
		}
		ls = append(ls, l)
		return nil
	})
	return ls, err
}
