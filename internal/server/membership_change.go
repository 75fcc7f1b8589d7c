package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/schema"
)

// healthInterval is how long a peer must have been connected to count as
// active when a membership change checks that it keeps the quorum (etcd's
// HealthInterval).
const healthInterval = 5 * time.Second

// learnerReadyPercent is how much of the leader's log a learner must hold
// before it may be promoted, as etcd.
const learnerReadyPercent = 0.9

// AddMember answers Cluster.MemberAdd: the new member's ID is derived from
// its peer URLs and the time, as etcd derives it.
func (s *Server) AddMember(ctx context.Context, peerURLs []string, isLearner bool) (*pb.MemberAddResponse, error) {
	urls, err := parseMemberURLs(peerURLs)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	m := &Member{ID: MemberID(urls, "", &now), PeerURLs: urls, IsLearner: isLearner}
	if err := s.mayAddMember(m); err != nil {
		return nil, err
	}
	cc := &raftpb.ConfChange{
		Type:    raftpb.ConfChangeType_ConfChangeAddNode.Enum(),
		NodeId:  proto.Uint64(m.ID),
		Context: schema.MarshalMember(m),
	}
	if isLearner {
		cc.Type = raftpb.ConfChangeType_ConfChangeAddLearnerNode.Enum()
	}
	if err := s.configure(ctx, cc); err != nil {
		return nil, err
	}
	return &pb.MemberAddResponse{
		Header:  s.clusterHeader(),
		Member:  &pb.Member{ID: m.ID, PeerURLs: m.PeerURLs, IsLearner: m.IsLearner},
		Members: s.protoMembers(),
	}, nil
}

// RemoveMember answers Cluster.MemberRemove. A member that removes itself
// stops once the removal is applied.
func (s *Server) RemoveMember(ctx context.Context, id uint64) (*pb.MemberRemoveResponse, error) {
	if err := s.mayRemoveMember(id); err != nil {
		return nil, err
	}
	cc := &raftpb.ConfChange{Type: raftpb.ConfChangeType_ConfChangeRemoveNode.Enum(), NodeId: proto.Uint64(id)}
	if err := s.configure(ctx, cc); err != nil {
		return nil, err
	}
	return &pb.MemberRemoveResponse{Header: s.clusterHeader(), Members: s.protoMembers()}, nil
}

// UpdateMember answers Cluster.MemberUpdate: it changes a member's peer URLs.
func (s *Server) UpdateMember(ctx context.Context, id uint64, peerURLs []string) (*pb.MemberUpdateResponse, error) {
	urls, err := parseMemberURLs(peerURLs)
	if err != nil {
		return nil, err
	}
	cc := &raftpb.ConfChange{
		Type:    raftpb.ConfChangeType_ConfChangeUpdateNode.Enum(),
		NodeId:  proto.Uint64(id),
		Context: schema.MarshalMember(&Member{ID: id, PeerURLs: urls}),
	}
	if err := s.configure(ctx, cc); err != nil {
		return nil, err
	}
	return &pb.MemberUpdateResponse{Header: s.clusterHeader(), Members: s.protoMembers()}, nil
}

