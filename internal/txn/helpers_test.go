package txn

import (
	"context"
	"errors"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// testStore is a store the tests can run against: the fake, and the real
// mvcc store.
type testStore interface {
	Store
	compact(t *testing.T, rev int64)
}

type storeFactory struct {
	name string
	open func(t *testing.T) testStore
}

// storeFactories lists the stores every store test runs against.
var storeFactories = []storeFactory{
	{"fake", func(*testing.T) testStore { return newFakeStore() }},
}

func forEachStore(t *testing.T, f func(t *testing.T, s testStore)) {
	t.Helper()
	for _, sf := range storeFactories {
		t.Run(sf.name, func(t *testing.T) { f(t, sf.open(t)) })
	}
}

// leases is a LeaseChecker knowing the leases in the set.
type leases map[int64]bool

func (l leases) LeaseExists(id int64) bool { return l[id] }

var testLeases = leases{100: true, 200: true}

func storeRev(s Store) int64 {
	r := s.Read()
	defer r.End()
	return r.Rev()
}

func mustPut(t *testing.T, s Store, key, val string, lease int64) int64 {
	t.Helper()
	resp, err := ApplyPut(context.Background(), s, testLeases, &pb.PutRequest{Key: []byte(key), Value: []byte(val), Lease: lease})
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	return resp.Header.Revision
}

func mustDelete(t *testing.T, s Store, key, end string) {
	t.Helper()
	if _, err := ApplyDeleteRange(context.Background(), s, &pb.DeleteRangeRequest{Key: []byte(key), RangeEnd: []byte(end)}); err != nil {
		t.Fatalf("delete %q: %v", key, err)
	}
}

// get returns key's current state, nil if it does not exist.
func get(t *testing.T, s Store, key string) *mvccpb.KeyValue {
	t.Helper()
	resp, err := ApplyRange(context.Background(), s, &pb.RangeRequest{Key: []byte(key)})
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil
	}
	return resp.Kvs[0]
}

func wantErr(t *testing.T, got, want error) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Fatalf("unexpected error %v", got)
		}
		return
	}
	// The gRPC adapter returns these errors as they are: identity, not
	// errors.Is, is what matters.
	if got != want { //nolint:errorlint
		t.Fatalf("error = %v, want %v (errors.Is=%v)", got, want, errors.Is(got, want))
	}
}

func keysOf(kvs []*mvccpb.KeyValue) []string {
	out := []string{}
	for _, kv := range kvs {
		out = append(out, string(kv.Key))
	}
	return out
}

func rangeOp(r *pb.RangeRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: r}}
}

func getOp(key string) *pb.RequestOp { return rangeOp(&pb.RangeRequest{Key: []byte(key)}) }

func putOp(key, val string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte(key), Value: []byte(val)}}}
}

func putReqOp(r *pb.PutRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: r}}
}

func delOp(key, end string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte(key), RangeEnd: []byte(end)}}}
}

func txnOp(r *pb.TxnRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestTxn{RequestTxn: r}}
}

func ops(o ...*pb.RequestOp) []*pb.RequestOp { return o }

func cmpVersion(key string, res pb.Compare_CompareResult, v int64) *pb.Compare {
	return &pb.Compare{Key: []byte(key), Target: pb.Compare_VERSION, Result: res, TargetUnion: &pb.Compare_Version{Version: v}}
}
