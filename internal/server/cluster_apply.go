package server

import (
	"fmt"

	"go.etcd.io/etcd/api/v3/membershippb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/schema"
)

// applyConfChange applies a membership change to the member set, the backend
// (unless replayed) and raft. It returns the proposer's ID to notify.
func (s *Server) applyConfChange(e *raftpb.Entry, replay bool) (uint64, *applyResult, error) {
	cc := &raftpb.ConfChange{}
	if err := proto.Unmarshal(e.GetData(), cc); err != nil {
		return 0, nil, fmt.Errorf("decode conf change at index %d: %w", e.GetIndex(), err)
	}
	var m *Member
	switch cc.GetType() {
	case raftpb.ConfChangeType_ConfChangeAddNode, raftpb.ConfChangeType_ConfChangeAddLearnerNode, raftpb.ConfChangeType_ConfChangeUpdateNode:
		var err error
		m, err = schema.UnmarshalMember(cc.GetNodeId(), cc.GetContext())
		if err != nil {
			return 0, nil, fmt.Errorf("decode member of conf change at index %d: %w", e.GetIndex(), err)
		}
		if old := s.cluster.Member(m.ID); old != nil && cc.GetType() == raftpb.ConfChangeType_ConfChangeUpdateNode {
			m.Name, m.ClientURLs, m.IsLearner = old.Name, old.ClientURLs, old.IsLearner
		}
		s.cluster.add(m)
		if !replay {
			s.saveMember(m)
		}
	case raftpb.ConfChangeType_ConfChangeRemoveNode:
		s.cluster.remove(cc.GetNodeId())
		if !replay {
			tx := s.be.BatchTx()
			tx.Lock()
			schema.UnsafeDeleteMember(tx, cc.GetNodeId())
			tx.Unlock()
		}
	}
	s.confState = s.r.ApplyConfChange(cc)
	s.applyConfChangeToTransport(cc, m)
	if !replay {
		tx := s.be.BatchTx()
		tx.Lock()
		schema.UnsafeSaveConfState(tx, s.confState)
		tx.Unlock()
	}
	return cc.GetId(), &applyResult{}, nil
}

func (s *Server) saveMember(m *Member) {
	tx := s.be.BatchTx()
	tx.Lock()
	schema.UnsafeSaveMember(tx, m)
	tx.Unlock()
}

// applyMemberAttrs records a member's published name and client URLs.
func (s *Server) applyMemberAttrs(r *membershippb.ClusterMemberAttrSetRequest) {
	m := s.cluster.setAttributes(r.GetMember_ID(), r.GetMemberAttributes().GetName(), r.GetMemberAttributes().GetClientUrls())
	if m == nil {
		s.lg.Warn("skipped attributes of an unknown member", "member-id", fmt.Sprintf("%x", r.GetMember_ID()))
		return
	}
	s.saveMember(m)
}

// applyClusterVersion records the cluster version and, as etcd's storage
// version monitor does once the cluster agrees on a version, moves the
// storage version of the backend to it.
func (s *Server) applyClusterVersion(ver string) {
	tx := s.be.BatchTx()
	tx.Lock()
	schema.UnsafeSaveClusterVersion(tx, ver)
	old := schema.UnsafeReadStorageVersion(tx)
	if old != ver {
		schema.UnsafeSetStorageVersion(tx, ver)
	}
	tx.Unlock()
	s.lg.Info("set the cluster version", "cluster-version", ver)
	if old != ver {
		s.lg.Info("updated storage version", "new-storage-version", ver)
	}
}

// StorageVersion returns the storage version recorded in the backend, empty
// before the cluster version is known.
func (s *Server) StorageVersion() string {
	rt := s.be.ReadTx()
	defer rt.Release()
	return schema.UnsafeReadStorageVersion(rt)
}
