package server

import (
	"context"
	"fmt"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/membershippb"
	"go.etcd.io/etcd/api/v3/version"
)

// publishRetry is how long a member waits between attempts to publish itself.
const publishRetry = 500 * time.Millisecond

// Start runs the member: the Ready loop, the apply loop, the read loop, the
// purge loop, and the publication of this member's name and client URLs.
// ReadyNotify is closed once publication has been applied.
func (s *Server) Start() {
	s.r.Start()
	if s.singleVoter {
		// A lone member need not wait a whole election timeout for a peer
		// that does not exist: bring its first election close, as etcd does.
		for i := 1; i < s.cfg.ElectionTicks; i++ {
			s.r.Tick()
		}
	}
	s.wg.Add(4)
	go s.applyLoop()
	go s.readLoop()
	go s.purgeLoop()
	go s.publish()
	s.startLease()
	s.startMaintenance()
	go func() {
		select {
		case err := <-s.r.Err():
			s.lg.Error("raft loop failed; stopping the member", "error", err)
			s.requestStop()
		case <-s.stopping:
		}
	}()
}

// publish proposes this member's attributes and the cluster version until
// they are applied or the server stops.
func (s *Server) publish() {
	defer s.wg.Done()
	attrs := &pb.InternalRaftRequest{ClusterMemberAttrSet: &membershippb.ClusterMemberAttrSetRequest{
		Member_ID:        s.id,
		MemberAttributes: &membershippb.Attributes{Name: s.cfg.Name, ClientUrls: s.cfg.ClientURLs},
	}}
	if !s.proposeUntilApplied(attrs) {
		return
	}
	s.lg.Info("published local member to cluster through raft",
		"local-member-id", fmt.Sprintf("%x", s.id), "cluster-id", fmt.Sprintf("%x", s.cluster.ID()))
	v := clusterVersion()
	if s.r.Leader() == s.id {
		s.proposeUntilApplied(&pb.InternalRaftRequest{ClusterVersionSet: &membershippb.ClusterVersionSetRequest{Ver: v}})
	}
	close(s.readyc)
}

func (s *Server) proposeUntilApplied(r *pb.InternalRaftRequest) bool {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), s.reqTimeout())
		_, err := s.propose(ctx, r)
		cancel()
		if err == nil {
			return true
		}
		select {
		case <-s.stopping:
			return false
		case <-time.After(publishRetry):
		}
	}
}

// clusterVersion is the major.minor.0 of this binary, as etcd records it.
func clusterVersion() string {
	var major, minor int
	fmt.Sscanf(version.Version, "%d.%d", &major, &minor)
	return fmt.Sprintf("%d.%d.0", major, minor)
}

// Stop stops the member: raft first, then the loops, then the store, whose
// last commit records the consistent index. It is safe to call more than once
// and from any goroutine.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.transferLeadershipOnStop()
		close(s.stopping)
		s.r.Stop()
		s.wg.Wait()
		// Raft is stopped: nothing sends anymore, and peers' requests still
		// being served are cut short.
		s.transport.Stop()
		// Only now that the apply loop has ended (it may have been taking a
		// snapshot) is the WAL closed.
		if err := s.storage.Close(); err != nil {
			s.lg.Warn("failed to close the WAL", "error", err)
		}
		// Reads in flight end first; later ones answer ErrGRPCStopped.
		s.closeMu.Lock()
		s.closed = true
		s.closeMu.Unlock()
		s.lessor.Stop()
		if err := s.kv.Close(); err != nil {
			s.lg.Warn("failed to close the store", "error", err)
		}
		if err := s.be.Close(); err != nil {
			s.lg.Warn("failed to close the backend", "error", err)
		}
		close(s.done)
	})
	<-s.done
}

// transferLeadershipOnStop hands leadership to the most up-to-date voter
// before a leader stops, as etcd does, so that the others need not wait out an
// election timeout. It waits at most one election timeout.
func (s *Server) transferLeadershipOnStop() {
	if s.r.Leader() != s.id || s.removedSelf.Load() {
		return
	}
	var target, best uint64
	for id, pr := range s.r.Status().Progress {
		if id != s.id && !pr.IsLearner && pr.Match >= best {
			target, best = id, pr.Match
		}
	}
	if target == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.cfg.ElectionTicks)*s.cfg.TickInterval)
	defer cancel()
	s.lg.Info("leadership transfer starting", "local-member-id", fmt.Sprintf("%x", s.id), "transferee", fmt.Sprintf("%x", target))
	s.r.TransferLeadership(ctx, s.id, target)
	for lead := s.r.Leader(); lead == s.id || lead == 0; lead = s.r.Leader() {
		select {
		case <-ctx.Done():
			s.lg.Warn("leadership transfer timed out; stopping anyway", "transferee", fmt.Sprintf("%x", target))
			return
		case <-time.After(s.cfg.TickInterval):
		}
	}
	s.lg.Info("leadership transfer finished", "new-leader", fmt.Sprintf("%x", s.r.Leader()))
}
