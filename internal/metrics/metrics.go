// Package metrics exposes a member's metrics through
// github.com/prometheus/client_golang, under the names, types, labels, help
// strings and buckets etcd v3.7 uses, so that dashboards and alerts written
// for etcd work unchanged.
//
// Each member has a registry of its own (several members may run in one
// process, as in tests). Values the member already keeps are read when
// /metrics is scraped (GaugeFunc, CounterFunc); events that must be counted
// as they happen (a WAL fsync, a backend commit, bytes to a peer, a gRPC
// call) are reported through Etcd's methods and GRPC's interceptors, which
// etcdmain hands to the packages as plain functions, so that those packages
// stay free of any metrics code.
//
// Where things live:
//   - metrics.go: Metrics, a member's registry and its HTTP handler.
//   - etcd.go: etcd's metrics of a member.
//   - grpc.go: gRPC server metrics with go-grpc-prometheus's names.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the whole /metrics of one member: etcd's metrics, the gRPC
// server's, the Go runtime's and the process's.
type Metrics struct {
	// Registry holds every collector of the member.
	Registry *prometheus.Registry
	// Etcd takes the events etcd's metrics count.
	Etcd *Etcd
	// GRPC has the gRPC server's interceptors.
	GRPC *GRPC

	handler http.Handler
}

// New returns the metrics of a member whose server does not exist yet
// (its Observe* functions go into the server's configuration); call
// RegisterMember once it does. extensive is --metrics=extensive.
func New(extensive bool) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{Registry: reg, Etcd: newEtcd(), GRPC: NewGRPC(extensive)}
	reg.MustRegister(m.Etcd.collectors()...)
	reg.MustRegister(m.GRPC,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// As etcd's promhttp.Handler(): promhttp_metric_handler_requests_* count
	// the scrapes. OpenMetrics stays off, as in etcd: a scraper offered it
	// would store counters without a _total suffix (etcd_server_health_success)
	// under another name.
	m.handler = promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return m
}

// RegisterMember adds the metrics read from the member at scrape time. It
// panics if called twice.
func (m *Metrics) RegisterMember(mem Member) { m.Registry.MustRegister(memberCollectors(mem)...) }

// Handler serves the registry in the Prometheus text format (gzipped when
// the client accepts it).
func (m *Metrics) Handler() http.Handler { return m.handler }
