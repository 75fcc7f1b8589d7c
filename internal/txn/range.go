package txn

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdgo/etcd/internal/mvcc"
)

// ApplyRange evaluates r in a read txn of its own.
func ApplyRange(ctx context.Context, kv Store, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	tr := kv.Read()
	defer tr.End()
	return Range(ctx, tr, r)
}

// Range evaluates r on rv, as etcd does: revision filters (min/max
// mod/create revision) are applied to every key in range, then the keys are
// sorted, then limit is applied (more tells whether keys were left out).
// Count is the number of keys in range at the revision, before filtering.
// The header revision is the view's current revision, even for a read at an
// older revision.
func Range(ctx context.Context, rv mvcc.ReadView, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	sortOrder, err := effectiveSortOrder(r)
	if err != nil {
		return nil, err
	}

	limit := max(r.GetLimit(), 0)
	if r.GetSortOrder() != pb.RangeRequest_NONE ||
		r.GetMinModRevision() != 0 || r.GetMaxModRevision() != 0 ||
		r.GetMinCreateRevision() != 0 || r.GetMaxCreateRevision() != 0 {
		// Filters and sorting need every key; limit is applied afterwards.
		limit = 0
	}
	if limit > 0 {
		// One more key than asked tells whether there are more.
		limit++
	}

	rr, err := rv.Range(ctx, r.GetKey(), rangeEnd(r.GetRangeEnd()), mvcc.RangeOptions{
		Limit: limit,
		Rev:   r.GetRevision(),
		Count: r.GetCountOnly(),
	})
	if err != nil {
		return nil, StoreError(err)
	}

	kvs := filterKVs(rr.KVs, r)
	if sortOrder != pb.RangeRequest_NONE {
		sortKVs(kvs, r.GetSortTarget(), sortOrder)
	}

	resp := &pb.RangeResponse{
		Header: &pb.ResponseHeader{Revision: rr.Rev},
		Count:  int64(rr.Count),
	}
	if l := r.GetLimit(); l > 0 && int64(len(kvs)) > l {
		kvs = kvs[:l]
		resp.More = true
	}
	if r.GetKeysOnly() {
		// etcd v3.7 answers keys_only from its key index alone unless it
		// sorts by value, so such answers carry no lease either.
		keepLease := r.GetSortTarget() == pb.RangeRequest_VALUE
		for i, kv := range kvs {
			kvs[i] = withoutValue(kv, keepLease)
		}
	}
	resp.Kvs = kvs
	return resp, nil
}

// effectiveSortOrder returns the order to sort the keys in, NONE if the
// store's key order already is the answer. A target other than KEY with
// order NONE sorts ascending.
func effectiveSortOrder(r *pb.RangeRequest) (pb.RangeRequest_SortOrder, error) {
	order, target := r.GetSortOrder(), r.GetSortTarget()
	if _, ok := pb.RangeRequest_SortOrder_name[int32(order)]; !ok {
		return 0, rpctypes.ErrGRPCInvalidSortOption
	}
	if _, ok := pb.RangeRequest_SortTarget_name[int32(target)]; !ok {
		return 0, rpctypes.ErrGRPCInvalidSortOption
	}
	switch {
	case target != pb.RangeRequest_KEY && order == pb.RangeRequest_NONE:
		return pb.RangeRequest_ASCEND, nil
	case target == pb.RangeRequest_KEY && order == pb.RangeRequest_ASCEND:
		return pb.RangeRequest_NONE, nil
	}
	return order, nil
}

// filterKVs returns the kvs that pass r's revision filters, in a new slice.
func filterKVs(kvs []*mvccpb.KeyValue, r *pb.RangeRequest) []*mvccpb.KeyValue {
	minMod, maxMod := r.GetMinModRevision(), r.GetMaxModRevision()
	minCreate, maxCreate := r.GetMinCreateRevision(), r.GetMaxCreateRevision()
	out := make([]*mvccpb.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		switch {
		case maxMod != 0 && kv.ModRevision > maxMod,
			minMod != 0 && kv.ModRevision < minMod,
			maxCreate != 0 && kv.CreateRevision > maxCreate,
			minCreate != 0 && kv.CreateRevision < minCreate:
			continue
		}
		out = append(out, kv)
	}
	return out
}

// sortKVs sorts kvs by target in order (ASCEND or DESCEND). The sort is
// stable, so keys with equal targets stay in key order.
func sortKVs(kvs []*mvccpb.KeyValue, target pb.RangeRequest_SortTarget, order pb.RangeRequest_SortOrder) {
	var cmp func(a, b *mvccpb.KeyValue) int
	switch target {
	case pb.RangeRequest_KEY:
		cmp = func(a, b *mvccpb.KeyValue) int { return bytes.Compare(a.Key, b.Key) }
	case pb.RangeRequest_VERSION:
		cmp = func(a, b *mvccpb.KeyValue) int { return compareInt64(a.Version, b.Version) }
	case pb.RangeRequest_CREATE:
		cmp = func(a, b *mvccpb.KeyValue) int { return compareInt64(a.CreateRevision, b.CreateRevision) }
	case pb.RangeRequest_MOD:
		cmp = func(a, b *mvccpb.KeyValue) int { return compareInt64(a.ModRevision, b.ModRevision) }
	case pb.RangeRequest_VALUE:
		cmp = func(a, b *mvccpb.KeyValue) int { return bytes.Compare(a.Value, b.Value) }
	default:
		panic(fmt.Sprintf("txn: unexpected sort target %v", target))
	}
	if order == pb.RangeRequest_DESCEND {
		sort.SliceStable(kvs, func(i, j int) bool { return cmp(kvs[i], kvs[j]) > 0 })
		return
	}
	sort.SliceStable(kvs, func(i, j int) bool { return cmp(kvs[i], kvs[j]) < 0 })
}

// withoutValue returns a copy of kv without its value (the store's kv may be
// shared, so it is not modified).
func withoutValue(kv *mvccpb.KeyValue, keepLease bool) *mvccpb.KeyValue {
	out := &mvccpb.KeyValue{
		Key:            kv.Key,
		CreateRevision: kv.CreateRevision,
		ModRevision:    kv.ModRevision,
		Version:        kv.Version,
	}
	if keepLease {
		out.Lease = kv.Lease
	}
	return out
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
