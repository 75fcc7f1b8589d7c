package server

import (
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdgo/etcd/internal/lease"
	"github.com/etcdgo/etcd/internal/mvcc"
	"github.com/etcdgo/etcd/internal/txn"
)

// applyLease applies a LeaseGrant, LeaseRevoke or LeaseCheckpoint entry.
// It runs under applyMu like every entry, so a revoke's key deletions and
// its lease bucket delete land in one backend commit.
func (s *Server) applyLease(r *pb.InternalRaftRequest) *applyResult {
	switch {
	case r.LeaseGrant != nil:
		l, err := s.lessor.Grant(r.LeaseGrant.GetID(), r.LeaseGrant.GetTTL())
		if err != nil {
			return &applyResult{err: leaseError(err)}
		}
		return &applyResult{resp: &pb.LeaseGrantResponse{
			Header: &pb.ResponseHeader{Revision: s.kv.Rev()}, ID: l.ID, TTL: l.TTL(),
		}}
	case r.LeaseRevoke != nil:
		err := s.lessor.Revoke(r.LeaseRevoke.GetID())
		return &applyResult{
			resp: &pb.LeaseRevokeResponse{Header: &pb.ResponseHeader{Revision: s.kv.Rev()}},
			err:  leaseError(err),
		}
	default:
		for _, c := range r.LeaseCheckpoint.GetCheckpoints() {
			if err := s.lessor.Checkpoint(c.GetID(), c.GetRemaining_TTL()); err != nil {
				return &applyResult{err: leaseError(err)}
			}
		}
		return &applyResult{resp: &pb.LeaseCheckpointResponse{Header: &pb.ResponseHeader{Revision: s.kv.Rev()}}}
	}
}

// promoteLessor promotes the lessor when this member leads and applies its
// term's first (empty) entry: everything of earlier terms is applied by then.
func (s *Server) promoteLessor() {
	if s.r.Leader() == s.id {
		s.lessor.Promote(s.electionTimeout())
	}
}

// leaseError maps the lessor's errors to etcd's gRPC errors.
func leaseError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, lease.ErrLeaseNotFound):
		return rpctypes.ErrGRPCLeaseNotFound
	case errors.Is(err, lease.ErrLeaseExists):
		return rpctypes.ErrGRPCLeaseExist
	case errors.Is(err, lease.ErrLeaseTTLTooLarge):
		return rpctypes.ErrGRPCLeaseTTLTooLarge
	case errors.Is(err, lease.ErrNotPrimary):
		return rpctypes.ErrGRPCNotLeader
	}
	return err
}

// leaseStore is the store KV requests are applied to: it hands every write
// txn's changes to the lessor, which attaches and detaches keys.
type leaseStore struct {
	kv txn.Store
	le lease.Lessor
}

func (ls leaseStore) Read() mvcc.TxnRead { return ls.kv.Read() }

func (ls leaseStore) Write() mvcc.TxnWrite { return &leaseTxn{TxnWrite: ls.kv.Write(), le: ls.le} }

type leaseTxn struct {
	mvcc.TxnWrite
	le lease.Lessor
}

// End tells the lessor about the changes while the txn still holds the
// store (the changes belong to the store's hook once it ends).
func (t *leaseTxn) End() {
	if ch := t.Changes(); len(ch) > 0 {
		t.le.ApplyChanges(ch)
	}
	t.TxnWrite.End()
}
