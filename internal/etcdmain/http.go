package etcdmain

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"go.etcd.io/etcd/api/v3/version"

	"github.com/etcdgo/etcd/internal/metrics"
	"github.com/etcdgo/etcd/internal/server"
	"github.com/etcdgo/etcd/internal/v1http"
)

// clientHandler serves the HTTP endpoints of the client URLs: the v1 API
// (v1, whose paths are routed unmodified, as it normalises keys itself),
// /version, /metrics, and /health, /livez and /readyz (health.go).
func clientHandler(lg *slog.Logger, srv *server.Server, v1 *v1http.Handler, mx *metrics.Metrics, hc *health, enablePprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/version", versionHandler(srv))
	mux.Handle("/metrics", mx.Handler())
	hc.install(mux)
	if enablePprof {
		installPprof(lg, mux)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v1http.Handles(r.URL.Path) {
			v1.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// peerHandler serves the peer URLs: raft's transport under /raft and /version.
func peerHandler(srv *server.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/version", versionHandler(srv))
	raft := srv.PeerHandler()
	mux.Handle("/raft", raft)
	mux.Handle("/raft/", raft)
	api := srv.PeerAPIHandler()
	mux.Handle("/members", api)
	mux.Handle("/members/", api)
	leases := srv.LeaseHandler()
	mux.Handle("/leases", leases)
	mux.Handle("/leases/internal", leases)
	mux.Handle(server.PeerHashKVPath, srv.HashKVHandler())
	mux.Handle(server.PeerJoinPath, srv.JoinHandler())
	return mux
}

// versionHandler answers GET /version as etcd does.
func versionHandler(srv *server.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(struct {
			Server  string `json:"etcdserver"`
			Cluster string `json:"etcdcluster"`
			Storage string `json:"storage"`
		}{version.Version, clusterVersion(), srv.StorageVersion()})
	})
}

func clusterVersion() string {
	v := version.Version
	for i, dots := 0, 0; i < len(v); i++ {
		if v[i] == '.' {
			dots++
			if dots == 2 {
				return v[:i] + ".0"
			}
		}
	}
	return v
}
