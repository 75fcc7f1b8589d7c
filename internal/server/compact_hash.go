package server

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdgo/etcd/internal/mvcc"
)

// compactHashChecker is the leader's state for the compaction hash check:
// the newest revision at which every member was seen to hold the same hash.
// Only the monitorCompactHash goroutine uses it.
type compactHashChecker struct {
	latestRevisionChecked int64
}

// unchecked returns the hashes above the newest revision already checked,
// newest first.
func (c *compactHashChecker) unchecked(hashes []mvcc.KeyValueHash) []mvcc.KeyValueHash {
	sort.Slice(hashes, func(i, j int) bool { return hashes[i].Revision > hashes[j].Revision })
	for i, h := range hashes {
		if h.Revision <= c.latestRevisionChecked {
			return hashes[:i]
		}
	}
	return hashes
}

// monitorCompactHash runs the compaction hash check every
// CompactHashCheckTime while this member leads, until the server stops.
func (s *Server) monitorCompactHash() {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	tick := time.NewTicker(s.cfg.CompactHashCheckTime)
	defer tick.Stop()
	var c compactHashChecker
	for {
		select {
		case <-s.stopping:
			s.lg.Info("server has stopped; stopping compact hash's monitor")
			return
		case <-tick.C:
		}
		if s.r.Leader() != s.id {
			continue
		}
		s.compactHashCheck(ctx, &c)
	}
}

// compactHashCheck is etcd's CompactHashCheck. Compactions run at the same
// revision on every member, and each stores the hash of what it compacted
// (mvcc.Store.Hashes). Starting from the newest hash not yet checked, the
// leader asks every peer for its hash at that revision; the first revision
// every peer answers with the same compacted revision ends the pass. Where
// hashes differ, the members outside the majority get the CORRUPT alarm
// (member 0, the whole cluster, if there is no majority). A revision some
// peer could not be compared at (unreachable, or its compaction not
// finished) is skipped for the next older one, and retried next time.
func (s *Server) compactHashCheck(ctx context.Context, c *compactHashChecker) {
	s.lg.Info("starting compact hash check",
		"local-member-id", fmt.Sprintf("%x", s.id), "timeout", s.reqTimeout().String())
	hashes := c.unchecked(s.kv.Hashes())
	for i, h := range hashes {
		peers := s.peerHashes(ctx, h.Revision)
		if len(peers) == 0 {
			continue
		}
		if s.checkPeerHashes(c, h, peers) {
			s.lg.Info("finished compaction hash check", "number-of-hashes-checked", i+1)
			return
		}
	}
	s.lg.Info("finished compaction hash check", "number-of-hashes-checked", len(hashes))
}

// checkPeerHashes compares the leader's hash at one compaction with the
// peers' and raises the alarms a mismatch calls for. It returns false only
// when some peer could not be compared and the hashes of those that could
// all agree: the caller then tries an older revision.
func (s *Server) checkPeerHashes(c *compactHashChecker, leader mvcc.KeyValueHash, peers []*peerHash) bool {
	leaderID := fmt.Sprintf("%x", s.id)
	byHash := map[uint32][]uint64{leader.Hash: {s.id}}
	checked := 0
	for _, p := range peers {
		reason := ""
		switch {
		case p.resp == nil:
			reason = "no response"
		case p.resp.GetCompactRevision() != leader.CompactRevision:
			reason = fmt.Sprintf("the peer's CompactRevision %d doesn't match leader's CompactRevision %d",
				p.resp.GetCompactRevision(), leader.CompactRevision)
		}
		if reason != "" {
			s.lg.Warn("Skipped peer's hash", "number-of-peers", len(peers), "leader-id", leaderID,
				"peer-id", fmt.Sprintf("%x", p.id), "reason", reason)
			continue
		}
		checked++
		byHash[p.resp.GetHash()] = append(byHash[p.resp.GetHash()], p.id)
	}

	if len(byHash) == 1 {
		if checked == len(peers) {
			s.lg.Info("successfully checked hash on whole cluster", "number-of-peers-checked", checked,
				"revision", leader.Revision, "compactRevision", leader.CompactRevision)
			if leader.Revision > c.latestRevisionChecked {
				c.latestRevisionChecked = leader.Revision
			}
			return true
		}
		s.lg.Warn("skipped revision in compaction hash check; was not able to check all peers",
			"number-of-peers-checked", checked, "number-of-peers", len(peers),
			"revision", leader.Revision, "compactRevision", leader.CompactRevision)
		return false
	}

	// The members holding the majority's hash are taken as right; without
	// a majority nobody can tell which members are corrupted.
	quorum := (len(peers)+1)/2 + 1
	quorumExist := false
	for h, ids := range byHash {
		if len(ids) >= quorum {
			quorumExist = true
			delete(byHash, h)
			break
		}
	}
	if !quorumExist {
		s.lg.Error("Detected compaction hash mismatch but cannot identify the corrupted members, so intentionally set the memberID as 0",
			"leader-id", leaderID, "leader-revision", leader.Revision,
			"leader-compact-revision", leader.CompactRevision, "leader-hash", leader.Hash)
		s.raiseAlarm(0, pb.AlarmType_CORRUPT)
	}
	hs := make([]uint32, 0, len(byHash))
	for h := range byHash {
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i] < hs[j] })
	for _, h := range hs {
		ids := byHash[h]
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		if quorumExist {
			for _, id := range ids {
				s.raiseAlarm(id, pb.AlarmType_CORRUPT)
			}
		}
		names := make([]string, len(ids))
		for i, id := range ids {
			names[i] = fmt.Sprintf("%x", id)
		}
		s.lg.Error("Detected compaction hash mismatch", "leader-id", leaderID,
			"leader-revision", leader.Revision, "leader-compact-revision", leader.CompactRevision,
			"leader-hash", leader.Hash, "peer-hash", h, "peer-ids", strings.Join(names, ","),
			"quorum-exist", quorumExist)
	}
	return true
}
