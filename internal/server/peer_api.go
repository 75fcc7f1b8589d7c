package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdgo/etcd/internal/schema"
)

// Paths of the peer API that etcd members call on each other besides raft.
const (
	peerMembersPath         = "/members"
	peerMemberPromotePrefix = "/members/promote/"
)

// Texts of the errors the promote endpoint answers, as etcd words them (a
// forwarding member recognises them in the body).
const (
	errTextIDNotFound      = "membership: ID not found"
	errTextNotLearner      = "membership: can only promote a learner member"
	errTextLearnerNotReady = "etcdserver: can only promote a learner member which is in sync with leader"
)

// peerAPITimeout bounds one call of the peer API.
const peerAPITimeout = 5 * time.Second

// PeerAPIHandler serves GET /members (the member list, for members that
// join) and POST /members/promote/<id> (a promotion forwarded to the
// leader), as etcd does on its peer URLs.
func (s *Server) PeerAPIHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(peerMembersPath, s.serveMembers)
	mux.HandleFunc(peerMemberPromotePrefix, s.servePromote)
	return mux
}

func (s *Server) serveMembers(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Etcd-Cluster-ID", fmt.Sprintf("%x", s.cluster.ID()))
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(s.membersJSON()); err != nil {
		s.lg.Warn("failed to encode membership members", "error", err)
	}
}

func (s *Server) servePromote(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Etcd-Cluster-ID", fmt.Sprintf("%x", s.cluster.ID()))
	idStr := strings.TrimPrefix(r.URL.Path, peerMemberPromotePrefix)
	id, err := strconv.ParseUint(idStr, 10, 64)
	if err != nil {
		http.Error(w, fmt.Sprintf("member %s not found in cluster", idStr), http.StatusNotFound)
		return
	}
	if err := s.promoteMember(r.Context(), id); err != nil {
		s.lg.Warn("failed to promote a member", "member-id", fmt.Sprintf("%x", id), "error", err)
		switch {
		case errors.Is(err, rpctypes.ErrGRPCMemberNotFound):
			http.Error(w, errTextIDNotFound, http.StatusNotFound)
		case errors.Is(err, rpctypes.ErrGRPCMemberNotLearner):
			http.Error(w, errTextNotLearner, http.StatusPreconditionFailed)
		case errors.Is(err, rpctypes.ErrGRPCLearnerNotReady):
			http.Error(w, errTextLearnerNotReady, http.StatusPreconditionFailed)
		case errors.Is(err, rpctypes.ErrGRPCTimeout):
			http.Error(w, err.Error(), http.StatusRequestTimeout)
		default:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s.membersJSON())
}

// membersJSON is the member list in etcd's member JSON, as the peer API
// answers it.
func (s *Server) membersJSON() []json.RawMessage {
	ms := s.cluster.Members()
	raw := make([]json.RawMessage, 0, len(ms))
	for _, m := range ms {
		raw = append(raw, schema.MarshalMember(m))
	}
	return raw
}

// forwardPromote asks the leader to promote learner id, retrying (another
// leader may be elected meanwhile) until the request's time runs out.
func (s *Server) forwardPromote(ctx context.Context, id uint64) error {
	cctx, cancel := context.WithTimeout(ctx, s.reqTimeout())
	defer cancel()
	for cctx.Err() == nil {
		lead := s.cluster.Member(s.r.Leader())
		if lead == nil {
			select {
			case <-cctx.Done():
			case <-time.After(s.cfg.TickInterval):
			}
			continue
		}
		for _, u := range lead.PeerURLs {
			err := promoteHTTP(cctx, u, id)
			if err == nil {
				return nil
			}
			if errors.Is(err, rpctypes.ErrGRPCLearnerNotReady) || errors.Is(err, rpctypes.ErrGRPCMemberNotFound) ||
				errors.Is(err, rpctypes.ErrGRPCMemberNotLearner) {
				return err
			}
			s.lg.Warn("failed to forward a promotion to the leader", "leader-url", u, "error", err)
		}
		select {
		case <-cctx.Done():
		case <-time.After(s.cfg.TickInterval):
		}
	}
	if ctx.Err() != nil {
		return rpctypes.ErrGRPCCanceled
	}
	return rpctypes.ErrGRPCTimeout
}

// promoteHTTP calls POST <peerURL>/members/promote/<id>.
func promoteHTTP(ctx context.Context, peerURL string, id uint64) error {
	ctx, cancel := context.WithTimeout(ctx, peerAPITimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, peerURL+peerMemberPromotePrefix+strconv.FormatUint(id, 10), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusRequestTimeout:
		return rpctypes.ErrGRPCTimeout
	case http.StatusNotFound:
		return rpctypes.ErrGRPCMemberNotFound
	case http.StatusPreconditionFailed:
		if strings.Contains(string(b), errTextLearnerNotReady) {
			return rpctypes.ErrGRPCLearnerNotReady
		}
		if strings.Contains(string(b), errTextNotLearner) {
			return rpctypes.ErrGRPCMemberNotLearner
		}
	}
	return fmt.Errorf("member promote: unknown error(%s)", strings.TrimSpace(string(b)))
}

// fetchMembers reads the member list and cluster ID of a running cluster
// from one of its members' peer URLs (GET /members).
func fetchMembers(ctx context.Context, peerURL string) (clusterID uint64, members []*Member, err error) {
	ctx, cancel := context.WithTimeout(ctx, peerAPITimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, peerURL+peerMembersPath, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, nil, fmt.Errorf("GET %s%s: %s", peerURL, peerMembersPath, resp.Status)
	}
	clusterID, err = strconv.ParseUint(resp.Header.Get("X-Etcd-Cluster-ID"), 16, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("GET %s%s: bad cluster ID header: %w", peerURL, peerMembersPath, err)
	}
	var raw []json.RawMessage
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&raw); err != nil {
		return 0, nil, fmt.Errorf("GET %s%s: %w", peerURL, peerMembersPath, err)
	}
	for _, r := range raw {
		m, err := schema.UnmarshalMember(0, r)
		if err != nil {
			return 0, nil, err
		}
		members = append(members, m)
	}
	return clusterID, members, nil
}
