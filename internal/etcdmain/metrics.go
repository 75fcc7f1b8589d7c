package etcdmain

import (
	"net/http"
	"time"

	"github.com/etcdgo/etcd/internal/config"
	"github.com/etcdgo/etcd/internal/metrics"
	"github.com/etcdgo/etcd/internal/server"
)

// newMetrics returns the member's metrics (--metrics) and the hooks that
// feed them from the server.
func newMetrics(cfg *config.Config) (*metrics.Metrics, server.Hooks) {
	m := metrics.New(cfg.Metrics == "extensive")
	return m, server.Hooks{
		WALFsync:      m.Etcd.ObserveWALFsync,
		BackendCommit: m.Etcd.ObserveBackendCommit,
		PeerSent:      m.Etcd.PeerSent,
		PeerReceived:  m.Etcd.PeerReceived,
		PeerRTT:       m.Etcd.ObservePeerRTT,
	}
}

// memberMetrics is what the metrics read from the server.
type memberMetrics struct{ *server.Server }

func (m memberMetrics) DBSize() int64          { return m.Backend().Size() }
func (m memberMetrics) DBSizeInUse() int64     { return m.Backend().SizeInUse() }
func (m memberMetrics) CurrentRevision() int64 { return m.KV().Rev() }
func (m memberMetrics) CompactRevision() int64 { return m.KV().FirstRev() }

// reqTimeout is etcd's bound of a request: 5s plus two election timeouts.
func reqTimeout(cfg *config.Config) time.Duration {
	return 5*time.Second + 2*cfg.ElectionTimeout
}

// metricsHandler serves --listen-metrics-urls: /metrics and the health
// endpoints, as etcd does.
func metricsHandler(reg *metrics.Metrics, h *health) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", reg.Handler())
	h.install(mux)
	return mux
}

// serveMetrics listens on --listen-metrics-urls and serves h there until
// the member closes.
func (m *member) serveMetrics(cfg *config.Config, h http.Handler) error {
	lns, err := listenAll(m.lg, cfg.ListenMetricsURLs, "metric")
	if err != nil {
		return err
	}
	for _, l := range lns {
		hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		m.closers = append(m.closers, func() { hs.Close() })
		m.lg.Info("serving metrics", "address", "http://"+l.Addr().String())
		m.goServe(func() error { return hs.Serve(l) })
	}
	return nil
}
