package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"sort"
	"time"
)

// HelpError is returned by Parse for -h / --help. It wraps flag.ErrHelp; its
// Usage is the text to print (etcd prints it and exits 0).
type HelpError struct{ Usage string }

func (e *HelpError) Error() string { return e.Usage }

// Unwrap returns flag.ErrHelp.
func (e *HelpError) Unwrap() error { return flag.ErrHelp }

// Parse parses args (without the program name), looking environment variables
// up with env (os.LookupEnv in main; nil means an empty environment). The
// returned Config is defaulted and validated. With --version it returns at
// once with only PrintVersion set. For -h it returns a *HelpError.
func Parse(args []string, env func(string) (string, bool)) (*Config, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	fs, v := newFlagSet()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, &HelpError{Usage: usage(fs)}
		}
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("%q is not a valid flag", fs.Arg(0))
	}
	if v.version {
		return &Config{PrintVersion: true}, nil
	}
	cmdline := visited(fs)

	// As etcd: ETCD_CONFIG_FILE is looked at separately, because when a
	// configuration file is used, the other variables are ignored.
	path := v.configFile
	if path == "" {
		path, _ = env(envKey("config-file"))
	}
	var (
		cfg *Config
		err error
	)
	if path != "" {
		cfg, err = configFromFile(path)
		if err != nil {
			return nil, err
		}
		cfg.ConfigFile = path
		cfg.messages = append([]Message{{
			Level: slog.LevelInfo,
			Msg:   "loaded server configuration, other configuration command line flags and environment variables will be ignored if provided",
			Attrs: []slog.Attr{slog.String("path", path)},
		}}, cfg.messages...)
	} else {
		cfg, err = configFromCmdLine(fs, v, cmdline, env)
		if err != nil {
			return nil, err
		}
	}
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// configFromCmdLine builds the configuration from flags and environment.
func configFromCmdLine(fs *flag.FlagSet, v *flagValues, cmdline map[string]bool, env func(string) (string, bool)) (*Config, error) {
	if err := checkMixing(cmdline); err != nil {
		return nil, err
	}
	var msgs []Message
	if err := setFlagsFromEnv(fs, cmdline, env, &msgs); err != nil {
		return nil, err
	}
	set := visited(fs) // now including flags set from the environment
	cfg, err := v.toConfig(set)
	if err != nil {
		return nil, err
	}
	cfg.messages = append(msgs, cfg.messages...)

	// As etcd: an explicit --listen-client-urls disables the default
	// --advertise-client-urls (Validate then insists on one).
	if set["listen-client-urls"] && !set["advertise-client-urls"] {
		cfg.AdvertiseClientURLs = nil
	}
	if err := v.applyLegacy(cfg, cmdline); err != nil {
		return nil, err
	}
	return cfg, nil
}

// toConfig converts flag values into a Config. set names the flags that were
// given explicitly.
func (v *flagValues) toConfig(set map[string]bool) (*Config, error) {
	c := &Config{
		Name:                        v.name,
		DataDir:                     v.dataDir,
		WALDir:                      v.walDir,
		ListenClientURLs:            v.listenClient.urls,
		AdvertiseClientURLs:         v.advertiseClient.urls,
		ListenPeerURLs:              v.listenPeer.urls,
		InitialAdvertisePeerURLs:    v.advertisePeer.urls,
		InitialCluster:              v.initialCluster,
		InitialClusterState:         v.clusterState.val,
		InitialClusterToken:         v.initialClusterToken,
		SnapshotCount:               v.snapshotCount,
		SnapshotCatchUpEntries:      v.catchUp,
		HeartbeatInterval:           time.Duration(v.heartbeatMs) * time.Millisecond,
		ElectionTimeout:             time.Duration(v.electionMs) * time.Millisecond,
		QuotaBackendBytes:           v.quota,
		MaxRequestBytes:             v.maxRequestBytes,
		MaxTxnOps:                   v.maxTxnOps,
		MaxSnapFiles:                v.maxSnaps,
		MaxWALFiles:                 v.maxWALs,
		MaxLearners:                 v.maxLearners,
		StrictReconfigCheck:         v.strictReconfigCheck,
		LogLevel:                    v.logLevel,
		Logger:                      v.logger,
		LogOutputs:                  append([]string(nil), v.logOutputs...),
		UnsafeNoFsync:               v.unsafeNoFsync,
		BackendBatchInterval:        v.batchInterval,
		WatchProgressNotifyInterval: v.watchProgressNotify,
		LeaseCheckpointInterval:     v.leaseCheckpointInterval,
		CompactionBatchLimit:        v.compactionBatchLimit,
		CompactionSleepInterval:     v.compactionSleepInterval,
		BackendBatchLimit:           v.batchLimit,
		InitialCorruptCheck:         v.expInitialCorruptCheck,
		EnablePprof:                 v.enablePprof,
		ListenMetricsURLs:           v.listenMetrics.urls,
		Metrics:                     v.metrics,
	}
	if set["experimental-snapshot-catchup-entries"] {
		if set["snapshot-catchup-entries"] {
			return nil, errors.New("cannot set both --experimental-snapshot-catchup-entries and --snapshot-catchup-entries; use --snapshot-catchup-entries")
		}
		c.SnapshotCatchUpEntries = v.expCatchUp
		c.addMessage(slog.LevelWarn, "--experimental-snapshot-catchup-entries is deprecated in v3.6 and will be decommissioned in v3.7. Use '--snapshot-catchup-entries' instead.")
	}
	if set["experimental-max-learners"] {
		if set["max-learners"] {
			return nil, errors.New("cannot set both --experimental-max-learners and --max-learners; use --max-learners")
		}
		c.MaxLearners = v.expMaxLearners
		c.addMessage(slog.LevelWarn, "--experimental-max-learners is deprecated in v3.6 and will be decommissioned in v3.7. Use '--max-learners' instead.")
	}
	if err := v.maintenanceConfig(c, set); err != nil {
		return nil, err
	}
	if set["experimental-initial-corrupt-check"] {
		c.addMessage(slog.LevelWarn, "--experimental-initial-corrupt-check is deprecated in v3.6 and will be decommissioned in v3.7. Use '--feature-gates=InitialCorruptCheck=true' instead.")
	}
	for i, o := range c.LogOutputs {
		if o == "default" { // etcd's "default" is stderr outside systemd
			c.LogOutputs[i] = DefaultLogOutput
		}
	}
	return c, nil
}

// applyDefaults fills in the values etcd derives from others: the data
// directory from the name, and the initial cluster from the name and the
// advertised peer URLs when only the name was changed.
func (c *Config) applyDefaults() {
	if c.DataDir == "" {
		c.DataDir = c.Name + ".etcd"
	}
	if c.InitialCluster == DefaultInitialCluster && (c.Name != DefaultName || c.Legacy) {
		c.InitialCluster = c.initialClusterFromName()
	}
}

// initialClusterFromName is "name=apurl1,name=apurl2".
func (c *Config) initialClusterFromName() string {
	name := c.Name
	if name == "" {
		name = DefaultName
	}
	s := ""
	for i, u := range c.InitialAdvertisePeerURLs {
		if i > 0 {
			s += ","
		}
		s += name + "=" + u.String()
	}
	return s
}

func visited(fs *flag.FlagSet) map[string]bool {
	m := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m[f.Name] = true })
	return m
}

func sortedKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
