package v3rpc

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdgo/etcd/internal/txn"
)

type kvServer struct {
	pb.UnimplementedKVServer
	m         Member
	maxTxnOps int
}

func (s *kvServer) Range(ctx context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	if err := txn.CheckRange(r); err != nil {
		return nil, err
	}
	resp, err := s.m.Range(ctx, r)
	return resp, toGRPCError(err)
}

func (s *kvServer) Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error) {
	if err := txn.CheckPut(r); err != nil {
		return nil, err
	}
	resp, err := s.m.Put(ctx, r)
	return resp, toGRPCError(err)
}

func (s *kvServer) DeleteRange(ctx context.Context, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	if err := txn.CheckDeleteRange(r); err != nil {
		return nil, err
	}
	resp, err := s.m.DeleteRange(ctx, r)
	return resp, toGRPCError(err)
}

func (s *kvServer) Txn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	if err := txn.CheckTxn(r, s.maxTxnOps); err != nil {
		return nil, err
	}
	resp, err := s.m.Txn(ctx, r)
	return resp, toGRPCError(err)
}

func (s *kvServer) Compact(ctx context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	resp, err := s.m.Compact(ctx, r)
	return resp, toGRPCError(err)
}
