package server

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/etcdgo/etcd/internal/mvcc"
)

// Hooks receive the events a member's metrics count as they happen. Any of
// them may be nil. etcdmain sets them from internal/metrics; the server only
// passes them on to the packages that see the events.
type Hooks struct {
	// WALFsync gets the duration of every WAL fdatasync.
	WALFsync func(time.Duration)
	// BackendCommit gets the duration of every backend commit.
	BackendCommit func(time.Duration)
	// PeerSent and PeerReceived get the size of every raft message sent to
	// or received from a peer.
	PeerSent, PeerReceived func(peer uint64, bytes int)
	// PeerRTT gets every measured round trip time to a peer.
	PeerRTT func(peer uint64, rtt time.Duration)
}

// proposalStats counts proposals for the metrics.
type proposalStats struct {
	pending atomic.Int64
	failed  atomic.Uint64
}

// track counts a proposal as pending until the returned function runs.
func (p *proposalStats) track() func() {
	p.pending.Add(1)
	return func() { p.pending.Add(-1) }
}

// LeaderChangesSeen returns how many times this member saw a new leader.
func (s *Server) LeaderChangesSeen() uint64 { return s.r.LeaderChanges() }

// CommittedIndex returns the raft commit index this member knows of.
func (s *Server) CommittedIndex() uint64 { return s.r.CommittedIndex() }

// ProposalsPending returns the number of this member's proposals that wait
// to be applied.
func (s *Server) ProposalsPending() int64 { return s.proposals.pending.Load() }

// ProposalsFailed returns how many of this member's proposals failed
// (dropped, no leader, timed out).
func (s *Server) ProposalsFailed() uint64 { return s.proposals.failed.Load() }

// IsLearner reports whether this member is a learner.
func (s *Server) IsLearner() bool {
	m := s.cluster.Member(s.id)
	return m != nil && m.IsLearner
}

// QuotaBackendBytes returns the backend quota in effect.
func (s *Server) QuotaBackendBytes() int64 {
	if s.cfg.QuotaBackendBytes <= 0 {
		return DefaultQuotaBytes
	}
	return s.cfg.QuotaBackendBytes
}

// KeysTotal returns the number of keys in the keyspace now (a count over
// the key index, read at scrape time).
func (s *Server) KeysTotal() int64 {
	var n int64
	s.useStore(func() error {
		res, err := s.kv.Range(context.Background(), []byte{0}, []byte{0}, mvcc.RangeOptions{Count: true})
		if err == nil {
			n = int64(res.Count)
		}
		return err
	})
	return n
}
