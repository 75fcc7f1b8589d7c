package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Names of the 2013-style flags (see legacy.go).
const (
	legacyClient  = "c"
	legacyPeer    = "s"
	legacyJoin    = "C"
	legacyDataDir = "d"
	legacyName    = "n"
	legacyForce   = "f"
)

// legacyFlags are flags without an environment variable: 2013-style short
// forms (their ETCD_C / ETCD_c spellings would collide).
var legacyFlags = map[string]bool{
	legacyClient: true, legacyPeer: true, legacyJoin: true,
	legacyDataDir: true, legacyName: true, legacyForce: true,
}

// flagValues holds the raw flag values before they become a Config.
type flagValues struct {
	name, dataDir, walDir string

	listenClient, advertiseClient urlsValue
	listenPeer, advertisePeer     urlsValue

	initialCluster, initialClusterToken string
	clusterState                        choiceValue

	snapshotCount, catchUp, expCatchUp uint64
	heartbeatMs, electionMs            uint
	quota                              int64
	maxRequestBytes, maxTxnOps         uint
	maxSnaps, maxWALs                  uint
	maxLearners, expMaxLearners        int
	strictReconfigCheck                bool

	logLevel, logger string
	logOutputs       stringsValue

	unsafeNoFsync          bool
	batchInterval          time.Duration
	batchLimit             int
	expInitialCorruptCheck bool
	featureGates           string
	corruptCheckTime       time.Duration
	expCorruptCheckTime    time.Duration
	compactHashCheckTime   time.Duration
	expCompactHashCheck    bool
	expCompactHashTime     time.Duration
	autoCompactionMode     choiceValue
	autoCompactionRetain   string
	enablePprof            bool
	listenMetrics          optionalURLsValue
	metrics                string

	version    bool
	configFile string

	watchProgressNotify     time.Duration
	leaseCheckpointInterval time.Duration
	compactionBatchLimit    int
	compactionSleepInterval time.Duration

	// 2013-style flags.
	lClient, lPeer, lJoin, lDataDir, lName string
	lForce                                 bool
}

