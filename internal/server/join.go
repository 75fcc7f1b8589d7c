package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/raft/v3"

	"github.com/etcdgo/etcd/internal/schema"
)

// PeerJoinPath is the peer endpoint through which a new member asks a
// running cluster for its own admission, as the 2013 etcd's `-C` did
// (docs/v1-api.md): POST a JoinRequest, get a JoinResponse.
const PeerJoinPath = "/join"

// Bounds of a self-join: the whole admission (retries included) and the
// pause between two rounds over the peers.
const (
	joinTimeout = 60 * time.Second
	joinBackoff = 500 * time.Millisecond
)

// JoinRequest is the body of POST /join: the joining member's advertised
// URLs and name. Force replaces a started member that has the same peer
// URLs (the 2013 -f flag: the old member's data is gone).
type JoinRequest struct {
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs,omitempty"`
	Force      bool     `json:"force,omitempty"`
}

// JoinResponse answers an admission: the new member's ID and the cluster's
// ID (hexadecimal, as etcd prints them) and the members, new one included,
// in etcd's member JSON.
type JoinResponse struct {
	MemberID  string            `json:"memberID"`
	ClusterID string            `json:"clusterID"`
	Members   []json.RawMessage `json:"members"`
}

// errJoinConflict: the peer URLs belong to a started member and the
// request did not force its replacement.
var errJoinConflict = errors.New("a started member already has these peer URLs")

// JoinHandler serves POST /join on the peer URLs: it adds the caller as a
// voting member (any member may; raft forwards the conf change to the
// leader) and answers its ID, the cluster ID and the member list. A caller
// whose peer URLs name a member that never started (an admission whose
// answer was lost) gets that member back, so a retried join is idempotent.
func (s *Server) JoinHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		var req JoinRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
			http.Error(w, fmt.Sprintf("bad join request: %v", err), http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Etcd-Cluster-ID", fmt.Sprintf("%x", s.cluster.ID()))
		id, err := s.admit(r.Context(), &req)
		if err != nil {
			s.lg.Warn("refused a member's request to join", "peer-urls", req.PeerURLs, "name", req.Name, "error", err)
			http.Error(w, err.Error(), joinErrorStatus(err))
			return
		}
		s.lg.Info("admitted a member that asked to join", "member-id", fmt.Sprintf("%x", id),
			"peer-urls", req.PeerURLs, "name", req.Name)
		res := JoinResponse{MemberID: fmt.Sprintf("%x", id), ClusterID: fmt.Sprintf("%x", s.cluster.ID()), Members: s.membersJSON()}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(&res)
	})
}

// admit adds the member of req, or finds it already added, and returns
// its ID.
func (s *Server) admit(ctx context.Context, req *JoinRequest) (uint64, error) {
	urls, err := parseMemberURLs(req.PeerURLs)
	if err != nil {
		return 0, err
	}
	for _, m := range s.cluster.Members() {
		if !slices.Equal(sortedCopy(m.PeerURLs), urls) {
			continue
		}
		if m.Name == "" && !m.IsLearner {
			return m.ID, nil
		}
		if !req.Force {
			return 0, fmt.Errorf("%w (member %x, %q): restart it with its data dir, or use -f to replace it", errJoinConflict, m.ID, m.Name)
		}
		if _, err := s.RemoveMember(ctx, m.ID); err != nil {
			return 0, fmt.Errorf("remove the member being replaced: %w", err)
		}
		// A member's ID hashes its peer URLs and the second it was added:
		// wait for the next second so that the new member never gets the
		// ID of the one it replaces (removed IDs are refused for good).
		select {
		case <-time.After(time.Until(time.Now().Truncate(time.Second).Add(time.Second))):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	res, err := s.AddMember(ctx, urls, false)
	if err != nil {
		return 0, err
	}
	return res.Member.ID, nil
}

// joinErrorStatus is the HTTP status of an admission error: 409 for a
// conflict the caller must resolve, 400 for bad URLs, 503 for what may
// pass (no leader, not enough started members, timeouts).
func joinErrorStatus(err error) int {
	switch {
	case errors.Is(err, errJoinConflict), errors.Is(err, rpctypes.ErrGRPCPeerURLExist), errors.Is(err, rpctypes.ErrGRPCMemberExist):
		return http.StatusConflict
	case errors.Is(err, rpctypes.ErrGRPCMemberBadURLs):
		return http.StatusBadRequest
	default:
		return http.StatusServiceUnavailable
	}
}

// errJoinRefused is a refusal that retrying does not cure.
type errJoinRefused struct{ msg string }

func (e *errJoinRefused) Error() string { return e.msg }

// joinHTTP asks the member at peerURL to admit req.
func joinHTTP(ctx context.Context, peerURL string, req *JoinRequest) (*JoinResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*peerAPITimeout)
	defer cancel()
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(peerURL, "/")+PeerJoinPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusConflict, http.StatusBadRequest:
		return nil, &errJoinRefused{msg: fmt.Sprintf("%s refused the join: %s", peerURL, strings.TrimSpace(string(b)))}
	default:
		return nil, fmt.Errorf("POST %s%s: %s: %s", peerURL, PeerJoinPath, resp.Status, strings.TrimSpace(string(b)))
	}
	var jr JoinResponse
	if err := json.Unmarshal(b, &jr); err != nil {
		return nil, fmt.Errorf("POST %s%s: decode answer: %w", peerURL, PeerJoinPath, err)
	}
	return &jr, nil
}

