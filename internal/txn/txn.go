package txn

import (
	"context"
	"errors"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdgo/etcd/internal/mvcc"
)

// errWriteInReadTxn reports a write op reached in a read txn, which
// IsTxnReadOnly rules out.
var errWriteInReadTxn = errors.New("txn: write op in a read-only txn")

// Txn evaluates r in one store txn: a read txn if r is read-only
// (IsTxnReadOnly), a write txn otherwise. All compares, nested ones
// included, are evaluated first against the state before the txn; then the
// ops of the chosen branches are checked (range revisions, sort options,
// ignore_value/ignore_lease keys, leases) so that a failing request writes
// nothing; then they run in order, nested txns in place, all writes sharing
// one revision.
//
// The header revision is the txn's revision: the store's revision plus one if
// anything was written. Inner Range/Put/DeleteRange responses carry their own
// header revision; nested TxnResponses carry an empty header, as in etcd.
//
// r should have passed CheckTxn (the gRPC adapter's job). Reads inside a
// write txn see the txn's earlier writes (mvcc's semantics, as in etcd: a
// range after a put sees the new value at the txn's revision, a range after a
// delete no longer sees the key). CheckTxn rejects a key put twice or put and
// deleted, so an op the checks above passed cannot fail later (say, an
// ignore_value put of a key deleted earlier in the txn); if one does after
// writes began, Txn panics, as etcd does, rather than commit half a txn.
func Txn(ctx context.Context, kv Store, lc LeaseChecker, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	if IsTxnReadOnly(r) {
		tr := kv.Read()
		defer tr.End()
		resp, err := runTxn(ctx, tr, nil, lc, r)
		if err != nil {
			return nil, err
		}
		resp.Header.Revision = tr.Rev()
		return resp, nil
	}

	tw := kv.Write()
	defer tw.End()
	// Once writing, the txn must run to the end whatever the caller does.
	resp, err := runTxn(context.WithoutCancel(ctx), tw, tw, lc, r)
	if err != nil {
		if len(tw.Changes()) != 0 {
			panic(fmt.Sprintf("txn: write txn failed after writing: %v", err))
		}
		return nil, err
	}
	rev := tw.Rev()
	if len(tw.Changes()) != 0 {
		rev++
	}
	resp.Header.Revision = rev
	return resp, nil
}

// runTxn evaluates, checks and executes r on rv; tw is nil in a read txn.
func runTxn(ctx context.Context, rv mvcc.ReadView, tw mvcc.TxnWrite, lc LeaseChecker, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	path := comparePath(ctx, rv, r)
	if err := checkOps(ctx, rv, lc, r, path); err != nil {
		return nil, err
	}
	return executeTxn(ctx, rv, tw, r, path)
}

// checkOps checks the ops of the branches path takes before any runs, so
// that a failing txn writes nothing.
func checkOps(ctx context.Context, rv mvcc.ReadView, lc LeaseChecker, r *pb.TxnRequest, path *txnPath) error {
	nested := path.nested
	for _, op := range branch(r, path.succeeded) {
		switch tv := op.GetRequest().(type) {
		case *pb.RequestOp_RequestRange:
			if err := checkRangeOp(rv, tv.RequestRange); err != nil {
				return err
			}
		case *pb.RequestOp_RequestPut:
			if err := checkPutOp(ctx, rv, lc, tv.RequestPut); err != nil {
				return err
			}
		case *pb.RequestOp_RequestTxn:
			if err := checkOps(ctx, rv, lc, tv.RequestTxn, nested[0]); err != nil {
				return err
			}
			nested = nested[1:]
		}
	}
	return nil
}

func checkRangeOp(rv mvcc.ReadView, r *pb.RangeRequest) error {
	if _, err := effectiveSortOrder(r); err != nil {
		return err
	}
	switch rev := r.GetRevision(); {
	case rev <= 0:
		return nil
	case rev > rv.Rev():
		return rpctypes.ErrGRPCFutureRev
	case rev < rv.FirstRev():
		return rpctypes.ErrGRPCCompacted
	}
	return nil
}

func checkPutOp(ctx context.Context, rv mvcc.ReadView, lc LeaseChecker, r *pb.PutRequest) error {
	if r.GetIgnoreValue() || r.GetIgnoreLease() {
		rr, err := rv.Range(ctx, r.GetKey(), nil, mvcc.RangeOptions{Count: true})
		if err != nil {
			return StoreError(err)
		}
		if rr.Count == 0 {
			return rpctypes.ErrGRPCKeyNotFound
		}
	}
	return checkPutLease(lc, r)
}

// executeTxn runs the ops of the branch path takes, in order.
func executeTxn(ctx context.Context, rv mvcc.ReadView, tw mvcc.TxnWrite, r *pb.TxnRequest, path *txnPath) (*pb.TxnResponse, error) {
	reqs := branch(r, path.succeeded)
	resp := &pb.TxnResponse{
		Header:    &pb.ResponseHeader{},
		Succeeded: path.succeeded,
		Responses: make([]*pb.ResponseOp, len(reqs)),
	}
	nested := path.nested
	for i, op := range reqs {
		out := &pb.ResponseOp{}
		switch tv := op.GetRequest().(type) {
		case *pb.RequestOp_RequestRange:
			rr, err := Range(ctx, rv, tv.RequestRange)
			if err != nil {
				return nil, err
			}
			out.Response = &pb.ResponseOp_ResponseRange{ResponseRange: rr}
		case *pb.RequestOp_RequestPut:
			if tw == nil {
				return nil, errWriteInReadTxn
			}
			pr, err := put(ctx, tw, tv.RequestPut)
			if err != nil {
				return nil, err
			}
			out.Response = &pb.ResponseOp_ResponsePut{ResponsePut: pr}
		case *pb.RequestOp_RequestDeleteRange:
			if tw == nil {
				return nil, errWriteInReadTxn
			}
			dr, err := DeleteRange(ctx, tw, tv.RequestDeleteRange)
			if err != nil {
				return nil, err
			}
			out.Response = &pb.ResponseOp_ResponseDeleteRange{ResponseDeleteRange: dr}
		case *pb.RequestOp_RequestTxn:
			tr, err := executeTxn(ctx, rv, tw, tv.RequestTxn, nested[0])
			if err != nil {
				return nil, err
			}
			nested = nested[1:]
			out.Response = &pb.ResponseOp_ResponseTxn{ResponseTxn: tr}
		}
		resp.Responses[i] = out
	}
	return resp, nil
}
