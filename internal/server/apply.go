package server

import (
	"context"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/failpoint"
	"github.com/etcdgo/etcd/internal/raftnode"
	"github.com/etcdgo/etcd/internal/txn"
)

// applyResult is what the apply path hands back to the proposer of an entry.
type applyResult struct {
	resp proto.Message
	err  error
	// physc, for a compaction, is closed when it is on disk.
	physc <-chan struct{}
	// index, for a conf change, is the index of its entry.
	index uint64
}

// applyLoop applies committed work in log order until the server stops.
func (s *Server) applyLoop() {
	defer s.wg.Done()
	for {
		select {
		case ap := <-s.r.Apply():
			if err := s.applyAll(ap); err != nil {
				s.lg.Error("apply failed; stopping the member", "error", err)
				s.requestStop()
				return
			}
		case <-s.stopping:
			return
		}
	}
}

func (s *Server) applyAll(ap raftnode.Apply) error {
	if !raft.IsEmptySnap(ap.Snapshot) {
		if err := s.applySnapshot(ap); err != nil {
			return err
		}
	}
	for _, e := range ap.Entries {
		if err := s.applyEntry(e); err != nil {
			return err
		}
	}
	if s.consistIndex.Load()-s.snapshotIndex > s.cfg.SnapshotCount {
		select {
		case <-ap.Persisted:
		case <-s.r.Done():
			return nil
		}
		if err := s.snapshot(); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
	}
	return nil
}

// applyEntry applies one entry atomically with respect to backend commits and
// records it as the consistent index. An entry the backend already holds
// (index at most the consistent index, after a restart) changes nothing but
// raft's view of the configuration.
func (s *Server) applyEntry(e *raftpb.Entry) error {
	idx := e.GetIndex()
	replay := idx <= s.consistIndex.Load()
	var (
		id  uint64
		res *applyResult
	)
	failpoint.Hit("beforeApplyOneEntry")
	s.applyMu.Lock()
	switch e.GetType() {
	case raftpb.EntryType_EntryNormal:
		if !replay {
			id, res = s.applyNormal(e)
		}
	case raftpb.EntryType_EntryConfChange:
		var err error
		id, res, err = s.applyConfChange(e, replay)
		if err != nil {
			s.applyMu.Unlock()
			return err
		}
	default:
		s.applyMu.Unlock()
		return fmt.Errorf("entry %d has unsupported type %v", idx, e.GetType())
	}
	if !replay {
		s.consistTerm.Store(e.GetTerm())
		s.consistIndex.Store(idx)
	}
	s.applyMu.Unlock()
	failpoint.Hit("afterApplyOneEntry")
	s.applyWait.Applied(idx)
	if id != 0 {
		s.w.Trigger(id, res)
	}
	return nil
}

// applyNormal applies a client or member request. Errors that belong to the
// request (key not found, compacted revision, ...) go back to its proposer;
// the state machine stays the same on every member.
func (s *Server) applyNormal(e *raftpb.Entry) (uint64, *applyResult) {
	if len(e.GetData()) == 0 {
		s.promoteLessor() // a new leader's empty entry
		return 0, nil
	}
	r := &pb.InternalRaftRequest{}
	if err := proto.Unmarshal(e.GetData(), r); err != nil {
		s.lg.Error("cannot decode entry; skipping it", "index", e.GetIndex(), "error", err)
		return 0, nil
	}
	id := r.GetHeader().GetID()
	if id == 0 {
		id = r.GetID()
	}
	return s.applyWithAlarms(id, r)
}

func (s *Server) applyRequest(r *pb.InternalRaftRequest) *applyResult {
	ctx := context.Background()
	lc := s.lessor
	kv := leaseStore{kv: s.kv, le: s.lessor}
	switch {
	case r.Put != nil:
		resp, err := txn.ApplyPut(ctx, kv, lc, r.Put)
		return &applyResult{resp: resp, err: err}
	case r.DeleteRange != nil:
		resp, err := txn.ApplyDeleteRange(ctx, kv, r.DeleteRange)
		return &applyResult{resp: resp, err: err}
	case r.Txn != nil:
		resp, err := txn.Txn(ctx, kv, lc, r.Txn)
		return &applyResult{resp: resp, err: err}
	case r.Compaction != nil:
		ch, err := s.kv.Compact(r.Compaction.GetRevision())
		resp := &pb.CompactionResponse{Header: &pb.ResponseHeader{Revision: s.kv.Rev()}}
		return &applyResult{resp: resp, err: txn.StoreError(err), physc: ch}
	case r.LeaseGrant != nil || r.LeaseRevoke != nil || r.LeaseCheckpoint != nil:
		return s.applyLease(r)
	case r.Alarm != nil:
		return s.applyAlarm(r.Alarm)
	case r.ClusterMemberAttrSet != nil:
		s.applyMemberAttrs(r.ClusterMemberAttrSet)
		return &applyResult{}
	case r.ClusterVersionSet != nil:
		s.applyClusterVersion(r.ClusterVersionSet.GetVer())
		return &applyResult{}
	default:
		return &applyResult{err: rpctypes.ErrGRPCNotCapable}
	}
}