// bootstrapJoin starts a new member (no WAL) that asks the cluster of
// cfg.JoinPeers for its own admission: it POSTs /join to each peer in turn,
// round after round, until one admits it (or joinTimeout passes), then
// starts as a member added to a running cluster (startJoined).
func (s *Server) bootstrapJoin(ctx context.Context, walDir, snapDir string) (raft.Node, error) {
	req := &JoinRequest{Name: s.cfg.Name, PeerURLs: s.cfg.PeerURLs, ClientURLs: s.cfg.ClientURLs, Force: s.cfg.ForceJoin}
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	var lastErr error
	for {
		for _, u := range s.cfg.JoinPeers {
			jr, err := joinHTTP(ctx, u, req)
			if err == nil {
				return s.startJoinedFrom(walDir, snapDir, jr)
			}
			var refused *errJoinRefused
			if errors.As(err, &refused) {
				return nil, err
			}
			lastErr = err
			s.lg.Warn("failed to join the cluster through a peer; will retry", "remote-peer-url", u, "error", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("could not join the cluster through %v: %w", s.cfg.JoinPeers, lastErr)
		case <-time.After(joinBackoff):
		}
	}
}

// startJoinedFrom starts the member admitted by jr.
func (s *Server) startJoinedFrom(walDir, snapDir string, jr *JoinResponse) (raft.Node, error) {
	id, err := strconv.ParseUint(jr.MemberID, 16, 64)
	if err != nil {
		return nil, fmt.Errorf("join answer: bad member ID %q: %w", jr.MemberID, err)
	}
	cid, err := strconv.ParseUint(jr.ClusterID, 16, 64)
	if err != nil {
		return nil, fmt.Errorf("join answer: bad cluster ID %q: %w", jr.ClusterID, err)
	}
	var members []*Member
	for _, raw := range jr.Members {
		m, err := schema.UnmarshalMember(0, raw)
		if err != nil {
			return nil, fmt.Errorf("join answer: %w", err)
		}
		members = append(members, m)
	}
	if !slices.ContainsFunc(members, func(m *Member) bool { return m.ID == id }) {
		return nil, fmt.Errorf("join answer: member %x is not in the member list", id)
	}
	return s.startJoined(walDir, snapDir, id, cid, members)
}

// startJoined starts member id of cluster cid, just added to a running
// cluster whose members are remote: an empty WAL naming both, and an empty
// raft log; the leader sends the log (or a snapshot), whose conf changes
// build the member set.
func (s *Server) startJoined(walDir, snapDir string, id, cid uint64, remote []*Member) (raft.Node, error) {
	s.id = id
	s.cluster = newCluster(cid)
	if err := s.createWAL(walDir, snapDir); err != nil {
		return nil, err
	}
	s.joinPeers = remote
	s.lg.Info("starting local member to join an existing cluster", "local-member-id", fmt.Sprintf("%x", s.id),
		"cluster-id", fmt.Sprintf("%x", cid))
	return raft.RestartNode(s.raftConfig(s.id, s.raftStorage)), nil
}
