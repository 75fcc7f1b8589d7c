package server

import (
	"context"
	"errors"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/raft/v3"
	"google.golang.org/protobuf/proto"
)

// maxApplyLag bounds how far the committed index may run ahead of the applied
// index before new proposals are refused, as etcd does.
const maxApplyLag = 5000

// propose sends r through raft and waits until it is applied, returning the
// result of applying it.
func (s *Server) propose(ctx context.Context, r *pb.InternalRaftRequest) (*applyResult, error) {
	if s.r.CommittedIndex() > s.consistIndex.Load()+maxApplyLag {
		return nil, rpctypes.ErrGRPCRequestTooManyRequests
	}
	if err := s.checkQuota(ctx, r); err != nil {
		return nil, err
	}
	id := s.reqIDs.Next()
	r.Header = &pb.RequestHeader{ID: id}
	data, err := proto.Marshal(r)
	if err != nil {
		return nil, err
	}
	if uint(len(data)) > s.cfg.MaxRequestBytes {
		return nil, rpctypes.ErrGRPCRequestTooLarge
	}
	ch := s.w.Register(id)
	cctx, cancel := context.WithTimeout(ctx, s.reqTimeout())
	defer cancel()
	start := time.Now()
	defer s.proposals.track()()
	if err := s.r.Propose(cctx, data); err != nil {
		s.w.Trigger(id, nil)
		return nil, s.proposeError(ctx, cctx, err, start)
	}
	select {
	case x := <-ch:
		res, _ := x.(*applyResult)
		if res == nil {
			return nil, rpctypes.ErrGRPCStopped
		}
		return res, nil
	case <-cctx.Done():
		s.w.Trigger(id, nil)
		return nil, s.proposeError(ctx, cctx, cctx.Err(), start)
	case <-s.stopping:
		return nil, rpctypes.ErrGRPCStopped
	}
}

// proposeError turns a failed proposal into etcd's error.
func (s *Server) proposeError(ctx, cctx context.Context, err error, start time.Time) error {
	s.proposals.failed.Add(1)
	switch {
	case errors.Is(err, raft.ErrProposalDropped):
		if s.r.Leader() == 0 {
			return rpctypes.ErrGRPCNoLeader
		}
		return rpctypes.ErrGRPCLeaderChanged
	case ctx.Err() != nil:
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return rpctypes.ErrGRPCDeadlineExceeded
		}
		return rpctypes.ErrGRPCCanceled
	case errors.Is(err, raft.ErrStopped):
		return rpctypes.ErrGRPCStopped
	case cctx.Err() != nil:
		if s.r.Leader() == 0 {
			return rpctypes.ErrGRPCNoLeader
		}
		s.lg.Warn("proposal timed out", "took", time.Since(start))
		return rpctypes.ErrGRPCTimeout
	default:
		return err
	}
}
