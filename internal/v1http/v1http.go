// Package v1http serves etcd's 2013 v1 HTTP API (/v1/keys, /v1/testAndSet,
// /v1/watch, /v1/machines, /v1/leader, /machines, /leader) on a member's
// client URLs. It is an adapter: every request is translated into the
// member's v3 calls (Put, Range, DeleteRange, Txn, leases, the watchable
// store), so v1 keys are v3 keys, a v1 TTL is a lease and a v1 index is the
// store's revision. It keeps no state of its own.
package v1http

import (
	"context"
	"net/http"
	"strings"
	"sync"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdgo/etcd/internal/mvcc"
)

// Server is what the v1 API needs of a member; *server.Server has it.
type Server interface {
	Range(ctx context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error)
	Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error)
	DeleteRange(ctx context.Context, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error)
	Txn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error)
	LeaseGrant(ctx context.Context, r *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error)
	LeaseRevoke(ctx context.Context, r *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error)
	LeaseTimeToLive(ctx context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error)
	MemberList(ctx context.Context, linearizable bool) (*pb.MemberListResponse, error)
	Header() *pb.ResponseHeader
	Leader() uint64
	Watchable() *mvcc.WatchableStore
	StopNotify() <-chan struct{}
}

// Config tunes the handler.
type Config struct {
	// MaxRequestBytes bounds a request body; a larger one is answered 413.
	MaxRequestBytes uint
}

// Handler serves the v1 API. Close ends its long-polls.
type Handler struct {
	srv Server
	cfg Config

	stopOnce sync.Once
	stopc    chan struct{}
}

// New returns the v1 API handler of srv.
func New(srv Server, cfg Config) *Handler {
	return &Handler{srv: srv, cfg: cfg, stopc: make(chan struct{})}
}

// Close ends every watch long-poll in flight (their clients get 503); the
// handler still answers other requests. It is safe to call more than once.
func (h *Handler) Close() { h.stopOnce.Do(func() { close(h.stopc) }) }

// Handles reports whether path belongs to the v1 API. Paths are matched
// raw: the API normalises keys itself (repeated slashes collapse) rather
// than redirecting.
func Handles(path string) bool {
	return strings.HasPrefix(path, "/v1/") || path == "/v1/keys" || path == "/machines" || path == "/leader"
}

// ServeHTTP routes a v1 request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/v1/keys" || strings.HasPrefix(p, "/v1/keys/"):
		h.serveKeys(w, r, strings.TrimPrefix(p, "/v1/keys"))
	case strings.HasPrefix(p, "/v1/testAndSet/"):
		h.serveTestAndSet(w, r, strings.TrimPrefix(p, "/v1/testAndSet"))
	case p == "/v1/watch" || strings.HasPrefix(p, "/v1/watch/"):
		h.serveWatch(w, r, strings.TrimPrefix(p, "/v1/watch"))
	case p == "/v1/machines" || p == "/machines":
		h.serveMachines(w, r)
	case p == "/v1/leader" || p == "/leader":
		h.serveLeader(w, r)
	default:
		http.NotFound(w, r)
	}
}

// allow answers 405 and reports false unless r's method is one of ms.
func allow(w http.ResponseWriter, r *http.Request, ms ...string) bool {
	for _, m := range ms {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(ms, ", "))
	http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
	return false
}
