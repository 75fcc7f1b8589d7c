package v3rpc

import (
	"context"
	"errors"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc"
)

// LeaseMember is what the Lease service needs of a member. Errors are
// etcd's rpctypes; an unknown lease is rpctypes.ErrGRPCLeaseNotFound.
type LeaseMember interface {
	LeaseGrant(ctx context.Context, r *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error)
	LeaseRevoke(ctx context.Context, r *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error)
	// LeaseRenew renews lease id and returns its TTL.
	LeaseRenew(ctx context.Context, id int64) (int64, error)
	LeaseTimeToLive(ctx context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error)
	LeaseLeases(ctx context.Context, r *pb.LeaseLeasesRequest) (*pb.LeaseLeasesResponse, error)
	Header() *pb.ResponseHeader
}

// registerLease registers the Lease service: served if m is a LeaseMember,
// codes.Unimplemented otherwise.
func registerLease(gs *grpc.Server, m Member) {
	if lm, ok := m.(LeaseMember); ok {
		pb.RegisterLeaseServer(gs, &leaseServer{m: lm})
		return
	}
	pb.RegisterLeaseServer(gs, pb.UnimplementedLeaseServer{})
}

type leaseServer struct {
	pb.UnimplementedLeaseServer
	m LeaseMember
}

func (s *leaseServer) LeaseGrant(ctx context.Context, r *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	resp, err := s.m.LeaseGrant(ctx, r)
	return resp, toGRPCError(err)
}

func (s *leaseServer) LeaseRevoke(ctx context.Context, r *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	resp, err := s.m.LeaseRevoke(ctx, r)
	return resp, toGRPCError(err)
}

// LeaseTimeToLive answers TTL -1 for an unknown lease, as etcd.
func (s *leaseServer) LeaseTimeToLive(ctx context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	resp, err := s.m.LeaseTimeToLive(ctx, r)
	if errors.Is(err, rpctypes.ErrGRPCLeaseNotFound) {
		return &pb.LeaseTimeToLiveResponse{Header: s.m.Header(), ID: r.GetID(), TTL: -1}, nil
	}
	return resp, toGRPCError(err)
}

func (s *leaseServer) LeaseLeases(ctx context.Context, r *pb.LeaseLeasesRequest) (*pb.LeaseLeasesResponse, error) {
	resp, err := s.m.LeaseLeases(ctx, r)
	return resp, toGRPCError(err)
}

// LeaseKeepAlive renews leases as the client asks, one answer per request.
// The receive loop runs in its own goroutine so that a cancelled stream
// returns at once; the loop ends when the stream does.
func (s *leaseServer) LeaseKeepAlive(stream pb.Lease_LeaseKeepAliveServer) error {
	errc := make(chan error, 1)
	go func() { errc <- s.keepAlive(stream) }()
	select {
	case err := <-errc:
		return err
	case <-stream.Context().Done():
		err := stream.Context().Err()
		if errors.Is(err, context.Canceled) {
			return rpctypes.ErrGRPCNoLeader
		}
		return toGRPCError(err)
	}
}

func (s *leaseServer) keepAlive(stream pb.Lease_LeaseKeepAliveServer) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		// The header is taken before renewing, so its revision is never
		// after a revocation of the lease that the renewal did not see.
		resp := &pb.LeaseKeepAliveResponse{ID: req.GetID(), Header: s.m.Header()}
		ttl, err := s.m.LeaseRenew(stream.Context(), req.GetID())
		switch {
		case errors.Is(err, rpctypes.ErrGRPCLeaseNotFound):
			ttl = 0
		case err != nil:
			return toGRPCError(err)
		}
		resp.TTL = ttl
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}
