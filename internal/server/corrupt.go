package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdgo/etcd/internal/mvcc"
	"github.com/etcdgo/etcd/internal/rafthttp"
)

// PeerHashKVPath is the peer endpoint that answers a member's HashKV to the
// other members' corruption checks, as etcd's.
const PeerHashKVPath = "/members/hashkv"

// maxHashKVRequestBytes bounds the body of a peer HashKV request (a JSON
// HashKVRequest holds one revision).
const maxHashKVRequestBytes = 64 << 10

// openMaintenance loads the alarms, logs the quota and, for a member that
// restarts with --experimental-initial-corrupt-check, compares its HashKV
// with its peers' before it serves anything: a mismatch stops the start.
func (s *Server) openMaintenance(ctx context.Context) error {
	s.logQuota()
	if err := s.restoreAlarms(); err != nil {
		return err
	}
	// Only a member that has data checks it: a new one has no members yet
	// and a joining one gets its data from the cluster.
	if !s.cfg.InitialCorruptCheck || s.joinPeers != nil || len(s.cluster.Members()) == 0 {
		return nil
	}
	if err := s.initialCorruptCheck(ctx); err != nil {
		s.lg.Error("checkInitialHashKV failed", "error", err)
		return err
	}
	return nil
}

// peerHash is one peer's answer to a HashKV request.
type peerHash struct {
	id   uint64
	eps  []string
	resp *pb.HashKVResponse
	err  error
}

// initialCorruptCheck compares this member's hash with the peers' at its
// revision. Only a different hash at the same compacted revision is a
// mismatch; unreachable, slower or faster peers are logged and skipped.
func (s *Server) initialCorruptCheck(ctx context.Context) error {
	local := fmt.Sprintf("%x", s.id)
	s.lg.Info("starting initial corruption check", "local-member-id", local, "timeout", s.reqTimeout().String())
	h, err := s.kv.HashByRev(0)
	if err != nil {
		return fmt.Errorf("%s failed to fetch hash (%w)", local, err)
	}
	mismatch := 0
	for _, p := range s.peerHashes(ctx, h.Revision) {
		if p.resp != nil {
			attrs := []any{
				"local-member-id", local,
				"local-member-revision", h.Revision,
				"local-member-compact-revision", h.CompactRevision,
				"local-member-hash", h.Hash,
				"remote-peer-id", fmt.Sprintf("%x", p.resp.GetHeader().GetMemberId()),
				"remote-peer-endpoints", p.eps,
				"remote-peer-revision", p.resp.GetHeader().GetRevision(),
				"remote-peer-compact-revision", p.resp.GetCompactRevision(),
				"remote-peer-hash", p.resp.GetHash(),
			}
			if h.Hash != p.resp.GetHash() {
				if h.CompactRevision == p.resp.GetCompactRevision() {
					s.lg.Warn("found different hash values from remote peer", attrs...)
					mismatch++
				} else {
					s.lg.Warn("found different compact revision values from remote peer", attrs...)
				}
			}
			continue
		}
		attrs := []any{
			"local-member-id", local,
			"local-member-revision", h.Revision,
			"local-member-compact-revision", h.CompactRevision,
			"local-member-hash", h.Hash,
			"remote-peer-id", fmt.Sprintf("%x", p.id),
			"remote-peer-endpoints", p.eps,
			"error", p.err,
		}
		switch {
		case errors.Is(p.err, rpctypes.ErrFutureRev):
			s.lg.Warn("cannot fetch hash from slow remote peer", attrs...)
		case errors.Is(p.err, rpctypes.ErrCompacted):
			s.lg.Warn("cannot fetch hash from remote peer; local member is behind", attrs...)
		case errors.Is(p.err, rpctypes.ErrClusterIDMismatch):
			s.lg.Warn("cluster ID mismatch", attrs...)
		}
	}
	if mismatch > 0 {
		return fmt.Errorf("%s found data inconsistency with peers", local)
	}
	s.lg.Info("initial corruption checking passed; no corruption", "local-member-id", local)
	return nil
}

