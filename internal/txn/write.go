package txn

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdgo/etcd/internal/mvcc"
)

// ApplyPut evaluates r in a write txn of its own. Nothing is written if r
// fails.
func ApplyPut(ctx context.Context, kv Store, lc LeaseChecker, r *pb.PutRequest) (*pb.PutResponse, error) {
	if err := checkPutLease(lc, r); err != nil {
		return nil, err
	}
	tw := kv.Write()
	defer tw.End()
	return put(ctx, tw, r)
}

// Put evaluates r in tw: a lease other than 0 must exist
// (ErrGRPCLeaseNotFound); ignore_value and ignore_lease keep the key's
// current value and lease and need the key to exist (ErrGRPCKeyNotFound);
// prev_kv returns the key's previous state if it had one. The header
// revision is the revision of the write. Nothing is written if r fails.
func Put(ctx context.Context, tw mvcc.TxnWrite, lc LeaseChecker, r *pb.PutRequest) (*pb.PutResponse, error) {
	if err := checkPutLease(lc, r); err != nil {
		return nil, err
	}
	return put(ctx, tw, r)
}

func checkPutLease(lc LeaseChecker, r *pb.PutRequest) error {
	if id := r.GetLease(); id != 0 && !leaseExists(lc, id) {
		return rpctypes.ErrGRPCLeaseNotFound
	}
	return nil
}

// put writes r in tw, without checking the lease.
func put(ctx context.Context, tw mvcc.TxnWrite, r *pb.PutRequest) (*pb.PutResponse, error) {
	val, lease := r.GetValue(), r.GetLease()
	resp := &pb.PutResponse{}
	if r.GetIgnoreValue() || r.GetIgnoreLease() || r.GetPrevKv() {
		rr, err := tw.Range(ctx, r.GetKey(), nil, mvcc.RangeOptions{})
		if err != nil {
			return nil, StoreError(err)
		}
		if len(rr.KVs) == 0 {
			if r.GetIgnoreValue() || r.GetIgnoreLease() {
				return nil, rpctypes.ErrGRPCKeyNotFound
			}
		} else {
			prev := rr.KVs[0]
			if r.GetIgnoreValue() {
				val = prev.Value
			}
			if r.GetIgnoreLease() {
				lease = prev.Lease
			}
			if r.GetPrevKv() {
				resp.PrevKv = prev
			}
		}
	}
	resp.Header = &pb.ResponseHeader{Revision: tw.Put(r.GetKey(), val, lease)}
	return resp, nil
}

// ApplyDeleteRange evaluates r in a write txn of its own.
func ApplyDeleteRange(ctx context.Context, kv Store, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	tw := kv.Write()
	defer tw.End()
	return DeleteRange(ctx, tw, r)
}

// DeleteRange evaluates r in tw: deleted is the number of keys deleted,
// prev_kvs (with prev_kv) their last state. The header revision is the one
// the store reports for the delete (the txn's current revision if nothing
// was written).
func DeleteRange(ctx context.Context, tw mvcc.TxnWrite, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	end := rangeEnd(r.GetRangeEnd())
	resp := &pb.DeleteRangeResponse{}
	if r.GetPrevKv() {
		rr, err := tw.Range(ctx, r.GetKey(), end, mvcc.RangeOptions{})
		if err != nil {
			return nil, StoreError(err)
		}
		resp.PrevKvs = rr.KVs
	}
	n, rev := tw.DeleteRange(r.GetKey(), end)
	resp.Deleted = n
	resp.Header = &pb.ResponseHeader{Revision: rev}
	return resp, nil
}
