package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/lease"
)

// Renewals and TTL queries are answered by the leader's lessor, and do not
// go through raft: a follower forwards them to the leader over the peer
// URLs, on etcd's endpoints and in etcd's encoding, so that members of
// either implementation serve each other.
const (
	peerLeasePath         = "/leases"
	peerLeaseInternalPath = "/leases/internal"
	// maxLeaseHTTPRequest bounds a request body, as etcd.
	maxLeaseHTTPRequest = 64 << 10
	// maxLeaseHTTPResponse bounds a response body (keys may be many).
	maxLeaseHTTPResponse = 100 << 20
	// leaseApplyTimeout bounds the wait of the leader for its applied index
	// to reach its commit index before it answers.
	leaseApplyTimeout = time.Second
	// forwardRetry is the pause between forwarding attempts.
	forwardRetry = 50 * time.Millisecond
)

// errLeaseHTTPTimeout is etcd's text for a leader that did not catch up in
// time.
var errLeaseHTTPTimeout = errors.New("waiting for node to catch up its applied index has timed out")

// onLeader runs local when this member leads, else remote against the
// leader's peer URLs, until one of them answers (a lease that does not
// exist is an answer), the leadership settles elsewhere, or the request's
// time runs out.
func (s *Server) onLeader(ctx context.Context, local func(context.Context) error, remote func(ctx context.Context, peerURL string) error) error {
	cctx, cancel := context.WithTimeout(ctx, s.reqTimeout())
	defer cancel()
	for {
		switch lead := s.r.Leader(); {
		case lead == s.id:
			err := local(cctx)
			if !errors.Is(err, rpctypes.ErrGRPCNotLeader) && !errors.Is(err, rpctypes.ErrGRPCNoLeader) {
				return err
			}
		case lead != 0:
			if m := s.cluster.Member(lead); m != nil {
				for _, u := range m.PeerURLs {
					err := remote(cctx, u)
					if err == nil || errors.Is(err, rpctypes.ErrGRPCLeaseNotFound) {
						return err
					}
					s.lg.Debug("failed to forward a lease request to the leader", "leader-url", u, "error", err)
				}
			}
		}
		select {
		case <-time.After(forwardRetry):
		case <-cctx.Done():
			if s.r.Leader() == 0 && ctx.Err() == nil {
				return rpctypes.ErrGRPCNoLeader
			}
			return s.leaseCtxError(ctx, cctx.Err())
		case <-s.stopping:
			return rpctypes.ErrGRPCStopped
		}
	}
}

// LeaseHandler serves the peer lease endpoints: POST /leases (renew) and
// POST /leases/internal (time to live), answered from this member's lessor.
func (s *Server) LeaseHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLeaseHTTPRequest))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "error reading body", http.StatusBadRequest)
			return
		}
		var out []byte
		switch r.URL.Path {
		case peerLeasePath:
			out, err = s.serveRenew(r.Context(), w, b)
		case peerLeaseInternalPath:
			out, err = s.serveTimeToLive(r.Context(), w, b)
		default:
			http.Error(w, fmt.Sprintf("unknown request path %q", r.URL.Path), http.StatusBadRequest)
			return
		}
		if err != nil {
			return // answered
		}
		w.Header().Set("Content-Type", "application/protobuf")
		w.Write(out)
	})
}

// waitApplied waits, at most leaseApplyTimeout, until this member applied
// what it knows to be committed.
func (s *Server) waitApplied(ctx context.Context) bool {
	select {
	case <-s.applyWait.Wait(s.r.CommittedIndex()):
		return true
	case <-time.After(leaseApplyTimeout):
	case <-ctx.Done():
	case <-s.stopping:
	}
	return false
}

// errAnswered marks a request already answered with an HTTP error.
var errAnswered = errors.New("answered")

