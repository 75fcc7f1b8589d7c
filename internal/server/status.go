package server

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/version"

	"github.com/etcdgo/etcd/internal/mvcc"
	"github.com/etcdgo/etcd/internal/txn"
)

// DefaultQuotaBytes is the backend quota when --quota-backend-bytes is 0.
const DefaultQuotaBytes = 2 << 30

// Status answers Maintenance.Status.
func (s *Server) Status(ctx context.Context) (*pb.StatusResponse, error) {
	quota := s.cfg.QuotaBackendBytes
	if quota <= 0 {
		quota = DefaultQuotaBytes
	}
	self := s.cluster.Member(s.id)
	return &pb.StatusResponse{
		Header:           s.Header(),
		Version:          version.Version,
		DbSize:           s.be.Size(),
		DbSizeInUse:      s.be.SizeInUse(),
		Leader:           s.r.Leader(),
		RaftIndex:        s.r.CommittedIndex(),
		RaftTerm:         s.r.Term(),
		RaftAppliedIndex: s.consistIndex.Load(),
		IsLearner:        self != nil && self.IsLearner,
		DbSizeQuota:      quota,
		StorageVersion:   s.StorageVersion(),
		DowngradeInfo:    &pb.DowngradeInfo{},
		Errors:           s.statusErrors(),
	}, nil
}

// MemberList answers Cluster.MemberList; a linearizable request first
// catches up with the leader.
func (s *Server) MemberList(ctx context.Context, linearizable bool) (*pb.MemberListResponse, error) {
	if linearizable {
		if err := s.linearizableReadNotify(ctx); err != nil {
			return nil, err
		}
	}
	return &pb.MemberListResponse{Header: s.clusterHeader(), Members: s.protoMembers()}, nil
}

// HashKV answers Maintenance.HashKV: etcd's hash of the keyspace at rev.
func (s *Server) HashKV(ctx context.Context, rev int64) (*pb.HashKVResponse, error) {
	var h mvcc.KeyValueHash
	err := s.useStore(func() (err error) {
		h, err = s.kv.HashByRev(rev)
		return txn.StoreError(err)
	})
	if err != nil {
		return nil, err
	}
	return &pb.HashKVResponse{
		Header:          s.Header(),
		Hash:            h.Hash,
		CompactRevision: h.CompactRevision,
		HashRevision:    h.Revision,
	}, nil
}
