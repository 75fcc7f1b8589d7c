// Package config parses the etcd server's configuration: command-line flags
// (etcd's names and meanings, Go flag syntax so both -name and --name work),
// ETCD_* environment variables, an etcd-style YAML configuration file, and the
// 2013-style short flags (-c, -s, -C, -d, -n, -f) of the original etcd.
//
// Precedence follows etcd: when a configuration file is given (--config-file or
// ETCD_CONFIG_FILE) every other flag and environment variable is ignored;
// otherwise a command-line flag wins over its environment variable, and an
// environment variable shadowed by a flag is an error.
//
// This product differs from etcd in its listen defaults: clients are served on
// both http://localhost:2379 and http://localhost:4001, peers on both
// http://localhost:2380 and http://localhost:7001.
package config

import (
	"context"
	"log/slog"
	"net/url"
	"time"
)

// Default values (etcd's, except the listen URLs, see the package doc).
const (
	DefaultName                     = "default"
	DefaultInitialClusterToken      = "etcd-cluster"
	DefaultSnapshotCount            = 10000
	DefaultSnapshotCatchUpEntries   = 5000
	DefaultHeartbeatMs              = 100
	DefaultElectionMs               = 1000
	DefaultQuotaBackendBytes        = int64(2 << 30) // used when QuotaBackendBytes is 0
	DefaultMaxRequestBytes          = 1572864        // 1.5 MiB
	DefaultMaxTxnOps                = 128
	DefaultMaxSnapFiles             = 5
	DefaultMaxWALFiles              = 5
	DefaultMaxLearners              = 1
	DefaultLogLevel                 = "info"
	DefaultLogger                   = "zap"
	DefaultLogOutput                = "stderr"
	DefaultListenClientURLs         = "http://localhost:2379,http://localhost:4001"
	DefaultListenPeerURLs           = "http://localhost:2380,http://localhost:7001"
	DefaultAdvertiseClientURLs      = "http://localhost:2379"
	DefaultInitialAdvertisePeerURLs = "http://localhost:2380"
	DefaultInitialCluster           = DefaultName + "=" + DefaultInitialAdvertisePeerURLs
	DefaultMetrics                  = "basic"
	DefaultCompactHashCheckTime     = time.Minute

	ClusterStateNew      = "new"
	ClusterStateExisting = "existing"

	// maxElectionMs is etcd's upper bound for --election-timeout.
	maxElectionMs = 50000
)

// Config is the parsed and defaulted server configuration.
type Config struct {
	Name    string
	DataDir string // defaults to "<Name>.etcd"
	WALDir  string // empty: <DataDir>/member/wal

	ListenClientURLs         []url.URL
	AdvertiseClientURLs      []url.URL
	ListenPeerURLs           []url.URL
	InitialAdvertisePeerURLs []url.URL

	InitialCluster      string // "name=url,name=url"; see InitialClusterMap
	InitialClusterState string // ClusterStateNew or ClusterStateExisting
	InitialClusterToken string

	SnapshotCount          uint64
	SnapshotCatchUpEntries uint64

	HeartbeatInterval time.Duration
	ElectionTimeout   time.Duration

	QuotaBackendBytes int64 // 0 means DefaultQuotaBackendBytes
	MaxRequestBytes   uint
	MaxTxnOps         uint
	MaxSnapFiles      uint
	MaxWALFiles       uint
	MaxLearners       int
	// StrictReconfigCheck rejects membership changes that could cost the
	// cluster its quorum (--strict-reconfig-check, default true).
	StrictReconfigCheck bool

	LogLevel   string   // debug|info|warn|error (also dpanic|panic|fatal, as etcd)
	Logger     string   // always "zap" (accepted for compatibility)
	LogOutputs []string // "stderr", "stdout" or file paths

	UnsafeNoFsync        bool
	BackendBatchInterval time.Duration
	// WatchProgressNotifyInterval is --watch-progress-notify-interval.
	WatchProgressNotifyInterval time.Duration
	// LeaseCheckpointInterval is --experimental-lease-checkpoint-interval.
	LeaseCheckpointInterval time.Duration
	// CompactionBatchLimit is --compaction-batch-limit (0: the default,
	// 1000 revisions per batch).
	CompactionBatchLimit int
	// CompactionSleepInterval is --compaction-sleep-interval (0: the
	// default, 10ms).
	CompactionSleepInterval time.Duration
	BackendBatchLimit       int
	InitialCorruptCheck     bool
	// CorruptCheckTime is --corrupt-check-time: how often the leader
	// compares its HashKV with the other members' (0: never).
	CorruptCheckTime time.Duration
	// CompactHashCheck is the CompactHashCheck feature gate (or the
	// deprecated --experimental-compact-hash-check-enabled): the leader
	// compares the hashes compactions computed with the other members'.
	CompactHashCheck bool
	// CompactHashCheckTime is --compact-hash-check-time: how often it does.
	CompactHashCheckTime time.Duration
	// AutoCompactionMode is --auto-compaction-mode (CompactorModePeriodic
	// or CompactorModeRevision).
	AutoCompactionMode string
	// AutoCompactionRetention is --auto-compaction-retention parsed as etcd
	// does: a time span in periodic mode, a revision count (the duration's
	// value) in revision mode; 0 disables auto compaction.
	AutoCompactionRetention time.Duration
	EnablePprof             bool
	// ListenMetricsURLs is --listen-metrics-urls: more URLs serving only
	// /metrics and the health endpoints (none by default).
	ListenMetricsURLs []url.URL
	// Metrics is --metrics: "basic" (default) or "extensive", which adds
	// the gRPC handling time histogram.
	Metrics string

	// JoinPeers are the peers given with the 2013-style -C flag, each
	// normalised to "http://host:port".
	JoinPeers []string
	// ForceNewMember is the 2013-style -f flag: start a new member over an
	// old data directory.
	ForceNewMember bool

	// PrintVersion is --version: print the version and exit; nothing else is
	// parsed or validated when it is set.
	PrintVersion bool
	// ConfigFile is the configuration file the settings came from, if any.
	ConfigFile string
	// Legacy reports that 2013-style flags were used.
	Legacy bool

	messages []Message
}

// Message is something found while parsing that should be logged once the
// real logger exists (etcd logs these during startup).
type Message struct {
	Level slog.Level
	Msg   string
	Attrs []slog.Attr
}

// Messages returns the messages collected while parsing, in order.
func (c *Config) Messages() []Message { return append([]Message(nil), c.messages...) }

// LogMessages logs the collected messages to lg.
func (c *Config) LogMessages(lg *slog.Logger) {
	for _, m := range c.messages {
		lg.LogAttrs(context.Background(), m.Level, m.Msg, m.Attrs...)
	}
}

func (c *Config) addMessage(level slog.Level, msg string, attrs ...slog.Attr) {
	c.messages = append(c.messages, Message{Level: level, Msg: msg, Attrs: attrs})
}

// QuotaBytes returns the effective backend quota: QuotaBackendBytes, or
// DefaultQuotaBackendBytes when it is 0.
func (c *Config) QuotaBytes() int64 {
	if c.QuotaBackendBytes == 0 {
		return DefaultQuotaBackendBytes
	}
	return c.QuotaBackendBytes
}
