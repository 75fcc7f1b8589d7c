package v3rpc

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

type clusterServer struct {
	pb.UnimplementedClusterServer
	m Member
}

func (s *clusterServer) MemberList(ctx context.Context, r *pb.MemberListRequest) (*pb.MemberListResponse, error) {
	resp, err := s.m.MemberList(ctx, r.GetLinearizable())
	return resp, toGRPCError(err)
}

func (s *clusterServer) MemberAdd(ctx context.Context, r *pb.MemberAddRequest) (*pb.MemberAddResponse, error) {
	resp, err := s.m.AddMember(ctx, r.GetPeerURLs(), r.GetIsLearner())
	return resp, toGRPCError(err)
}

func (s *clusterServer) MemberRemove(ctx context.Context, r *pb.MemberRemoveRequest) (*pb.MemberRemoveResponse, error) {
	resp, err := s.m.RemoveMember(ctx, r.GetID())
	return resp, toGRPCError(err)
}

func (s *clusterServer) MemberUpdate(ctx context.Context, r *pb.MemberUpdateRequest) (*pb.MemberUpdateResponse, error) {
	resp, err := s.m.UpdateMember(ctx, r.GetID(), r.GetPeerURLs())
	return resp, toGRPCError(err)
}

func (s *clusterServer) MemberPromote(ctx context.Context, r *pb.MemberPromoteRequest) (*pb.MemberPromoteResponse, error) {
	resp, err := s.m.PromoteMember(ctx, r.GetID())
	return resp, toGRPCError(err)
}
