package metrics

import (
	"runtime"
	"strconv"
	"time"

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
	diskBuckets = ExponentialBuckets(0.001, 2, 14)  // 1ms .. 8.192s
	rttBuckets  = ExponentialBuckets(0.0001, 2, 16) // 0.1ms .. 3.2768s
)

// Etcd is etcd's metrics of one member that count events as they happen.
// Its methods are safe for concurrent use and cheap; pass them to the
// packages that see the events.
type Etcd struct {
	walFsync      *Histogram
	backendCommit *Histogram
	peerSent      *CounterVec
	peerReceived  *CounterVec
	peerRTT       *HistogramVec
	healthSuccess *Counter
	healthFailed  *Counter
	healthCheck   *GaugeVec
	healthChecks  *CounterVec
}

func newEtcd() *Etcd {
	return &Etcd{
		walFsync:      NewHistogram("etcd_disk_wal_fsync_duration_seconds", "The latency distributions of fsync called by WAL.", diskBuckets),
		backendCommit: NewHistogram("etcd_disk_backend_commit_duration_seconds", "The latency distributions of commit called by backend.", diskBuckets),
		peerSent:      NewCounterVec("etcd_network_peer_sent_bytes_total", "The total number of bytes sent to peers.", "To"),
		peerReceived:  NewCounterVec("etcd_network_peer_received_bytes_total", "The total number of bytes received from peers.", "From"),
		peerRTT:       NewHistogramVec("etcd_network_peer_round_trip_time_seconds", "Round-Trip-Time histogram between peers", rttBuckets, "To"),
		healthSuccess: NewCounter("etcd_server_health_success", "The total number of successful health checks"),
		healthFailed:  NewCounter("etcd_server_health_failures", "The total number of failed health checks"),
		healthCheck:   NewGaugeVec("etcd_server_healthcheck", "The result of each kind of healthcheck.", "type", "name"),
		healthChecks:  NewCounterVec("etcd_server_healthchecks_total", "The total number of each kind of healthcheck.", "type", "name", "status"),
	}
}

func (e *Etcd) collectors() []Collector {
	return []Collector{e.walFsync, e.backendCommit, e.peerSent, e.peerReceived, e.peerRTT,
		e.healthSuccess, e.healthFailed, e.healthCheck, e.healthChecks}
}

// ObserveWALFsync records the duration of one WAL fdatasync.
func (e *Etcd) ObserveWALFsync(d time.Duration) { e.walFsync.Observe(d.Seconds()) }

// ObserveBackendCommit records the duration of one backend (bolt) commit.
func (e *Etcd) ObserveBackendCommit(d time.Duration) { e.backendCommit.Observe(d.Seconds()) }

// PeerSent counts n bytes of raft messages sent to the member to.
func (e *Etcd) PeerSent(to uint64, n int) { e.peerSent.With(idLabel(to)).Add(float64(n)) }

// PeerReceived counts n bytes of raft messages received from the member from.
func (e *Etcd) PeerReceived(from uint64, n int) {
	e.peerReceived.With(idLabel(from)).Add(float64(n))
}

// ObservePeerRTT records one round trip time to the member to.
func (e *Etcd) ObservePeerRTT(to uint64, d time.Duration) {
	e.peerRTT.With(idLabel(to)).Observe(d.Seconds())
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
	e.healthCheck.With(typ, name).Set(v)
	e.healthChecks.With(typ, name, st).Inc()
}

// idLabel formats a member ID as etcd does in labels: hex, no padding.
func idLabel(id uint64) string { return strconv.FormatUint(id, 16) }

// memberCollectors returns the metrics read from m at scrape time.
func memberCollectors(m Member) []Collector {
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	info := func(name, help, label, value string) Collector {
		g := NewGaugeVec(name, help, label)
		g.With(value).Set(1)
		return g
	}
	return []Collector{
		NewGaugeFunc("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.",
			func() float64 { return b2f(m.Leader() != 0) }),
		NewGaugeFunc("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.",
			func() float64 { return b2f(m.Leader() != 0 && m.Leader() == m.ID()) }),
		NewGaugeFunc("etcd_server_is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.",
			func() float64 { return b2f(m.IsLearner()) }),
		NewCounterFunc("etcd_server_leader_changes_seen_total", "The number of leader changes seen.",
			func() float64 { return float64(m.LeaderChangesSeen()) }),
		// etcd declares these two "_total" metrics as gauges.
		NewGaugeFunc("etcd_server_proposals_committed_total", "The total number of consensus proposals committed.",
			func() float64 { return float64(m.CommittedIndex()) }),
		NewGaugeFunc("etcd_server_proposals_applied_total", "The total number of consensus proposals applied.",
			func() float64 { return float64(m.AppliedIndex()) }),
		NewGaugeFunc("etcd_server_proposals_pending", "The current number of pending proposals to commit.",
			func() float64 { return float64(m.ProposalsPending()) }),
		NewCounterFunc("etcd_server_proposals_failed_total", "The total number of failed proposals seen.",
			func() float64 { return float64(m.ProposalsFailed()) }),
		NewGaugeFunc("etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.",
			func() float64 { return float64(m.QuotaBackendBytes()) }),
		info("etcd_server_id", "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
			"server_id", idLabel(m.ID())),
		info("etcd_server_version", "Which version is running. 1 for 'server_version' label with current version.",
			"server_version", version.Version),
		info("etcd_server_go_version", "Which Go version server is running with. 1 for 'server_go_version' label with current version.",
			"server_go_version", runtime.Version()),
		info("etcd_cluster_version", "Which version is running. 1 for 'cluster_version' label with current cluster version",
			"cluster_version", ClusterVersion()),
		NewGaugeFunc("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.",
			func() float64 { return float64(m.DBSize()) }),
		NewGaugeFunc("etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.",
			func() float64 { return float64(m.DBSizeInUse()) }),
		NewGaugeFunc("etcd_debugging_mvcc_keys_total", "Total number of keys.",
			func() float64 { return float64(m.KeysTotal()) }),
		NewGaugeFunc("etcd_debugging_mvcc_current_revision", "The current revision of store.",
			func() float64 { return float64(m.CurrentRevision()) }),
		NewGaugeFunc("etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.",
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

// Metrics is the whole /metrics of one member: etcd's metrics, the gRPC
// server's, and the Go runtime's and process's.
type Metrics struct {
	*Registry
	// Etcd takes the events etcd's metrics count.
	Etcd *Etcd
	// GRPC has the gRPC server's interceptors.
	GRPC *GRPC
}

// New returns the metrics of a member whose server does not exist yet
// (its Observe* functions go into the server's configuration); call
// RegisterMember once it does. extensive is --metrics=extensive.
func New(extensive bool) *Metrics {
	m := &Metrics{Registry: NewRegistry(), Etcd: newEtcd(), GRPC: NewGRPC(extensive)}
	m.Register(m.Etcd.collectors()...)
	m.Register(m.GRPC, GoCollector(), ProcessCollector())
	return m
}

// RegisterMember adds the metrics read from the member at scrape time.
func (m *Metrics) RegisterMember(mem Member) { m.Register(memberCollectors(mem)...) }
