package v1http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// failingServer answers every read and write with err (the embedded nil
// Server is never called by the paths under test).
type failingServer struct {
	Server
	err error
}

func (f *failingServer) Range(context.Context, *pb.RangeRequest) (*pb.RangeResponse, error) {
	return nil, f.err
}

func (f *failingServer) Txn(context.Context, *pb.TxnRequest) (*pb.TxnResponse, error) {
	return nil, f.err
}

func (f *failingServer) DeleteRange(context.Context, *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	return nil, f.err
}

func (f *failingServer) LeaseGrant(context.Context, *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	return nil, f.err
}

func (f *failingServer) MemberList(context.Context, bool) (*pb.MemberListResponse, error) {
	return nil, f.err
}

func (f *failingServer) Header() *pb.ResponseHeader { return &pb.ResponseHeader{Revision: 42} }

// TestServerErrorsMap checks that the member's gRPC errors during a leader
// election (no leader, leader changed, timeouts, a stopping member) answer
// 503 with error 301, and other failures 500 with error 300, on every
// endpoint that reads or writes.
func TestServerErrorsMap(t *testing.T) {
	for _, c := range []struct {
		err          error
		status, code int
	}{
		{rpctypes.ErrGRPCNoLeader, 503, ecodeLeaderElect},
		{rpctypes.ErrGRPCLeaderChanged, 503, ecodeLeaderElect},
		{rpctypes.ErrGRPCTimeout, 503, ecodeLeaderElect},
		{rpctypes.ErrGRPCTimeoutDueToLeaderFail, 503, ecodeLeaderElect},
		{rpctypes.ErrGRPCTimeoutDueToConnectionLost, 503, ecodeLeaderElect},
		{rpctypes.ErrGRPCStopped, 503, ecodeLeaderElect},
		{rpctypes.ErrGRPCNotLeader, 503, ecodeLeaderElect},
		{rpctypes.ErrGRPCDeadlineExceeded, 503, ecodeLeaderElect},
		{fmt.Errorf("wrapped: %w", rpctypes.ErrGRPCNoLeader), 503, ecodeLeaderElect},
		{rpctypes.ErrGRPCCorrupt, 500, ecodeRaftInternal},
		{rpctypes.ErrGRPCNoSpace, 500, ecodeRaftInternal},
		{errors.New("disk on fire"), 500, ecodeRaftInternal},
	} {
		h := New(&failingServer{err: c.err}, Config{})
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/v1/keys/k", ""},
			{"GET", "/v1/keys/", ""},
			{"POST", "/v1/keys/k", "value=v"},
			{"POST", "/v1/keys/k", "value=v&ttl=5"},
			{"DELETE", "/v1/keys/k", ""},
			{"POST", "/v1/testAndSet/k", "prevValue=a&value=b"},
			{"GET", "/v1/machines", ""},
		} {
			req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
			if r.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var e Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != c.status || e.ErrorCode != c.code ||
				e.Message != errMessages[c.code] || e.Index != 42 || e.Cause == "" {
				t.Errorf("%v: %s %s: %d %s, want %d with error %d", c.err, r.method, r.path, rec.Code, rec.Body, c.status, c.code)
			}
		}
	}
}

// TestLeaderDuringElection checks that /v1/leader answers 301 while the
// member knows no leader.
func TestLeaderDuringElection(t *testing.T) {
	h := New(&noLeaderServer{}, Config{})
	for _, p := range []string{"/v1/leader", "/leader"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"errorCode":301`) {
			t.Errorf("GET %s without a leader: %d %s", p, rec.Code, rec.Body)
		}
	}
}

type noLeaderServer struct{ Server }

func (noLeaderServer) MemberList(context.Context, bool) (*pb.MemberListResponse, error) {
	return &pb.MemberListResponse{Members: []*pb.Member{{ID: 1, PeerURLs: []string{"http://127.0.0.1:7001"}}}}, nil
}
func (noLeaderServer) Leader() uint64             { return 0 }
func (noLeaderServer) Header() *pb.ResponseHeader { return &pb.ResponseHeader{Revision: 1} }