// PromoteMember answers Cluster.MemberPromote. Only the leader knows how far
// a learner has caught up, so a follower hands the request to the leader
// over the peer URLs (POST /members/promote/<id>, as etcd).
func (s *Server) PromoteMember(ctx context.Context, id uint64) (*pb.MemberPromoteResponse, error) {
	err := s.promoteMember(ctx, id)
	if errors.Is(err, rpctypes.ErrGRPCNotLeader) {
		err = s.forwardPromote(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	return &pb.MemberPromoteResponse{Header: s.clusterHeader(), Members: s.protoMembers()}, nil
}

// PromoteMemberLocal promotes on this member only (the peer endpoint): it
// fails with ErrGRPCNotLeader unless this member leads.
func (s *Server) PromoteMemberLocal(ctx context.Context, id uint64) error {
	return s.promoteMember(ctx, id)
}

func (s *Server) promoteMember(ctx context.Context, id uint64) error {
	if err := s.isLearnerReady(id); err != nil {
		return err
	}
	if s.cfg.StrictReconfigCheck && !s.readyToPromote() {
		return rpctypes.ErrGRPCMemberNotEnoughStarted
	}
	cc := &raftpb.ConfChange{
		Type:    raftpb.ConfChangeType_ConfChangeAddNode.Enum(),
		NodeId:  proto.Uint64(id),
		Context: schema.MarshalPromoteContext(id),
	}
	return s.configure(ctx, cc)
}

// isLearnerReady checks, on the leader, that learner id holds at least
// learnerReadyPercent of the leader's log.
func (s *Server) isLearnerReady(id uint64) error {
	st := s.r.Status()
	if st.Progress == nil {
		return rpctypes.ErrGRPCNotLeader
	}
	pr, ok := st.Progress[id]
	if !ok {
		return rpctypes.ErrGRPCMemberNotFound
	}
	if m := s.cluster.Member(id); m != nil && !m.IsLearner {
		return rpctypes.ErrGRPCMemberNotLearner
	}
	leaderMatch := st.Progress[st.ID].Match
	if leaderMatch > 0 && float64(pr.Match)/float64(leaderMatch) < learnerReadyPercent {
		s.lg.Error("rejecting promote learner: learner is not ready",
			"learner-ready-percent", float64(pr.Match)/float64(leaderMatch), "ready-percent-threshold", learnerReadyPercent)
		return rpctypes.ErrGRPCLearnerNotReady
	}
	return nil
}

// configure proposes a conf change and waits until it is applied and raft
// has moved past it (so the next conf change is not refused).
func (s *Server) configure(ctx context.Context, cc *raftpb.ConfChange) error {
	id := s.reqIDs.Next()
	cc.Id = proto.Uint64(id)
	ch := s.w.Register(id)
	cctx, cancel := context.WithTimeout(ctx, s.reqTimeout())
	defer cancel()
	start := time.Now()
	if err := s.r.ProposeConfChange(cctx, cc); err != nil {
		s.w.Trigger(id, nil)
		return s.proposeError(ctx, cctx, err, start)
	}
	var res *applyResult
	select {
	case x := <-ch:
		res, _ = x.(*applyResult)
		if res == nil {
			return rpctypes.ErrGRPCStopped
		}
	case <-cctx.Done():
		s.w.Trigger(id, nil)
		return s.proposeError(ctx, cctx, cctx.Err(), start)
	case <-s.stopping:
		return rpctypes.ErrGRPCStopped
	}
	for s.r.AdvancedIndex() < res.index {
		select {
		case <-cctx.Done():
			return res.err
		case <-s.stopping:
			return res.err
		case <-time.After(time.Millisecond):
		}
	}
	if res.err == nil {
		s.lg.Info("applied a configuration change through raft", "local-member-id", fmt.Sprintf("%x", s.id),
			"raft-conf-change", cc.GetType().String(), "raft-conf-change-node-id", fmt.Sprintf("%x", cc.GetNodeId()))
	}
	return res.err
}

// mayAddMember refuses, under --strict-reconfig-check, to add a voter
// while too few members are started or connected to keep the quorum of the
// bigger cluster.
func (s *Server) mayAddMember(m *Member) error {
	if !s.cfg.StrictReconfigCheck || m.IsLearner {
		return nil
	}
	voters := s.votingMembers()
	nmembers, nstarted := len(voters)+1, started(voters)
	if !(nstarted == 1 && nmembers == 2) && nstarted < nmembers/2+1 {
		s.lg.Warn("rejecting member add request; not enough healthy members", "number-of-started-member", nstarted)
		return rpctypes.ErrGRPCMemberNotEnoughStarted
	}
	if len(voters) > 1 && s.numConnected(voters) < (len(voters)+1)/2+1 {
		s.lg.Warn("rejecting member add request; local member has not been connected to majority peers, reconfigure breaks active quorum")
		return rpctypes.ErrGRPCUnhealthy
	}
	return nil
}

// mayRemoveMember refuses, under --strict-reconfig-check, to remove a voter
// when the rest would not keep a quorum of started and connected members.
func (s *Server) mayRemoveMember(id uint64) error {
	if !s.cfg.StrictReconfigCheck {
		return nil
	}
	if m := s.cluster.Member(id); m != nil && m.IsLearner {
		return nil
	}
	voters := s.votingMembers()
	rest := slices.DeleteFunc(slices.Clone(voters), func(m *Member) bool { return m.ID == id })
	if started(rest) < len(rest)/2+1 {
		s.lg.Warn("rejecting member remove request; not enough healthy members", "requested-member-remove-id", fmt.Sprintf("%x", id))
		return rpctypes.ErrGRPCMemberNotEnoughStarted
	}
	if id != s.id && s.transport.ActiveSince(id).IsZero() {
		return nil // a member that is down is not part of the active quorum
	}
	if active := s.numConnected(voters); active-1 < 1+(len(voters)-1)/2 {
		s.lg.Warn("rejecting member remove request; local member has not been connected to all peers, reconfigure breaks active quorum",
			"active-peers", active)
		return rpctypes.ErrGRPCUnhealthy
	}
	return nil
}

// readyToPromote: with the learner counted as started, enough voters are
// started to keep the quorum.
func (s *Server) readyToPromote() bool {
	voters := s.votingMembers()
	nmembers, nstarted := len(voters)+1, started(voters)+1
	return nstarted >= nmembers/2+1
}

func (s *Server) votingMembers() []*Member {
	return slices.DeleteFunc(s.cluster.Members(), func(m *Member) bool { return m.IsLearner })
}

// started counts the members that published their name.
func started(ms []*Member) int {
	n := 0
	for _, m := range ms {
		if m.Name != "" {
			n++
		}
	}
	return n
}

// numConnected counts this member and the members of ms it has been
// connected to for at least healthInterval.
func (s *Server) numConnected(ms []*Member) int {
	since := time.Now().Add(-healthInterval)
	n := 0
	for _, m := range ms {
		if m.ID == s.id {
			n++
			continue
		}
		if t := s.transport.ActiveSince(m.ID); !t.IsZero() && t.Before(since) {
			n++
		}
	}
	return n
}

// clusterHeader is the header of the Cluster service's answers: etcd leaves
// the revision out.
func (s *Server) clusterHeader() *pb.ResponseHeader {
	h := &pb.ResponseHeader{}
	s.fillHeader(h)
	return h
}

// protoMembers lists the members as the Cluster service returns them.
func (s *Server) protoMembers() []*pb.Member {
	var out []*pb.Member
	for _, m := range s.cluster.Members() {
		out = append(out, &pb.Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner})
	}
	return out
}

// parseMemberURLs checks peer URLs as etcd's types.NewURLs does (http or
// https, host:port, no path) and returns them sorted.
func parseMemberURLs(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, rpctypes.ErrGRPCMemberBadURLs
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "unix" && u.Scheme != "unixs") ||
			u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, rpctypes.ErrGRPCMemberBadURLs
		}
		if u.Scheme == "http" || u.Scheme == "https" {
			if u.Port() == "" {
				return nil, rpctypes.ErrGRPCMemberBadURLs
			}
		}
		out = append(out, u.String())
	}
	sort.Strings(out)
	return out, nil
}

