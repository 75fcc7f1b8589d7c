package metrics

import (
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/api/v3/version"
)

// Member is what the etcd metrics read from a member at every scrape.
type Member interface {
	// ID is the member's ID.
	ID() uint64
	// Leader is the leader's ID, 0 when there is none.
	Leader() uint64
	// LeaderChangesSeen counts the times a new leader became known.
	LeaderChangesSeen() uint64
	// CommittedIndex and AppliedIndex are the raft indexes committed and
	// applied.
	CommittedIndex() uint64
	AppliedIndex() uint64
	// ProposalsPending is the number of proposals waiting to be applied;
	// ProposalsFailed counts the proposals that failed (dropped, timed out).
	ProposalsPending() int64
	ProposalsFailed() uint64
	// DBSize and DBSizeInUse are the backend file's size and the part of it
	// in use, in bytes.
	DBSize() int64
	DBSizeInUse() int64
	// KeysTotal is the number of keys in the keyspace.
	KeysTotal() int64
	// CurrentRevision and CompactRevision are the store's revisions.
	CurrentRevision() int64
	CompactRevision() int64
	// QuotaBackendBytes is the backend quota in bytes.
	QuotaBackendBytes() int64
	// IsLearner reports whether the member is a learner.
	IsLearner() bool
}

// Buckets of etcd's disk and network histograms.
var (
	diskBuckets = prometheus.ExponentialBuckets(0.001, 2, 14)  // 1ms .. 8.192s
	rttBuckets  = prometheus.ExponentialBuckets(0.0001, 2, 16) // 0.1ms .. 3.2768s
)

// Etcd is etcd's metrics of one member that count events as they happen.
// Its methods are safe for concurrent use and cheap; pass them to the
// packages that see the events.
type Etcd struct {
	walFsync      prometheus.Histogram
	backendCommit prometheus.Histogram
	peerSent      *prometheus.CounterVec
	peerReceived  *prometheus.CounterVec
	peerRTT       *prometheus.HistogramVec
	healthSuccess prometheus.Counter
	healthFailed  prometheus.Counter
	healthCheck   *prometheus.GaugeVec
	healthChecks  *prometheus.CounterVec
}

func newEtcd() *Etcd {
	return &Etcd{
		walFsync: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "etcd_disk_wal_fsync_duration_seconds",
			Help: "The latency distributions of fsync called by WAL.", Buckets: diskBuckets}),
		backendCommit: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "etcd_disk_backend_commit_duration_seconds",
			Help: "The latency distributions of commit called by backend.", Buckets: diskBuckets}),
		peerSent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "etcd_network_peer_sent_bytes_total",
			Help: "The total number of bytes sent to peers."}, []string{"To"}),
		peerReceived: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "etcd_network_peer_received_bytes_total",
			Help: "The total number of bytes received from peers."}, []string{"From"}),
		peerRTT: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "etcd_network_peer_round_trip_time_seconds",
			Help: "Round-Trip-Time histogram between peers", Buckets: rttBuckets}, []string{"To"}),
		healthSuccess: prometheus.NewCounter(prometheus.CounterOpts{Name: "etcd_server_health_success",
			Help: "The total number of successful health checks"}),
		healthFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "etcd_server_health_failures",
			Help: "The total number of failed health checks"}),
		healthCheck: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "etcd_server_healthcheck",
			Help: "The result of each kind of healthcheck."}, []string{"type", "name"}),
		healthChecks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "etcd_server_healthchecks_total",
			Help: "The total number of each kind of healthcheck."}, []string{"type", "name", "status"}),
	}
}

func (e *Etcd) collectors() []prometheus.Collector {
	return []prometheus.Collector{e.walFsync, e.backendCommit, e.peerSent, e.peerReceived, e.peerRTT,
		e.healthSuccess, e.healthFailed, e.healthCheck, e.healthChecks}
}

// ObserveWALFsync records the duration of one WAL fdatasync.
func (e *Etcd) ObserveWALFsync(d time.Duration) { e.walFsync.Observe(d.Seconds()) }

// ObserveBackendCommit records the duration of one backend (bolt) commit.
func (e *Etcd) ObserveBackendCommit(d time.Duration) { e.backendCommit.Observe(d.Seconds()) }

