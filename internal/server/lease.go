package server

import (
	"context"
	"errors"
	"math"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdgo/etcd/internal/lease"
)

// maxPendingRevokes bounds the revocations of expired leases in flight.
const maxPendingRevokes = 16

// leaseRenewRetry is how long a renewal waits before it asks again while
// this member leads but its lessor is not yet promoted.
const leaseRenewRetry = 20 * time.Millisecond

// electionTimeout is the raft election timeout.
func (s *Server) electionTimeout() time.Duration {
	return time.Duration(s.cfg.ElectionTicks) * s.cfg.TickInterval
}

// minLeaseTTL is etcd's minimum lease TTL: 1.5 election timeouts (counted
// in heartbeats) rounded up to whole seconds, so that a lease outlives a
// leader election.
func (s *Server) minLeaseTTL() int64 {
	minTTL := time.Duration((3*s.cfg.ElectionTicks)/2) * s.cfg.TickInterval
	return int64(math.Ceil(minTTL.Seconds()))
}

// newLessor opens the lessor on the backend after the store: leases come
// from the lease bucket, key attachments from the live keys.
func (s *Server) newLessor(ctx context.Context) error {
	le, err := lease.New(lease.Config{
		Logger:       s.lg,
		Backend:      s.be,
		RangeDeleter: func() lease.TxnDelete { return s.kv.Write() },
		Checkpointer: func(ctx context.Context, r *pb.LeaseCheckpointRequest) error {
			_, err := s.proposeAndResult(ctx, &pb.InternalRaftRequest{LeaseCheckpoint: r})
			return err
		},
		MinLeaseTTL:                s.minLeaseTTL(),
		CheckpointInterval:         s.cfg.LeaseCheckpointInterval,
		ExpiredLeasesRetryInterval: s.reqTimeout(),
	})
	if err != nil {
		return err
	}
	rt := s.kv.Read()
	defer rt.End()
	if err := le.RecoverKeys(ctx, rt); err != nil {
		le.Stop()
		return err
	}
	s.lessor = le
	return nil
}

// startLease runs the goroutines that demote the lessor when this member
// stops leading and revoke the leases it reports expired.
func (s *Server) startLease() {
	s.wg.Add(2)
	go s.demoteLoop()
	go s.expiredLeaseLoop()
}

// demoteLoop demotes the lessor whenever the leader changes away from this
// member. Promotion happens in the apply path, once the new leader has
// applied its term's first (empty) entry and so every earlier one.
func (s *Server) demoteLoop() {
	defer s.wg.Done()
	for {
		ch := s.r.LeaderChanged()
		if s.r.Leader() != s.id && s.lessor.IsPrimary() {
			s.lessor.Demote()
		}
		select {
		case <-ch:
		case <-s.stopping:
			return
		}
	}
}

// expiredLeaseLoop revokes expired leases through raft, at most
// maxPendingRevokes at a time, while this member leads.
func (s *Server) expiredLeaseLoop() {
	defer s.wg.Done()
	sem := make(chan struct{}, maxPendingRevokes)
	for {
		var ls []*lease.Lease
		select {
		case ls = <-s.lessor.ExpiredLeasesC():
		case <-s.stopping:
			return
		}
		for _, l := range ls {
			if s.r.Leader() != s.id {
				break
			}
			select {
			case sem <- struct{}{}:
			case <-s.stopping:
				return
			}
			s.wg.Add(1)
			go func(id int64) {
				defer s.wg.Done()
				defer func() { <-sem }()
				ctx, cancel := context.WithTimeout(context.Background(), s.reqTimeout())
				defer cancel()
				if _, err := s.LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: id}); err != nil &&
					!errors.Is(err, rpctypes.ErrGRPCLeaseNotFound) {
					s.lg.Warn("failed to revoke an expired lease", "lease-id", id, "error", err)
				}
			}(l.ID)
		}
	}
}

// LeaseGrant grants a lease through raft; with ID 0 the member picks a
// positive one from its request ID generator before proposing, as etcd.
func (s *Server) LeaseGrant(ctx context.Context, r *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	if r.GetTTL() > lease.MaxLeaseTTL {
		return nil, rpctypes.ErrGRPCLeaseTTLTooLarge
	}
	req := &pb.LeaseGrantRequest{ID: r.GetID(), TTL: r.GetTTL()}
	for req.ID == lease.NoLease {
		req.ID = int64(s.reqIDs.Next() & math.MaxInt64)
	}
	res, err := s.proposeAndResult(ctx, &pb.InternalRaftRequest{LeaseGrant: req})
	if err != nil {
		return nil, err
	}
	resp := res.(*pb.LeaseGrantResponse)
	s.fillHeader(resp.Header)
	return resp, nil
}