func (s *Server) serveRenew(ctx context.Context, w http.ResponseWriter, body []byte) ([]byte, error) {
	req := &pb.LeaseKeepAliveRequest{}
	if err := proto.Unmarshal(body, req); err != nil {
		http.Error(w, "error unmarshalling request", http.StatusBadRequest)
		return nil, errAnswered
	}
	if !s.waitApplied(ctx) {
		http.Error(w, errLeaseHTTPTimeout.Error(), http.StatusRequestTimeout)
		return nil, errAnswered
	}
	ctx, cancel := context.WithTimeout(ctx, s.reqTimeout())
	defer cancel()
	ttl, err := s.lessor.Renew(ctx, req.GetID())
	if err != nil {
		if errors.Is(err, lease.ErrLeaseNotFound) {
			http.Error(w, err.Error(), http.StatusNotFound)
		} else {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
		return nil, errAnswered
	}
	return proto.Marshal(&pb.LeaseKeepAliveResponse{ID: req.GetID(), TTL: ttl})
}

func (s *Server) serveTimeToLive(ctx context.Context, w http.ResponseWriter, body []byte) ([]byte, error) {
	req, err := decodeLeaseInternalRequest(body)
	if err != nil {
		http.Error(w, "error unmarshalling request", http.StatusBadRequest)
		return nil, errAnswered
	}
	if !s.waitApplied(ctx) {
		http.Error(w, errLeaseHTTPTimeout.Error(), http.StatusRequestTimeout)
		return nil, errAnswered
	}
	l := s.lessor.Lookup(req.GetID())
	if l == nil {
		http.Error(w, lease.ErrLeaseNotFound.Error(), http.StatusNotFound)
		return nil, errAnswered
	}
	if !s.lessor.IsPrimary() {
		http.Error(w, lease.ErrNotPrimary.Error(), http.StatusInternalServerError)
		return nil, errAnswered
	}
	resp := &pb.LeaseTimeToLiveResponse{
		Header:     &pb.ResponseHeader{},
		ID:         req.GetID(),
		TTL:        int64(l.Remaining().Seconds()),
		GrantedTTL: l.TTL(),
	}
	if req.GetKeys() {
		for _, k := range l.Keys() {
			resp.Keys = append(resp.Keys, []byte(k))
		}
	}
	return encodeLeaseInternalResponse(resp)
}

// renewHTTP renews lease id on the member at peerURL.
func renewHTTP(ctx context.Context, peerURL string, id int64) (int64, error) {
	body, err := proto.Marshal(&pb.LeaseKeepAliveRequest{ID: id})
	if err != nil {
		return -1, err
	}
	b, err := postProtobuf(ctx, peerURL+peerLeasePath, body)
	if err != nil {
		return -1, err
	}
	resp := &pb.LeaseKeepAliveResponse{}
	if err := proto.Unmarshal(b, resp); err != nil {
		return -1, fmt.Errorf("lease: %w", err)
	}
	if resp.GetID() != id {
		return -1, errors.New("lease: renew id mismatch")
	}
	return resp.GetTTL(), nil
}

// timeToLiveHTTP asks the member at peerURL for a lease's TTL.
func timeToLiveHTTP(ctx context.Context, peerURL string, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	body, err := encodeLeaseInternalRequest(&pb.LeaseTimeToLiveRequest{ID: r.GetID(), Keys: r.GetKeys()})
	if err != nil {
		return nil, err
	}
	b, err := postProtobuf(ctx, peerURL+peerLeaseInternalPath, body)
	if err != nil {
		return nil, err
	}
	resp, err := decodeLeaseInternalResponse(b)
	if err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	if resp.GetID() != r.GetID() {
		return nil, errors.New("lease: TTL id mismatch")
	}
	return resp, nil
}

// postProtobuf posts a protobuf body and returns the body of a 200 answer;
// 404 is ErrGRPCLeaseNotFound.
func postProtobuf(ctx context.Context, url string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, peerAPITimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/protobuf")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxLeaseHTTPResponse+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxLeaseHTTPResponse {
		return nil, fmt.Errorf("lease: response body exceeds %d bytes limit", maxLeaseHTTPResponse)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return b, nil
	case http.StatusNotFound:
		return nil, rpctypes.ErrGRPCLeaseNotFound
	case http.StatusRequestTimeout:
		return nil, errLeaseHTTPTimeout
	}
	return nil, fmt.Errorf("lease: unknown error(%s)", bytes.TrimSpace(b))
}

// etcd's leasepb.LeaseInternalRequest and LeaseInternalResponse each wrap
// one message in field 1; they live in etcd's server module, so they are
// encoded here by hand.

func encodeLeaseInternalRequest(r *pb.LeaseTimeToLiveRequest) ([]byte, error) {
	return wrapField1(r)
}

func encodeLeaseInternalResponse(r *pb.LeaseTimeToLiveResponse) ([]byte, error) {
	return wrapField1(r)
}

func wrapField1(m proto.Message) ([]byte, error) {
	inner, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	return protowire.AppendBytes(b, inner), nil
}

func decodeLeaseInternalRequest(b []byte) (*pb.LeaseTimeToLiveRequest, error) {
	r := &pb.LeaseTimeToLiveRequest{}
	return r, unwrapField1(b, r)
}

func decodeLeaseInternalResponse(b []byte) (*pb.LeaseTimeToLiveResponse, error) {
	r := &pb.LeaseTimeToLiveResponse{}
	return r, unwrapField1(b, r)
}

// unwrapField1 decodes field 1 of b into m, skipping unknown fields.
func unwrapField1(b []byte, m proto.Message) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			if err := proto.Unmarshal(v, m); err != nil {
				return err
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil
}