// PeerSent counts n bytes of raft messages sent to the member to.
func (e *Etcd) PeerSent(to uint64, n int) { e.peerSent.WithLabelValues(idLabel(to)).Add(float64(n)) }

// PeerReceived counts n bytes of raft messages received from the member from.
func (e *Etcd) PeerReceived(from uint64, n int) {
	e.peerReceived.WithLabelValues(idLabel(from)).Add(float64(n))
}

// ObservePeerRTT records one round trip time to the member to.
func (e *Etcd) ObservePeerRTT(to uint64, d time.Duration) {
	e.peerRTT.WithLabelValues(idLabel(to)).Observe(d.Seconds())
}

// HealthServed counts one answer of /health.
func (e *Etcd) HealthServed(healthy bool) {
	if healthy {
		e.healthSuccess.Inc()
	} else {
		e.healthFailed.Inc()
	}
}

// CheckRan records the result of one /livez or /readyz check (typ "livez"
// or "readyz").
func (e *Etcd) CheckRan(typ, name string, ok bool) {
	v, st := 0.0, "error"
	if ok {
		v, st = 1, "success"
	}
	e.healthCheck.WithLabelValues(typ, name).Set(v)
	e.healthChecks.WithLabelValues(typ, name, st).Inc()
}

// idLabel formats a member ID as etcd does in labels: hex, no padding.
func idLabel(id uint64) string { return strconv.FormatUint(id, 16) }

// memberCollectors returns the metrics read from m at scrape time.
func memberCollectors(m Member) []prometheus.Collector {
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	info := func(name, help, label, value string) prometheus.Collector {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{label})
		g.WithLabelValues(value).Set(1)
		return g
	}
	return []prometheus.Collector{
		gauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.",
			func() float64 { return b2f(m.Leader() != 0) }),
		gauge("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.",
			func() float64 { return b2f(m.Leader() != 0 && m.Leader() == m.ID()) }),
		gauge("etcd_server_is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.",
			func() float64 { return b2f(m.IsLearner()) }),
		counter("etcd_server_leader_changes_seen_total", "The number of leader changes seen.",
			func() float64 { return float64(m.LeaderChangesSeen()) }),
		// etcd declares these two "_total" metrics as gauges.
		gauge("etcd_server_proposals_committed_total", "The total number of consensus proposals committed.",
			func() float64 { return float64(m.CommittedIndex()) }),
		gauge("etcd_server_proposals_applied_total", "The total number of consensus proposals applied.",
			func() float64 { return float64(m.AppliedIndex()) }),
		gauge("etcd_server_proposals_pending", "The current number of pending proposals to commit.",
			func() float64 { return float64(m.ProposalsPending()) }),
		counter("etcd_server_proposals_failed_total", "The total number of failed proposals seen.",
			func() float64 { return float64(m.ProposalsFailed()) }),
		gauge("etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.",
			func() float64 { return float64(m.QuotaBackendBytes()) }),
		info("etcd_server_id", "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
			"server_id", idLabel(m.ID())),
		info("etcd_server_version", "Which version is running. 1 for 'server_version' label with current version.",
			"server_version", version.Version),
		info("etcd_server_go_version", "Which Go version server is running with. 1 for 'server_go_version' label with current version.",
			"server_go_version", runtime.Version()),
		info("etcd_cluster_version", "Which version is running. 1 for 'cluster_version' label with current cluster version",
			"cluster_version", ClusterVersion()),
		gauge("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.",
			func() float64 { return float64(m.DBSize()) }),
		gauge("etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.",
			func() float64 { return float64(m.DBSizeInUse()) }),
		gauge("etcd_debugging_mvcc_keys_total", "Total number of keys.",
			func() float64 { return float64(m.KeysTotal()) }),
		gauge("etcd_debugging_mvcc_current_revision", "The current revision of store.",
			func() float64 { return float64(m.CurrentRevision()) }),
		gauge("etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.",
			func() float64 { return float64(m.CompactRevision()) }),
	}
}

// ClusterVersion is the cluster version this build reports: its own
// major.minor with patch 0, as etcd's cluster version reads.
func ClusterVersion() string {
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
