// Package server is one etcd member: it bootstraps or restarts from its data
// dir, proposes client writes through raft, applies committed entries to the
// MVCC store, serves reads (linearizable through ReadIndex, or serializable
// from the local store) and keeps the member set.
//
// Where things live:
//   - bootstrap.go: open the data dir, start a new member or restart one.
//   - propose.go: turn a write into a raft proposal and wait for its result.
//   - apply.go: the single goroutine that applies committed entries.
//   - read.go: linearizable reads, batched over one ReadIndex round.
//   - kv.go: the KV calls the gRPC adapter makes.
//   - membership.go, cluster_apply.go: members, their IDs and conf changes.
//   - snapshot.go: raft snapshots, log compaction and file purging.
//   - status.go: what Maintenance.Status and MemberList report.
package server

import (
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/lease"
	"github.com/etcdgo/etcd/internal/mvcc"
	"github.com/etcdgo/etcd/internal/rafthttp"
	"github.com/etcdgo/etcd/internal/raftnode"
)

// Config is what a member needs to start. etcdmain fills it from the flags.
type Config struct {
	Logger *slog.Logger
	Name   string
	// DataDir holds member/wal, member/snap and member/snap/db.
	DataDir string
	// WALDir, when set, holds the WAL instead of DataDir/member/wal.
	WALDir string
	// ClientURLs are the advertised client URLs, published to the cluster.
	ClientURLs []string
	// PeerURLs are this member's advertised peer URLs.
	PeerURLs []string
	// InitialCluster maps member names to peer URLs (--initial-cluster).
	InitialCluster      map[string][]url.URL
	InitialClusterState string
	InitialClusterToken string

	SnapshotCount          uint64
	SnapshotCatchUpEntries uint64
	TickInterval           time.Duration
	ElectionTicks          int
	MaxRequestBytes        uint
	MaxTxnOps              uint
	MaxSnapFiles           uint
	MaxWALFiles            uint
	QuotaBackendBytes      int64
	BackendBatchInterval   time.Duration
	BackendBatchLimit      int
	UnsafeNoFsync          bool
	// LeaseCheckpointInterval is how often long leases are checkpointed
	// (lease.DefaultCheckpointInterval if 0).
	LeaseCheckpointInterval time.Duration
	// CompactionBatchLimit and CompactionSleepInterval tune the background
	// deletion of a compaction (--compaction-batch-limit and
	// --compaction-sleep-interval; mvcc's defaults when 0).
	CompactionBatchLimit    int
	CompactionSleepInterval time.Duration
	// MaxLearners bounds the learners of the cluster (--max-learners).
	MaxLearners int
	// StrictReconfigCheck rejects membership changes that could cost the
	// cluster its quorum.
	StrictReconfigCheck bool
	// Hooks receive the events the metrics count (metrics.go).
	Hooks Hooks
	// JoinPeers, when set, are peer URLs of a running cluster that a new
	// member (no WAL) asks for its own admission (2013-style -C, join.go);
	// a member with a WAL ignores them.
	JoinPeers []string
	// ForceJoin lets a joining member replace a started member with the
	// same peer URLs (2013-style -f).
	ForceJoin bool
	// InitialCorruptCheck compares this member's HashKV with its peers'
	// before it starts (corrupt.go); CorruptCheckTime is how often the
	// leader compares them while it runs (0: never).
	InitialCorruptCheck bool
	CorruptCheckTime    time.Duration
	// CompactHashCheck makes the leader compare, every
	// CompactHashCheckTime, the hashes its compactions computed with the
	// other members' at the same revisions (compact_hash.go).
	CompactHashCheck     bool
	CompactHashCheckTime time.Duration
	// AutoCompactionMode ("periodic" or "revision") and
	// AutoCompactionRetention (a span, or a revision count) drive the
	// leader's auto compaction (compactor.go); 0 retention disables it.
	AutoCompactionMode      string
	AutoCompactionRetention time.Duration
}

// Server is one running member.
type Server struct {
	cfg Config
	lg  *slog.Logger

	id      uint64
	cluster *cluster

	r           *raftnode.Node
	transport   *rafthttp.Transport
	raftStorage *raft.MemoryStorage
	storage     *diskStorage

	be backend.Backend
	kv *mvcc.Store
	// watchable is kv with its watch layer (watch.go).
	watchable *mvcc.WatchableStore
	// lessor holds the leases; see lease.go and lease_apply.go.
	lessor lease.Lessor

	w         *waitRegistry
	reqIDs    *idGenerator
	applyWait *indexWaiter

	// applyMu is the backend's commit gate: the apply goroutine holds it while
	// it applies one entry, so a backend commit never holds half an entry.
	applyMu sync.Mutex
	// consistIndex and consistTerm name the last entry fully applied to the
	// backend; the backend writes them into "meta" at every commit.
	consistIndex atomic.Uint64
	consistTerm  atomic.Uint64

	// singleVoter: the member knows of no other member at start.
	singleVoter bool
	// proposals counts proposals for the metrics (metrics.go).
	proposals proposalStats
	// joinPeers are the members of the cluster this new member joins
	// (--initial-cluster-state=existing), known before the log brings them.
	joinPeers []*Member
	// storageVersion caches the backend's storage version (a string).
	storageVersion atomic.Value
	// closeMu guards the store and backend against use after Stop closed
	// them: readers hold it for reading (see useStore), Stop takes it for
	// writing and sets closed before closing them.
	closeMu sync.RWMutex
	closed  bool
	// stopReq is closed when the member decides to stop by itself (removed
	// from the cluster, a failed apply or raft loop); see StopRequested.
	stopReq     chan struct{}
	stopReqOnce sync.Once
	// stopWatched: the owner watches StopRequested and calls Stop itself.
	stopWatched atomic.Bool
	// removedSelf is set when this member applied its own removal.
	removedSelf atomic.Bool
	// maint holds the alarms, the quota and the corruption checker
	// (alarm.go, quota.go, corrupt.go).
	maint maintenance

	// Owned by the apply goroutine.
	confState     *raftpb.ConfState
	snapshotIndex uint64

	readwaitc    chan struct{}
	readMu       sync.RWMutex
	readNotifier *notifier

	readyc   chan struct{}
	stopping chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// ID returns this member's ID.
func (s *Server) ID() uint64 { return s.id }

// ClusterID returns the cluster's ID.
func (s *Server) ClusterID() uint64 { return s.cluster.ID() }

// ReadyNotify is closed once the member has published itself to the cluster
// and is ready to serve clients.
func (s *Server) ReadyNotify() <-chan struct{} { return s.readyc }

// StopNotify is closed when the server has stopped.
func (s *Server) StopNotify() <-chan struct{} { return s.done }

// KV returns the member's MVCC store.
func (s *Server) KV() *mvcc.Store { return s.kv }

// Backend returns the member's backend.
func (s *Server) Backend() backend.Backend { return s.be }

// AppliedIndex returns the index of the last applied entry.
func (s *Server) AppliedIndex() uint64 { return s.consistIndex.Load() }

// Leader returns the current leader's ID, 0 when there is none.
func (s *Server) Leader() uint64 { return s.r.Leader() }

// Term returns the current raft term.
func (s *Server) Term() uint64 { return s.r.Term() }

// reqTimeout bounds a proposal: 5s plus two election timeouts, as etcd.
func (s *Server) reqTimeout() time.Duration {
	return 5*time.Second + 2*time.Duration(s.cfg.ElectionTicks)*s.cfg.TickInterval
}
