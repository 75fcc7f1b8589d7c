package server

import (
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

func TestQuotaCostAsEtcd(t *testing.T) {
	put := func(k, v string) *pb.RequestOp {
		return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte(k), Value: []byte(v)}}}
	}
	get := &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("k")}}}
	for _, c := range []struct {
		r    *pb.InternalRaftRequest
		want int
	}{
		{&pb.InternalRaftRequest{Put: &pb.PutRequest{Key: []byte("ab"), Value: []byte("cde")}}, 256 + 5},
		{&pb.InternalRaftRequest{LeaseGrant: &pb.LeaseGrantRequest{TTL: 5}}, 64},
		{&pb.InternalRaftRequest{DeleteRange: &pb.DeleteRangeRequest{Key: []byte("k")}}, 0},
		{&pb.InternalRaftRequest{Compaction: &pb.CompactionRequest{Revision: 3}}, 0},
		// The costlier branch counts; a nested txn counts its puts.
		{&pb.InternalRaftRequest{Txn: &pb.TxnRequest{
			Success: []*pb.RequestOp{put("a", "b"), get},
			Failure: []*pb.RequestOp{{Request: &pb.RequestOp_RequestTxn{RequestTxn: &pb.TxnRequest{
				Success: []*pb.RequestOp{put("a", "b"), put("c", "d")},
			}}}},
		}}, 2 * 258},
		{&pb.InternalRaftRequest{Txn: &pb.TxnRequest{Success: []*pb.RequestOp{get}}}, 0},
	} {
		if got := quotaCost(c.r); got != c.want {
			t.Errorf("cost of %v = %d, want %d", c.r, got, c.want)
		}
	}
}
