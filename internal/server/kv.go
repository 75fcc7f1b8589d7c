package server

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdgo/etcd/internal/txn"
)

// Range reads keys: a serializable request from the local store as it is, a
// linearizable one after this member has caught up with the leader's commit
// index.
func (s *Server) Range(ctx context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	if !r.GetSerializable() {
		if err := s.linearizableReadNotify(ctx); err != nil {
			return nil, err
		}
	}
	var resp *pb.RangeResponse
	err := s.useStore(func() (err error) {
		rt := s.kv.Read()
		defer rt.End()
		resp, err = txn.Range(ctx, rt, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.fillHeader(resp.Header)
	return resp, nil
}

// Put writes a key through raft.
func (s *Server) Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error) {
	res, err := s.proposeAndResult(ctx, &pb.InternalRaftRequest{Put: r})
	if err != nil {
		return nil, err
	}
	resp := res.(*pb.PutResponse)
	s.fillHeader(resp.Header)
	return resp, nil
}

// DeleteRange deletes keys through raft.
func (s *Server) DeleteRange(ctx context.Context, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	res, err := s.proposeAndResult(ctx, &pb.InternalRaftRequest{DeleteRange: r})
	if err != nil {
		return nil, err
	}
	resp := res.(*pb.DeleteRangeResponse)
	s.fillHeader(resp.Header)
	return resp, nil
}

// Txn runs a transaction: a read-only one on the local store (after a read
// index round unless every range in it is serializable), one that may write
// through raft.
func (s *Server) Txn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	if txn.IsTxnReadOnly(r) {
		if !isTxnSerializable(r) {
			if err := s.linearizableReadNotify(ctx); err != nil {
				return nil, err
			}
		}
		var resp *pb.TxnResponse
		err := s.useStore(func() (err error) {
			resp, err = txn.Txn(ctx, s.kv, txn.NoLeases{}, r)
			return err
		})
		if err != nil {
			return nil, err
		}
		s.fillHeader(resp.Header)
		return resp, nil
	}
	res, err := s.proposeAndResult(ctx, &pb.InternalRaftRequest{Txn: r})
	if err != nil {
		return nil, err
	}
	resp := res.(*pb.TxnResponse)
	s.fillHeader(resp.Header)
	return resp, nil
}

// Compact compacts the key history up to a revision; with physical set it
// returns only once the compaction is on disk.
func (s *Server) Compact(ctx context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	res, err := s.propose(ctx, &pb.InternalRaftRequest{Compaction: r})
	if err != nil {
		return nil, err
	}
	if res.err != nil {
		return nil, res.err
	}
	if r.GetPhysical() && res.physc != nil {
		select {
		case <-res.physc:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.stopping:
			return nil, rpctypes.ErrGRPCStopped
		}
	}
	resp := res.resp.(*pb.CompactionResponse)
	s.fillHeader(resp.Header)
	return resp, nil
}

func (s *Server) proposeAndResult(ctx context.Context, r *pb.InternalRaftRequest) (any, error) {
	res, err := s.propose(ctx, r)
	if err != nil {
		return nil, err
	}
	if res.err != nil {
		return nil, res.err
	}
	return res.resp, nil
}

// isTxnSerializable tells whether every range of a read-only txn asks for a
// serializable read, as etcd decides.
func isTxnSerializable(r *pb.TxnRequest) bool {
	for _, ops := range [][]*pb.RequestOp{r.GetSuccess(), r.GetFailure()} {
		for _, u := range ops {
			if rr := u.GetRequestRange(); rr == nil || !rr.GetSerializable() {
				return false
			}
		}
	}
	return true
}

// fillHeader completes a response header with the member's identity and the
// raft term; the revision is set by whoever produced the response.
func (s *Server) fillHeader(h *pb.ResponseHeader) {
	if h == nil {
		return
	}
	h.ClusterId = s.cluster.ID()
	h.MemberId = s.id
	h.RaftTerm = s.r.Term()
}

// Header returns a header at the store's current revision.
func (s *Server) Header() *pb.ResponseHeader {
	h := &pb.ResponseHeader{Revision: s.kv.Rev()}
	s.fillHeader(h)
	return h
}
