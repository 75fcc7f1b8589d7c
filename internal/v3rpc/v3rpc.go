// Package v3rpc is the etcd v3 gRPC API of a member: it validates requests
// the way etcd does, calls into the server, and answers with etcd's gRPC
// errors. It holds no business logic. Services that later work will fill
// (Watch, Lease, Auth, parts of Cluster and Maintenance) answer
// codes.Unimplemented rather than pretending to succeed.
package v3rpc

import (
	"context"
	"math"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/mvcc"
)

// Member is what the gRPC services need of a running member.
type Member interface {
	Range(ctx context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error)
	Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error)
	DeleteRange(ctx context.Context, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error)
	Txn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error)
	Compact(ctx context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error)

	Status(ctx context.Context) (*pb.StatusResponse, error)
	HashKV(ctx context.Context, rev int64) (*pb.HashKVResponse, error)
	MemberList(ctx context.Context, linearizable bool) (*pb.MemberListResponse, error)
	AddMember(ctx context.Context, peerURLs []string, isLearner bool) (*pb.MemberAddResponse, error)
	RemoveMember(ctx context.Context, id uint64) (*pb.MemberRemoveResponse, error)
	UpdateMember(ctx context.Context, id uint64, peerURLs []string) (*pb.MemberUpdateResponse, error)
	PromoteMember(ctx context.Context, id uint64) (*pb.MemberPromoteResponse, error)
	// MoveLeader hands leadership to member target; only the leader may.
	MoveLeader(ctx context.Context, target uint64) (*pb.MoveLeaderResponse, error)
	// IsLearner reports whether this member is a learner, which serves
	// only serializable reads, Status and snapshots.
	IsLearner() bool
	Header() *pb.ResponseHeader
	StorageVersion() string
	Backend() backend.Backend
	// Watchable is the member's store, for the Watch service.
	Watchable() *mvcc.WatchableStore
}

// Config tunes the gRPC server.
type Config struct {
	// MaxRequestBytes is --max-request-bytes; gRPC accepts messages up to it
	// plus a margin, so that the member itself can answer "request is too
	// large" with etcd's error.
	MaxRequestBytes uint
	// MaxTxnOps is --max-txn-ops.
	MaxTxnOps uint
	// WatchProgressNotifyInterval is how often watchers that asked for
	// progress notifications get one (0: etcd's 10 minutes).
	WatchProgressNotifyInterval time.Duration
	// UnaryInterceptors and StreamInterceptors wrap every call, first one
	// outermost (the gRPC metrics).
	UnaryInterceptors  []grpc.UnaryServerInterceptor
	StreamInterceptors []grpc.StreamServerInterceptor
}

// grpcOverheadBytes is the margin above MaxRequestBytes that gRPC accepts.
const grpcOverheadBytes = 512 * 1024

// NewServer returns a gRPC server with every etcd v3 service registered.
func NewServer(m Member, cfg Config) *grpc.Server {
	gs := grpc.NewServer(
		grpc.MaxRecvMsgSize(int(cfg.MaxRequestBytes)+grpcOverheadBytes),
		grpc.MaxSendMsgSize(math.MaxInt32),
		grpc.MaxConcurrentStreams(math.MaxUint32),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: false}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 2 * time.Hour, Timeout: 20 * time.Second}),
		grpc.ChainUnaryInterceptor(append([]grpc.UnaryServerInterceptor{learnerUnary(m)}, cfg.UnaryInterceptors...)...),
		grpc.ChainStreamInterceptor(append([]grpc.StreamServerInterceptor{learnerStream(m)}, cfg.StreamInterceptors...)...),
	)
	pb.RegisterKVServer(gs, &kvServer{m: m, maxTxnOps: int(cfg.MaxTxnOps)})
	pb.RegisterMaintenanceServer(gs, &maintenanceServer{m: m})
	pb.RegisterClusterServer(gs, &clusterServer{m: m})
	pb.RegisterWatchServer(gs, newWatchServer(m, cfg))
	registerLease(gs, m)
	pb.RegisterAuthServer(gs, pb.UnimplementedAuthServer{})
	return gs
}
