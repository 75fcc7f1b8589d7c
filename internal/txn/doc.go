// Package txn implements the semantics of the v3 KV requests (Range, Put,
// DeleteRange and Txn with Compare) on top of the MVCC store, and the
// request validation the gRPC layer performs before proposing a request.
//
// Evaluation functions take an open mvcc view (Range, Put, DeleteRange) or
// the store itself (Txn and the Apply* wrappers, which open and end their own
// txn). Semantic errors are returned as the gRPC errors of package rpctypes,
// unwrapped, so the gRPC adapter can return them as they are.
//
// Response headers only carry the revision; cluster_id, member_id and
// raft_term are filled in by the server.
package txn

import (
	"errors"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdgo/etcd/internal/mvcc"
)

// Store opens the store txns requests are evaluated in; mvcc.KV is one.
type Store interface {
	// Read opens a read txn.
	Read() mvcc.TxnRead
	// Write opens a write txn; all its writes share one revision.
	Write() mvcc.TxnWrite
}

// LeaseChecker tells whether a lease exists.
type LeaseChecker interface {
	LeaseExists(id int64) bool
}

// NoLeases is a LeaseChecker that knows no leases: every put with a lease is
// refused with rpctypes.ErrGRPCLeaseNotFound.
type NoLeases struct{}

// LeaseExists always reports false.
func (NoLeases) LeaseExists(int64) bool { return false }

// leaseExists reports whether lc knows lease id; a nil checker knows none.
func leaseExists(lc LeaseChecker, id int64) bool {
	return lc != nil && lc.LeaseExists(id)
}

// StoreError maps the MVCC store's errors to etcd's gRPC errors
// (rpctypes); other errors are returned unchanged.
func StoreError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mvcc.ErrCompacted):
		return rpctypes.ErrGRPCCompacted
	case errors.Is(err, mvcc.ErrFutureRev):
		return rpctypes.ErrGRPCFutureRev
	}
	return err
}

// rangeEnd converts a request's range_end to the store's convention: nil for
// a single key, the end otherwise ([]byte{0} meaning every key >= key).
func rangeEnd(end []byte) []byte {
	if len(end) == 0 {
		return nil
	}
	return end
}

// isFromKey reports whether end is the "\x00" sentinel meaning every key
// greater than or equal to the start key.
func isFromKey(end []byte) bool {
	return len(end) == 1 && end[0] == 0
}