// periodicCorruptCheck is the leader's check: its hash at its revision,
// then the peers' at the same revision, then (after a read index round) its
// own again. A peer ahead of the leader, or with the same compacted
// revision and a different hash, raises the CORRUPT alarm for that peer;
// two different local hashes at one revision raise it for this member.
func (s *Server) periodicCorruptCheck(ctx context.Context) error {
	h, err := s.kv.HashByRev(0)
	if err != nil {
		return err
	}
	peers := s.peerHashes(ctx, h.Revision)
	rctx, cancel := context.WithTimeout(ctx, s.reqTimeout())
	err = s.linearizableReadNotify(rctx)
	cancel()
	if err != nil {
		return err
	}
	h2, err := s.kv.HashByRev(0)
	if err != nil {
		return err
	}
	rev2 := s.kv.Rev()

	alarmed := false
	mismatch := func(id uint64) {
		if alarmed {
			return
		}
		alarmed = true
		s.raiseAlarm(id, pb.AlarmType_CORRUPT)
	}
	if h2.Hash != h.Hash && h2.Revision == h.Revision && h.CompactRevision == h2.CompactRevision {
		s.lg.Warn("found hash mismatch",
			"revision-1", h.Revision, "compact-revision-1", h.CompactRevision, "hash-1", h.Hash,
			"revision-2", h2.Revision, "compact-revision-2", h2.CompactRevision, "hash-2", h2.Hash)
		mismatch(s.id)
	}
	checked := 0
	for _, p := range peers {
		if p.resp == nil {
			continue
		}
		checked++
		peer := fmt.Sprintf("%x", p.id)
		if p.resp.GetHeader().GetRevision() > rev2 {
			s.lg.Warn("revision from follower must be less than or equal to leader's",
				"leader-revision", rev2, "follower-revision", p.resp.GetHeader().GetRevision(), "follower-peer-id", peer)
			mismatch(p.id)
		}
		if p.resp.GetCompactRevision() > h2.CompactRevision {
			s.lg.Warn("compact revision from follower must be less than or equal to leader's",
				"leader-compact-revision", h2.CompactRevision, "follower-compact-revision", p.resp.GetCompactRevision(),
				"follower-peer-id", peer)
			mismatch(p.id)
		}
		if p.resp.GetCompactRevision() == h.CompactRevision && p.resp.GetHash() != h.Hash {
			s.lg.Warn("same compact revision then hashes must match",
				"leader-compact-revision", h2.CompactRevision, "leader-hash", h.Hash,
				"follower-compact-revision", p.resp.GetCompactRevision(), "follower-hash", p.resp.GetHash(),
				"follower-peer-id", peer)
			mismatch(p.id)
		}
	}
	s.lg.Info("finished peer corruption check", "number-of-peers-checked", checked)
	return nil
}

// monitorKVHash runs the periodic corruption check every CorruptCheckTime
// while this member leads, until the server stops.
func (s *Server) monitorKVHash() {
	defer s.wg.Done()
	t := s.cfg.CorruptCheckTime
	s.lg.Info("enabled corruption checking", "local-member-id", fmt.Sprintf("%x", s.id), "interval", t.String())
	tick := time.NewTicker(t)
	defer tick.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-s.stopping:
			s.lg.Info("server has stopped; stopping kv hash's monitor")
			return
		case <-tick.C:
		}
		if s.r.Leader() != s.id {
			continue
		}
		if err := s.periodicCorruptCheck(ctx); err != nil {
			s.lg.Warn("failed to check hash KV", "error", err)
		}
	}
}