// newFlagSet returns a flag set with every supported flag registered at its
// default value. Its output is discarded: errors are returned, usage is
// available from usage().
func newFlagSet() (*flag.FlagSet, *flagValues) {
	v := &flagValues{
		clusterState:       choiceValue{val: ClusterStateNew, valid: []string{ClusterStateNew, ClusterStateExisting}},
		logOutputs:         stringsValue{DefaultLogOutput},
		autoCompactionMode: choiceValue{val: CompactorModePeriodic, valid: []string{CompactorModePeriodic, CompactorModeRevision}},
	}
	mustSet := func(u *urlsValue, s string) {
		if err := u.Set(s); err != nil {
			panic(err)
		}
	}
	mustSet(&v.listenClient, DefaultListenClientURLs)
	mustSet(&v.advertiseClient, DefaultAdvertiseClientURLs)
	mustSet(&v.listenPeer, DefaultListenPeerURLs)
	mustSet(&v.advertisePeer, DefaultInitialAdvertisePeerURLs)

	fs := flag.NewFlagSet("etcd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)

	// member
	fs.StringVar(&v.name, "name", DefaultName, "Human-readable name for this member.")
	fs.StringVar(&v.dataDir, "data-dir", "", "Path to the data directory (default \"${name}.etcd\").")
	fs.StringVar(&v.walDir, "wal-dir", "", "Path to the dedicated wal directory.")
	fs.Uint64Var(&v.snapshotCount, "snapshot-count", DefaultSnapshotCount, "Number of committed transactions to trigger a snapshot to disk.")
	fs.Uint64Var(&v.catchUp, "snapshot-catchup-entries", DefaultSnapshotCatchUpEntries, "Number of entries for a slow follower to catch up after compacting the raft storage entries.")
	fs.Uint64Var(&v.expCatchUp, "experimental-snapshot-catchup-entries", DefaultSnapshotCatchUpEntries, "Deprecated: use --snapshot-catchup-entries.")
	fs.UintVar(&v.heartbeatMs, "heartbeat-interval", DefaultHeartbeatMs, "Time (in milliseconds) of a heartbeat interval.")
	fs.UintVar(&v.electionMs, "election-timeout", DefaultElectionMs, "Time (in milliseconds) for an election to timeout.")
	fs.Var(&v.listenPeer, "listen-peer-urls", "List of URLs to listen on for peer traffic.")
	fs.Var(&v.listenClient, "listen-client-urls", "List of URLs to listen on for client traffic.")
	fs.UintVar(&v.maxSnaps, "max-snapshots", DefaultMaxSnapFiles, "Maximum number of snapshot files to retain (0 is unlimited).")
	fs.UintVar(&v.maxWALs, "max-wals", DefaultMaxWALFiles, "Maximum number of wal files to retain (0 is unlimited).")
	fs.Int64Var(&v.quota, "quota-backend-bytes", 0, "Raise alarms when backend size exceeds the given quota (0 defaults to 2GiB).")
	fs.DurationVar(&v.batchInterval, "backend-batch-interval", 0, "Maximum time before commit the backend transaction.")
	fs.DurationVar(&v.watchProgressNotify, "watch-progress-notify-interval", 10*time.Minute, "Duration of periodic watch progress notifications.")
	fs.DurationVar(&v.leaseCheckpointInterval, "experimental-lease-checkpoint-interval", 5*time.Minute, "Duration of time between two lease checkpoints.")
	fs.IntVar(&v.compactionBatchLimit, "compaction-batch-limit", 0, "Sets the maximum revisions deleted in each compaction batch.")
	fs.DurationVar(&v.compactionSleepInterval, "compaction-sleep-interval", 0, "Sets the sleep interval between each compaction batch.")
	fs.IntVar(&v.batchLimit, "backend-batch-limit", 0, "Maximum operations before commit the backend transaction.")
	fs.UintVar(&v.maxTxnOps, "max-txn-ops", DefaultMaxTxnOps, "Maximum number of operations permitted in a transaction.")
	fs.UintVar(&v.maxRequestBytes, "max-request-bytes", DefaultMaxRequestBytes, "Maximum client request size in bytes the server will accept.")
	fs.IntVar(&v.maxLearners, "max-learners", DefaultMaxLearners, "Maximum number of learners that can be available in the cluster membership.")
	fs.BoolVar(&v.strictReconfigCheck, "strict-reconfig-check", true, "Reject reconfiguration requests that would cause quorum loss.")
	fs.IntVar(&v.expMaxLearners, "experimental-max-learners", DefaultMaxLearners, "Deprecated: use --max-learners.")

	// clustering
	fs.Var(&v.advertisePeer, "initial-advertise-peer-urls", "List of this member's peer URLs to advertise to the rest of the cluster.")
	fs.StringVar(&v.initialCluster, "initial-cluster", DefaultInitialCluster, "Initial cluster configuration for bootstrapping.")
	fs.Var(&v.clusterState, "initial-cluster-state", "Initial cluster state ('new' or 'existing').")
	fs.StringVar(&v.initialClusterToken, "initial-cluster-token", DefaultInitialClusterToken, "Initial cluster token for the etcd cluster during bootstrap.")
	fs.Var(&v.advertiseClient, "advertise-client-urls", "List of this member's client URLs to advertise to the public.")

	// logging
	fs.StringVar(&v.logger, "logger", DefaultLogger, "Currently only supports 'zap' for structured logging.")
	fs.Var(&v.logOutputs, "log-outputs", "Comma-separated log outputs: 'stderr', 'stdout' or file paths.")
	fs.StringVar(&v.logLevel, "log-level", DefaultLogLevel, "Configures log level. Only supports debug, info, warn, error, panic, or fatal.")

	// misc
	fs.BoolVar(&v.enablePprof, "enable-pprof", false, "Enable runtime profiling data via HTTP server at client URL + \"/debug/pprof/\".")
	fs.StringVar(&v.metrics, "metrics", DefaultMetrics, "Set level of detail for exported metrics, specify 'extensive' to include server side grpc histogram metrics")
	fs.Var(&v.listenMetrics, "listen-metrics-urls", "List of URLs to listen on for the /metrics and /health endpoints. For https, the client URL TLS info is used.")
	fs.BoolVar(&v.unsafeNoFsync, "unsafe-no-fsync", false, "Disables fsync, unsafe, will cause data loss.")
	fs.BoolVar(&v.expInitialCorruptCheck, "experimental-initial-corrupt-check", false, "Enable to check data corruption before serving any client/peer traffic.")
	fs.StringVar(&v.featureGates, "feature-gates", "", "A set of key=value pairs that describe server level feature gates for alpha/experimental features. Options are:"+featureGateUsage())
	fs.DurationVar(&v.corruptCheckTime, "corrupt-check-time", 0, "Duration of time between cluster corruption check passes.")
	fs.DurationVar(&v.expCorruptCheckTime, "experimental-corrupt-check-time", 0, "Deprecated: use --corrupt-check-time.")
	fs.DurationVar(&v.compactHashCheckTime, "compact-hash-check-time", DefaultCompactHashCheckTime, "Duration of time between leader checks followers compaction hashes.")
	fs.BoolVar(&v.expCompactHashCheck, "experimental-compact-hash-check-enabled", false, "Deprecated: use --feature-gates=CompactHashCheck=true.")
	fs.DurationVar(&v.expCompactHashTime, "experimental-compact-hash-check-time", DefaultCompactHashCheckTime, "Deprecated: use --compact-hash-check-time.")
	fs.StringVar(&v.autoCompactionRetain, "auto-compaction-retention", "0", "Auto compaction retention for mvcc key value store. 0 means disable auto compaction.")
	fs.Var(&v.autoCompactionMode, "auto-compaction-mode", "interpret 'auto-compaction-retention' one of: periodic|revision. 'periodic' for duration based retention, defaulting to hours if no time unit is provided (e.g. '5m'). 'revision' for revision number based retention.")
	fs.BoolVar(&v.version, "version", false, "Print the version and exit.")
	fs.StringVar(&v.configFile, "config-file", "", "Path to the server configuration file. Other command line flags and environment variables are ignored if provided.")

	// 2013-style flags
	fs.StringVar(&v.lClient, legacyClient, "", "2013-style: client address (port or host:port); sets listen and advertise client URLs.")
	fs.StringVar(&v.lPeer, legacyPeer, "", "2013-style: peer address (port or host:port); sets listen and advertise peer URLs.")
	fs.StringVar(&v.lJoin, legacyJoin, "", "2013-style: comma-separated peers to join (host:port).")
	fs.StringVar(&v.lDataDir, legacyDataDir, "", "Short form of --data-dir.")
	fs.StringVar(&v.lName, legacyName, "", "Short form of --name.")
	fs.BoolVar(&v.lForce, legacyForce, false, "2013-style: force a new member over an old data directory.")
	return fs, v
}

// usage renders the flag list the way flag.PrintDefaults does.
func usage(fs *flag.FlagSet) string {
	var b strings.Builder
	b.WriteString("Usage: etcd [flags]\n\nFlags:\n")
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}

// urlsValue is a flag.Value for a comma-separated list of http(s) URLs,
// de-duplicated and sorted as etcd does.
type urlsValue struct{ urls []url.URL }

func (v *urlsValue) Set(s string) error {
	us, err := parseURLs(s)
	if err != nil {
		return err
	}
	v.urls = us
	return nil
}

func (v *urlsValue) String() string {
	if v == nil {
		return ""
	}
	return urlsString(v.urls)
}

func urlsString(us []url.URL) string {
	ss := make([]string, len(us))
	for i := range us {
		ss[i] = us[i].String()
	}
	return strings.Join(ss, ",")
}

// parseURLs parses a comma-separated URL list. Each URL must use http or
// https, name a host:port and carry no path.
func parseURLs(s string) ([]url.URL, error) {
	seen := map[string]bool{}
	var out []url.URL
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		u, err := ParseURL(part)
		if err != nil {
			return nil, err
		}
		if seen[u.String()] {
			continue
		}
		seen[u.String()] = true
		out = append(out, *u)
	}
	if len(out) == 0 {
		return nil, errors.New("no valid URLs given")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// ParseURL parses one member URL as etcd does: http or https, host:port,
// no path, query, fragment or user.
func ParseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("URL scheme must be http or https: %s", s)
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		return nil, fmt.Errorf(`URL address does not have the form "host:port": %s`, s)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("URL must not contain a path: %s", s)
	}
	u.Path = ""
	return u, nil
}

// stringsValue is a comma-separated list of unique strings, in given order.
type stringsValue []string

func (v *stringsValue) Set(s string) error {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	if len(out) == 0 {
		return errors.New("empty list")
	}
	*v = out
	return nil
}

func (v *stringsValue) String() string {
	if v == nil {
		return ""
	}
	return strings.Join(*v, ",")
}

// choiceValue accepts one of a fixed set of strings.
type choiceValue struct {
	val   string
	valid []string
}

func (v *choiceValue) Set(s string) error {
	for _, ok := range v.valid {
		if s == ok {
			v.val = s
			return nil
		}
	}
	return fmt.Errorf("invalid value %q (valid values are %q)", s, v.valid)
}

func (v *choiceValue) String() string {
	if v == nil {
		return ""
	}
	return v.val
}

// optionalURLsValue is a urlsValue that may be empty (an empty string sets
// no URL).
type optionalURLsValue struct{ urlsValue }

func (v *optionalURLsValue) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		v.urls = nil
		return nil
	}
	return v.urlsValue.Set(s)
}