// LeaseRevoke revokes a lease and deletes its keys through raft.
func (s *Server) LeaseRevoke(ctx context.Context, r *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	res, err := s.proposeAndResult(ctx, &pb.InternalRaftRequest{LeaseRevoke: &pb.LeaseRevokeRequest{ID: r.GetID()}})
	if err != nil {
		return nil, err
	}
	resp := res.(*pb.LeaseRevokeResponse)
	s.fillHeader(resp.Header)
	return resp, nil
}

// LeaseRenew renews a lease on the leader's (primary) lessor and returns its
// TTL: here when this member leads, else on the leader through the peer
// API. An unknown or expired lease gives rpctypes.ErrGRPCLeaseNotFound.
func (s *Server) LeaseRenew(ctx context.Context, id int64) (int64, error) {
	var ttl int64
	err := s.onLeader(ctx, func(ctx context.Context) (err error) {
		ttl, err = s.renewLocal(ctx, id)
		return err
	}, func(ctx context.Context, peerURL string) (err error) {
		ttl, err = renewHTTP(ctx, peerURL, id)
		return err
	})
	return ttl, err
}

// renewLocal renews on this member's lessor; ErrGRPCNotLeader when this
// member does not lead.
func (s *Server) renewLocal(ctx context.Context, id int64) (int64, error) {
	cctx, cancel := context.WithTimeout(ctx, s.reqTimeout())
	defer cancel()
	for {
		if err := s.leaderReady(cctx); err != nil {
			return -1, err
		}
		ttl, err := s.lessor.Renew(cctx, id)
		switch {
		case err == nil:
			return ttl, nil
		case errors.Is(err, lease.ErrLeaseNotFound):
			return -1, rpctypes.ErrGRPCLeaseNotFound
		case !errors.Is(err, lease.ErrNotPrimary):
			return -1, s.leaseCtxError(ctx, err)
		}
		// Leading, not yet promoted: the term's first entry is on its way.
		select {
		case <-time.After(leaseRenewRetry):
		case <-cctx.Done():
			return -1, s.leaseCtxError(ctx, cctx.Err())
		case <-s.stopping:
			return -1, rpctypes.ErrGRPCStopped
		}
	}
}

// LeaseTimeToLive reports a lease's remaining and granted TTL, and with
// keys its attached keys, from the leader's lessor (here or through the
// peer API).
func (s *Server) LeaseTimeToLive(ctx context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	var resp *pb.LeaseTimeToLiveResponse
	err := s.onLeader(ctx, func(ctx context.Context) (err error) {
		resp, err = s.timeToLiveLocal(ctx, r)
		return err
	}, func(ctx context.Context, peerURL string) (err error) {
		resp, err = timeToLiveHTTP(ctx, peerURL, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	resp.Header = s.Header()
	return resp, nil
}

// timeToLiveLocal answers from this member's lessor; ErrGRPCNotLeader when
// this member does not lead.
func (s *Server) timeToLiveLocal(ctx context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	if err := s.leaderReady(ctx); err != nil {
		return nil, err
	}
	l := s.lessor.Lookup(r.GetID())
	if l == nil {
		return nil, rpctypes.ErrGRPCLeaseNotFound
	}
	resp := &pb.LeaseTimeToLiveResponse{
		Header:     s.Header(),
		ID:         r.GetID(),
		TTL:        int64(l.Remaining().Seconds()),
		GrantedTTL: l.TTL(),
	}
	if r.GetKeys() {
		ks := l.Keys()
		resp.Keys = make([][]byte, len(ks))
		for i, k := range ks {
			resp.Keys[i] = []byte(k)
		}
	}
	return resp, nil
}

// LeaseLeases lists every lease, after a linearizable read barrier.
func (s *Server) LeaseLeases(ctx context.Context, _ *pb.LeaseLeasesRequest) (*pb.LeaseLeasesResponse, error) {
	if err := s.linearizableReadNotify(ctx); err != nil {
		return nil, err
	}
	ls := s.lessor.Leases()
	resp := &pb.LeaseLeasesResponse{Header: s.Header(), Leases: make([]*pb.LeaseStatus, len(ls))}
	for i, l := range ls {
		resp.Leases[i] = &pb.LeaseStatus{ID: l.ID}
	}
	return resp, nil
}

// leaderReady returns once this member leads and has applied everything
// committed when it was called. Another leader gives ErrGRPCNotLeader (the
// caller forwards to it).
func (s *Server) leaderReady(ctx context.Context) error {
	switch lead := s.r.Leader(); lead {
	case s.id:
	case 0:
		return rpctypes.ErrGRPCNoLeader
	default:
		return rpctypes.ErrGRPCNotLeader
	}
	select {
	case <-s.applyWait.Wait(s.r.CommittedIndex()):
		return nil
	case <-ctx.Done():
		return s.leaseCtxError(ctx, ctx.Err())
	case <-s.stopping:
		return rpctypes.ErrGRPCStopped
	}
}

func (s *Server) leaseCtxError(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return rpctypes.ErrGRPCDeadlineExceeded
	case ctx.Err() != nil:
		return rpctypes.ErrGRPCCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return rpctypes.ErrGRPCTimeout
	}
	return err
}