// peerHashes asks every other member, over its peer URLs, for its hash at
// rev. A member none of whose URLs answers is listed with the last error.
func (s *Server) peerHashes(ctx context.Context, rev int64) []*peerHash {
	cc := &http.Client{
		Transport:     http.DefaultTransport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var out []*peerHash
	for _, m := range s.cluster.Members() {
		if m.ID == s.id || len(m.PeerURLs) == 0 {
			continue
		}
		p := &peerHash{id: m.ID, eps: m.PeerURLs}
		for _, ep := range m.PeerURLs {
			rctx, cancel := context.WithTimeout(ctx, s.reqTimeout())
			p.resp, p.err = hashByRev(rctx, s.cluster.ID(), cc, ep, rev)
			cancel()
			if p.err == nil {
				break
			}
			s.lg.Warn("failed hash kv request", "local-member-id", fmt.Sprintf("%x", s.id),
				"requested-revision", rev, "remote-peer-endpoint", ep, "error", p.err)
		}
		out = append(out, p)
	}
	return out
}

// hashByRev asks the member at peer URL u for its hash at rev, as etcd's
// members ask each other: a GET with a JSON HashKVRequest body.
func hashByRev(ctx context.Context, cid uint64, cc *http.Client, u string, rev int64) (*pb.HashKVResponse, error) {
	body, err := json.Marshal(&pb.HashKVRequest{Revision: rev})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+PeerHashKVPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Etcd-Cluster-ID", fmt.Sprintf("%x", cid))
	resp, err := cc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxHashKVRequestBytes))
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusBadRequest:
		if strings.Contains(string(b), mvcc.ErrCompacted.Error()) {
			return nil, rpctypes.ErrCompacted
		}
		if strings.Contains(string(b), mvcc.ErrFutureRev.Error()) {
			return nil, rpctypes.ErrFutureRev
		}
	case http.StatusPreconditionFailed:
		if strings.Contains(string(b), rafthttp.ErrClusterIDMismatch.Error()) {
			return nil, rpctypes.ErrClusterIDMismatch
		}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("unknown error: %s", b)
	}
	out := &pb.HashKVResponse{}
	if err := json.Unmarshal(b, out); err != nil {
		return nil, err
	}
	return out, nil
}

// HashKVHandler serves PeerHashKVPath: this member's HashKV at the
// requested revision, for the other members' corruption checks.
func (s *Server) HashKVHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path != PeerHashKVPath {
			http.Error(w, "bad path", http.StatusBadRequest)
			return
		}
		cid := fmt.Sprintf("%x", s.cluster.ID())
		if gcid := r.Header.Get("X-Etcd-Cluster-ID"); gcid != "" && gcid != cid {
			http.Error(w, rafthttp.ErrClusterIDMismatch.Error(), http.StatusPreconditionFailed)
			return
		}
		defer r.Body.Close()
		b, err := io.ReadAll(io.LimitReader(r.Body, maxHashKVRequestBytes))
		if err != nil {
			http.Error(w, "error reading body", http.StatusBadRequest)
			return
		}
		req := &pb.HashKVRequest{}
		if err := json.Unmarshal(b, req); err != nil {
			s.lg.Warn("failed to unmarshal request", "error", err)
			http.Error(w, "error unmarshalling request", http.StatusBadRequest)
			return
		}
		var h mvcc.KeyValueHash
		err = s.useStore(func() (err error) {
			h, err = s.kv.HashByRev(req.GetRevision())
			return err
		})
		if err != nil {
			s.lg.Warn("failed to get hashKV", "requested-revision", req.GetRevision(), "error", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp := &pb.HashKVResponse{
			Header:          &pb.ResponseHeader{Revision: s.kv.Rev()},
			Hash:            h.Hash,
			CompactRevision: h.CompactRevision,
			HashRevision:    h.Revision,
		}
		out, err := json.Marshal(resp)
		if err != nil {
			s.lg.Warn("failed to marshal hashKV response", "error", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("X-Etcd-Cluster-ID", cid)
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	})
}