// MoveLeader answers Maintenance.MoveLeader: the leader hands its
// leadership to voter target and waits until target leads.
func (s *Server) MoveLeader(ctx context.Context, target uint64) (*pb.MoveLeaderResponse, error) {
	lead := s.r.Leader()
	if lead != s.id {
		return nil, rpctypes.ErrGRPCNotLeader
	}
	if m := s.cluster.Member(target); m == nil || m.IsLearner {
		return nil, rpctypes.ErrGRPCBadLeaderTransferee
	}
	ctx, cancel := context.WithTimeout(ctx, s.reqTimeout())
	defer cancel()
	start := time.Now()
	s.lg.Info("leadership transfer starting", "local-member-id", fmt.Sprintf("%x", s.id),
		"current-leader-member-id", fmt.Sprintf("%x", lead), "transferee-member-id", fmt.Sprintf("%x", target))
	s.r.TransferLeadership(ctx, lead, target)
	for s.r.Leader() != target {
		select {
		case <-ctx.Done():
			return nil, errTimeoutLeaderTransfer
		case <-time.After(s.cfg.TickInterval):
		}
		// Raft gives a transfer up after an election timeout (the target
		// was too far behind, or a message was lost): ask again while this
		// member still leads.
		if st := s.r.Status(); st.Lead == s.id && st.LeadTransferee == 0 {
			s.r.TransferLeadership(ctx, lead, target)
		}
	}
	s.lg.Info("leadership transfer finished", "local-member-id", fmt.Sprintf("%x", s.id),
		"old-leader-member-id", fmt.Sprintf("%x", lead), "new-leader-member-id", fmt.Sprintf("%x", target), "took", time.Since(start))
	return &pb.MoveLeaderResponse{Header: s.Header()}, nil
}

// errTimeoutLeaderTransfer is etcd's error for a transfer that did not
// finish in time (it reaches clients with code Unknown, as from etcd).
var errTimeoutLeaderTransfer = errors.New("etcdserver: request timed out, leader transfer took too long")

// Removed reports whether this member stopped because it was removed from
// the cluster.
func (s *Server) Removed() bool { return s.removedSelf.Load() }
