package server

import (
	"fmt"
	"slices"

	"go.etcd.io/etcd/api/v3/membershippb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/schema"
)

// applyConfChange applies a membership change: it is validated against
// the member set (as etcd validates it), then applied to raft, the member
// set, the backend and the transport. An invalid change is applied to raft
// as a no-op and its error goes back to the proposer. A replayed entry (the
// backend already holds its effect, and raft started from the backend's
// configuration) changes nothing. It returns the proposer's ID to notify.
func (s *Server) applyConfChange(e *raftpb.Entry, replay bool) (uint64, *applyResult, error) {
	cc := &raftpb.ConfChange{}
	if err := proto.Unmarshal(e.GetData(), cc); err != nil {
		return 0, nil, fmt.Errorf("decode conf change at index %d: %w", e.GetIndex(), err)
	}
	if replay {
		return 0, nil, nil
	}
	m, promote, err := s.validateConfChange(cc)
	if err != nil {
		s.lg.Error("validation on configuration change failed", "type", cc.GetType().String(),
			"member-id", fmt.Sprintf("%x", cc.GetNodeId()), "error", err)
		cc.NodeId = proto.Uint64(raft.None)
		s.r.ApplyConfChange(cc)
		return cc.GetId(), &applyResult{err: err, index: e.GetIndex()}, nil
	}
	s.confState = s.r.ApplyConfChange(cc)
	id := cc.GetNodeId()
	tx := s.be.BatchTx()
	tx.Lock()
	switch cc.GetType() {
	case raftpb.ConfChangeType_ConfChangeAddNode, raftpb.ConfChangeType_ConfChangeAddLearnerNode:
		if promote {
			m = s.cluster.promote(id)
			s.lg.Info("promote member", "promoted-member-id", fmt.Sprintf("%x", id))
		} else {
			s.cluster.add(m)
			s.lg.Info("added member", "added-peer-id", fmt.Sprintf("%x", id),
				"added-peer-peer-urls", m.PeerURLs, "added-peer-is-learner", m.IsLearner)
			if id != s.id {
				s.transport.AddPeer(id, m.PeerURLs)
			}
		}
		schema.UnsafeSaveMember(tx, m)
	case raftpb.ConfChangeType_ConfChangeRemoveNode:
		s.cluster.remove(id)
		schema.UnsafeDeleteMember(tx, id)
		s.lg.Info("removed member", "removed-remote-peer-id", fmt.Sprintf("%x", id))
		if id != s.id {
			s.transport.RemovePeer(id)
		}
	case raftpb.ConfChangeType_ConfChangeUpdateNode:
		m = s.cluster.updatePeerURLs(id, m.PeerURLs)
		schema.UnsafeSaveMember(tx, m)
		s.lg.Info("updated member", "updated-remote-peer-id", fmt.Sprintf("%x", id), "updated-remote-peer-urls", m.PeerURLs)
		if id != s.id {
			s.transport.UpdatePeer(id, m.PeerURLs)
		}
	}
	schema.UnsafeSaveConfState(tx, s.confState)
	tx.Unlock()
	if cc.GetType() == raftpb.ConfChangeType_ConfChangeRemoveNode && id == s.id {
		s.lg.Warn("this member was removed from the cluster; stopping")
		s.removedSelf.Store(true)
		s.requestStop()
	}
	return cc.GetId(), &applyResult{index: e.GetIndex()}, nil
}

// validateConfChange checks a conf change against the member set as etcd
// does, and decodes the member it carries (for adds and updates) and whether
// it promotes a learner.
func (s *Server) validateConfChange(cc *raftpb.ConfChange) (m *Member, promote bool, err error) {
	id := cc.GetNodeId()
	if s.cluster.isRemoved(id) {
		return nil, false, rpctypes.ErrGRPCMemberNotFound
	}
	members := s.cluster.Members()
	exists := func(id uint64) *Member {
		for _, m := range members {
			if m.ID == id {
				return m
			}
		}
		return nil
	}
	urlTaken := func(urls []string, except uint64) bool {
		for _, o := range members {
			if o.ID != except && slices.ContainsFunc(o.PeerURLs, func(u string) bool { return slices.Contains(urls, u) }) {
				return true
			}
		}
		return false
	}
	switch cc.GetType() {
	case raftpb.ConfChangeType_ConfChangeAddNode, raftpb.ConfChangeType_ConfChangeAddLearnerNode:
		m, promote, err = schema.UnmarshalConfChangeContext(id, cc.GetContext())
		if err != nil {
			return nil, false, err
		}
		if m.ID != id {
			return nil, false, fmt.Errorf("conf change for member %x carries member %x", id, m.ID)
		}
		if promote {
			old := exists(id)
			if old == nil {
				return nil, false, rpctypes.ErrGRPCMemberNotFound
			}
			if !old.IsLearner {
				return nil, false, rpctypes.ErrGRPCMemberNotLearner
			}
			return old, true, nil
		}
		if exists(id) != nil {
			return nil, false, rpctypes.ErrGRPCMemberExist
		}
		if urlTaken(m.PeerURLs, 0) {
			return nil, false, rpctypes.ErrGRPCPeerURLExist
		}
		if m.IsLearner && cc.GetType() == raftpb.ConfChangeType_ConfChangeAddLearnerNode {
			learners := 0
			for _, o := range members {
				if o.IsLearner {
					learners++
				}
			}
			if learners+1 > s.maxLearners() {
				return nil, false, rpctypes.ErrGRPCTooManyLearners
			}
		}
		return m, false, nil
	case raftpb.ConfChangeType_ConfChangeRemoveNode:
		if exists(id) == nil {
			return nil, false, rpctypes.ErrGRPCMemberNotFound
		}
		return nil, false, nil
	case raftpb.ConfChangeType_ConfChangeUpdateNode:
		if exists(id) == nil {
			return nil, false, rpctypes.ErrGRPCMemberNotFound
		}
		m, err = schema.UnmarshalMember(id, cc.GetContext())
		if err != nil {
			return nil, false, err
		}
		if urlTaken(m.PeerURLs, id) {
			return nil, false, rpctypes.ErrGRPCPeerURLExist
		}
		return m, false, nil
	default:
		return nil, false, fmt.Errorf("unknown conf change type %v", cc.GetType())
	}
}

// maxLearners is --max-learners.
func (s *Server) maxLearners() int { return s.cfg.MaxLearners }

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
	s.storageVersion.Store(ver)
	s.lg.Info("set the cluster version", "cluster-version", ver)
	if old != ver {
		s.lg.Info("updated storage version", "new-storage-version", ver)
	}
}

// StorageVersion returns the storage version recorded in the backend, empty
// before the cluster version is known. It is kept in memory (loaded when the
// backend is opened or replaced), so it answers even while the member stops.
func (s *Server) StorageVersion() string {
	v, _ := s.storageVersion.Load().(string)
	return v
}

// loadStorageVersion reads the storage version from the backend.
func (s *Server) loadStorageVersion() {
	rt := s.be.ReadTx()
	defer rt.Release()
	s.storageVersion.Store(schema.UnsafeReadStorageVersion(rt))
}
