package txn

import (
	"bytes"
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdgo/etcd/internal/mvcc"
)

// txnPath records the outcome of a txn's compares and, for each nested txn
// of the chosen branch (in order), the path taken there.
type txnPath struct {
	succeeded bool
	nested    []*txnPath
}

// branch returns the ops r runs when its compares give succeeded.
func branch(r *pb.TxnRequest, succeeded bool) []*pb.RequestOp {
	if succeeded {
		return r.GetSuccess()
	}
	return r.GetFailure()
}

// comparePath evaluates the compares of r and of every nested txn on the
// chosen branches, all against rv before any op runs (as etcd does: a nested
// txn does not see the writes of the ops before it).
func comparePath(ctx context.Context, rv mvcc.ReadView, r *pb.TxnRequest) *txnPath {
	p := &txnPath{succeeded: applyCompares(ctx, rv, r.GetCompare())}
	for _, op := range branch(r, p.succeeded) {
		if t, ok := op.GetRequest().(*pb.RequestOp_RequestTxn); ok {
			p.nested = append(p.nested, comparePath(ctx, rv, t.RequestTxn))
		}
	}
	return p
}

func applyCompares(ctx context.Context, rv mvcc.ReadView, cmps []*pb.Compare) bool {
	for _, c := range cmps {
		if !applyCompare(ctx, rv, c) {
			return false
		}
	}
	return true
}

// applyCompare reports whether c holds: every key of its range must satisfy
// it. With no key in range, the compare is made against a key with zero
// revisions, version and lease, except a VALUE compare, which fails. A read
// error fails the compare.
func applyCompare(ctx context.Context, rv mvcc.ReadView, c *pb.Compare) bool {
	rr, err := rv.Range(ctx, c.GetKey(), rangeEnd(c.GetRangeEnd()), mvcc.RangeOptions{})
	if err != nil {
		return false
	}
	if len(rr.KVs) == 0 {
		if c.GetTarget() == pb.Compare_VALUE {
			// A missing value cannot be told from an empty one on the wire.
			return false
		}
		return compareKV(c, &mvccpb.KeyValue{})
	}
	for _, kv := range rr.KVs {
		if !compareKV(c, kv) {
			return false
		}
	}
	return true
}

// compareKV compares kv's target field with c's operand (zero if c carries
// another target's operand). An unknown result holds, as in etcd.
func compareKV(c *pb.Compare, kv *mvccpb.KeyValue) bool {
	var result int
	switch c.GetTarget() {
	case pb.Compare_VALUE:
		result = bytes.Compare(kv.Value, c.GetValue())
	case pb.Compare_CREATE:
		result = compareInt64(kv.CreateRevision, c.GetCreateRevision())
	case pb.Compare_MOD:
		result = compareInt64(kv.ModRevision, c.GetModRevision())
	case pb.Compare_VERSION:
		result = compareInt64(kv.Version, c.GetVersion())
	case pb.Compare_LEASE:
		result = compareInt64(kv.Lease, c.GetLease())
	}
	switch c.GetResult() {
	case pb.Compare_EQUAL:
		return result == 0
	case pb.Compare_NOT_EQUAL:
		return result != 0
	case pb.Compare_GREATER:
		return result > 0
	case pb.Compare_LESS:
		return result < 0
	}
	return true
}
