package txn

import (
	"context"
	"fmt"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

func benchStore(b *testing.B, keys int) testStore {
	b.Helper()
	s := openRealStore(b)
	for i := range keys {
		if _, err := ApplyPut(context.Background(), s, nil, &pb.PutRequest{Key: fmt.Appendf(nil, "key/%06d", i), Value: fmt.Appendf(nil, "%d", keys-i)}); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func BenchmarkRangeSortedLimit(b *testing.B) {
	s := benchStore(b, 1000)
	req := &pb.RangeRequest{Key: []byte("key/"), RangeEnd: []byte("key0"), SortTarget: pb.RangeRequest_VALUE, SortOrder: pb.RangeRequest_DESCEND, Limit: 10}
	b.ResetTimer()
	for b.Loop() {
		if _, err := ApplyRange(context.Background(), s, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTxnCompareAndPut(b *testing.B) {
	s := benchStore(b, 100)
	req := &pb.TxnRequest{
		Compare: []*pb.Compare{cmpVersion("key/000001", pb.Compare_GREATER, 0)},
		Success: ops(putOp("key/000001", "v"), getOp("key/000002")),
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Txn(context.Background(), s, nil, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckTxn(b *testing.B) {
	var succ []*pb.RequestOp
	for i := range 64 {
		succ = append(succ, putOp(fmt.Sprintf("p%03d", i), "v"), delOp(fmt.Sprintf("d%03d", i), fmt.Sprintf("d%03d\x00", i)))
	}
	req := &pb.TxnRequest{Success: succ}
	for b.Loop() {
		if err := CheckTxn(req, 128); err != nil {
			b.Fatal(err)
		}
	}
}
