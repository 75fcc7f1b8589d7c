package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := Parse(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]string{
		"name":        {c.Name, "default"},
		"data-dir":    {c.DataDir, "default.etcd"},
		"lcurls":      {urlsString(c.ListenClientURLs), "http://localhost:2379,http://localhost:4001"},
		"acurls":      {urlsString(c.AdvertiseClientURLs), "http://localhost:2379"},
		"lpurls":      {urlsString(c.ListenPeerURLs), "http://localhost:2380,http://localhost:7001"},
		"apurls":      {urlsString(c.InitialAdvertisePeerURLs), "http://localhost:2380"},
		"cluster":     {c.InitialCluster, "default=http://localhost:2380"},
		"state":       {c.InitialClusterState, "new"},
		"token":       {c.InitialClusterToken, "etcd-cluster"},
		"log-level":   {c.LogLevel, "info"},
		"log-outputs": {strings.Join(c.LogOutputs, ","), "stderr"},
		"logger":      {c.Logger, "zap"},
	}
	for k, v := range checks {
		if v[0] != v[1] {
			t.Errorf("%s = %q, want %q", k, v[0], v[1])
		}
	}
	if c.SnapshotCount != 10000 || c.SnapshotCatchUpEntries != 5000 || c.HeartbeatInterval != 100*time.Millisecond ||
		c.ElectionTimeout != time.Second || c.QuotaBackendBytes != 0 || c.QuotaBytes() != 2<<30 ||
		c.MaxRequestBytes != 1572864 || c.MaxTxnOps != 128 || c.MaxSnapFiles != 5 || c.MaxWALFiles != 5 ||
		c.MaxLearners != 1 || c.UnsafeNoFsync || c.EnablePprof || c.InitialCorruptCheck || c.Legacy || c.PrintVersion {
		t.Errorf("unexpected numeric/bool defaults: %+v", c)
	}
	m, err := c.InitialClusterMap()
	if err != nil || len(m) != 1 || urlsString(m["default"]) != "http://localhost:2380" {
		t.Errorf("InitialClusterMap = %v, %v", m, err)
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(c *Config) bool
	}{
		{"name double dash", []string{"--name", "n1"}, func(c *Config) bool {
			return c.Name == "n1" && c.DataDir == "n1.etcd" && c.InitialCluster == "n1=http://localhost:2380"
		}},
		{"name single dash", []string{"-name=n2"}, func(c *Config) bool { return c.Name == "n2" }},
		{"watch and lease intervals default", nil, func(c *Config) bool {
			return c.WatchProgressNotifyInterval == 10*time.Minute && c.LeaseCheckpointInterval == 5*time.Minute
		}},
		{"watch and lease intervals", []string{"--watch-progress-notify-interval", "2s", "--experimental-lease-checkpoint-interval", "3s"}, func(c *Config) bool {
			return c.WatchProgressNotifyInterval == 2*time.Second && c.LeaseCheckpointInterval == 3*time.Second
		}},
		{"data-dir", []string{"--data-dir", "/tmp/x"}, func(c *Config) bool { return c.DataDir == "/tmp/x" }},
		{"wal-dir", []string{"--wal-dir", "/tmp/w"}, func(c *Config) bool { return c.WALDir == "/tmp/w" }},
		{"client urls", []string{"--listen-client-urls", "http://127.0.0.1:1,https://127.0.0.1:2", "--advertise-client-urls", "http://h:1"},
			func(c *Config) bool {
				return urlsString(c.ListenClientURLs) == "http://127.0.0.1:1,https://127.0.0.1:2" && urlsString(c.AdvertiseClientURLs) == "http://h:1"
			}},
		{"client urls deduped and sorted", []string{"--listen-client-urls", "http://127.0.0.1:2,http://127.0.0.1:1,http://127.0.0.1:2", "--advertise-client-urls", "http://h:1"},
			func(c *Config) bool { return urlsString(c.ListenClientURLs) == "http://127.0.0.1:1,http://127.0.0.1:2" }},
		{"peer urls", []string{"--name", "a", "--listen-peer-urls", "http://127.0.0.1:3", "--initial-advertise-peer-urls", "http://127.0.0.1:3"},
			func(c *Config) bool {
				return urlsString(c.ListenPeerURLs) == "http://127.0.0.1:3" && c.InitialCluster == "a=http://127.0.0.1:3"
			}},
		{"initial cluster", []string{"--name", "a", "--initial-advertise-peer-urls", "http://10.0.0.1:2380",
			"--initial-cluster", "a=http://10.0.0.1:2380,b=http://10.0.0.2:2380", "--initial-cluster-state", "existing", "--initial-cluster-token", "tok"},
			func(c *Config) bool {
				m, err := c.InitialClusterMap()
				return err == nil && len(m) == 2 && c.InitialClusterState == "existing" && c.InitialClusterToken == "tok"
			}},
		{"numbers", []string{"--snapshot-count", "7", "--snapshot-catchup-entries", "8", "--heartbeat-interval", "50", "--election-timeout", "500",
			"--quota-backend-bytes", "1024", "--max-request-bytes", "99", "--max-txn-ops", "3", "--max-snapshots", "1", "--max-wals", "2", "--max-learners", "4",
			"--backend-batch-interval", "10ms", "--backend-batch-limit", "11", "--compaction-batch-limit", "12", "--compaction-sleep-interval", "13ms",
			"--strict-reconfig-check=false"},
			func(c *Config) bool {
				return c.CompactionBatchLimit == 12 && c.CompactionSleepInterval == 13*time.Millisecond && !c.StrictReconfigCheck &&
					c.SnapshotCount == 7 && c.SnapshotCatchUpEntries == 8 && c.HeartbeatInterval == 50*time.Millisecond &&
					c.ElectionTimeout == 500*time.Millisecond && c.QuotaBackendBytes == 1024 && c.QuotaBytes() == 1024 && c.MaxRequestBytes == 99 &&
					c.MaxTxnOps == 3 && c.MaxSnapFiles == 1 && c.MaxWALFiles == 2 && c.MaxLearners == 4 &&
					c.BackendBatchInterval == 10*time.Millisecond && c.BackendBatchLimit == 11
			}},
		{"experimental catchup", []string{"--experimental-snapshot-catchup-entries", "9", "--experimental-max-learners", "2"},
			func(c *Config) bool {
				return c.SnapshotCatchUpEntries == 9 && c.MaxLearners == 2 && len(c.Messages()) == 2
			}},
		{"bools", []string{"--unsafe-no-fsync", "--enable-pprof", "--experimental-initial-corrupt-check"},
			func(c *Config) bool { return c.UnsafeNoFsync && c.EnablePprof && c.InitialCorruptCheck }},
		{"logging", []string{"--log-level", "debug", "--logger", "zap", "--log-outputs", "stdout,/tmp/x.log"},
			func(c *Config) bool {
				return c.LogLevel == "debug" && reflect.DeepEqual(c.LogOutputs, []string{"stdout", "/tmp/x.log"})
			}},
		{"log-outputs default means stderr", []string{"--log-outputs", "default"},
			func(c *Config) bool { return reflect.DeepEqual(c.LogOutputs, []string{"stderr"}) }},
		{"version", []string{"--version", "--heartbeat-interval", "999"},
			func(c *Config) bool { return c.PrintVersion && c.Name == "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.args, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown flag", []string{"--no-such-flag"}, nil, "flag provided but not defined: -no-such-flag"},
		{"positional", []string{"--name", "a", "extra"}, nil, `"extra" is not a valid flag`},
		{"malformed number", []string{"--snapshot-count", "x"}, nil, `invalid value "x" for flag -snapshot-count`},
		{"bad scheme", []string{"--listen-client-urls", "ftp://127.0.0.1:1"}, nil, "URL scheme must be http or https"},
		{"no port", []string{"--initial-advertise-peer-urls", "http://127.0.0.1"}, nil, `URL address does not have the form "host:port"`},
		{"path", []string{"--advertise-client-urls", "http://127.0.0.1:1/x"}, nil, "URL must not contain a path"},
		{"bind needs ip", []string{"--listen-peer-urls", "http://example.com:1"}, nil, "expected IP in URL for binding (http://example.com:1)"},
		{"bad state", []string{"--initial-cluster-state", "old"}, nil, `invalid value "old"`},
		{"election timeout", []string{"--heartbeat-interval", "300", "--election-timeout", "1000"}, nil,
			"--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]"},
		{"election too long", []string{"--heartbeat-interval", "100000", "--election-timeout", "600000"}, nil, "is too long"},
		{"zero heartbeat", []string{"--heartbeat-interval", "0"}, nil, "--heartbeat-interval must be >0 (set to 0ms)"},
		{"missing self", []string{"--name", "a", "--initial-cluster", "b=http://localhost:2380"}, nil,
			`couldn't find local name "a" in the initial cluster configuration`},
		{"cluster url not advertised", []string{"--initial-cluster", "default=http://127.0.0.1:9"}, nil,
			"--initial-cluster has default=http://127.0.0.1:9 but missing from --initial-advertise-peer-urls=http://localhost:2380"},
		{"advertised url not in cluster", []string{"--initial-advertise-peer-urls", "http://localhost:2380,http://127.0.0.1:9", "--initial-cluster", "default=http://localhost:2380"}, nil,
			"--initial-advertise-peer-urls has http://127.0.0.1:9 but missing from --initial-cluster=default=http://127.0.0.1:9,default=http://localhost:2380"},
		{"advertise changed with default name", []string{"--initial-advertise-peer-urls", "http://127.0.0.1:9"}, nil,
			"--initial-cluster has default=http://localhost:2380 but missing from --initial-advertise-peer-urls=http://127.0.0.1:9"},
		{"duplicate cluster url", []string{"--initial-cluster", "default=http://localhost:2380,b=http://localhost:2380"}, nil, "has duplicate url"},
		{"malformed cluster", []string{"--initial-cluster", "default"}, nil, "is not of the form name=url"},
		{"listen without advertise", []string{"--listen-client-urls", "http://127.0.0.1:1"}, nil,
			"--advertise-client-urls is required when --listen-client-urls is set explicitly"},
		{"log level", []string{"--log-level", "loud"}, nil, `unknown log-level "loud"`},
		{"logger", []string{"--logger", "capnslog"}, nil, `unknown logger option "capnslog"`},
		{"both catchup flags", []string{"--snapshot-catchup-entries", "1", "--experimental-snapshot-catchup-entries", "2"}, nil, "cannot set both"},
		{"mix -c with modern", []string{"-c", "4001", "--listen-client-urls", "http://127.0.0.1:1"}, nil,
			"cannot mix the 2013-style flag -c with the flag --listen-client-urls"},
		{"mix -C with modern", []string{"-C", "127.0.0.1:7001", "--log-level", "debug"}, nil, "cannot mix the 2013-style flag -C with the flag --log-level"},
		{"-d and --data-dir", []string{"-d", "x", "--data-dir", "y"}, nil, "flags -d and --data-dir both given"},
		{"-n and --name", []string{"-n", "x", "--name", "y"}, nil, "flags -n and --name both given"},
		{"bad -c", []string{"-c", "notaport"}, nil, `invalid value "notaport" for flag -c`},
		{"bad -C", []string{"-C", "h:99999"}, nil, `invalid value "h:99999" for flag -C`},
		{"env shadowed", []string{"--name", "a"}, map[string]string{"ETCD_NAME": "b"}, `conflicting environment variable "ETCD_NAME" is shadowed`},
		{"env shadowed even empty", []string{"--name", "a"}, map[string]string{"ETCD_NAME": ""}, `conflicting environment variable "ETCD_NAME" is shadowed`},
		{"env shadowed by -n", []string{"-n", "a"}, map[string]string{"ETCD_NAME": "b"}, `conflicting environment variable "ETCD_NAME" is shadowed`},
		{"env shadowed by -c", []string{"-c", "4001"}, map[string]string{"ETCD_ADVERTISE_CLIENT_URLS": "http://x:1"}, `"ETCD_ADVERTISE_CLIENT_URLS" is shadowed`},
		{"env malformed", nil, map[string]string{"ETCD_SNAPSHOT_COUNT": "many"}, `invalid value "many" for ETCD_SNAPSHOT_COUNT`},
		{"env election", nil, map[string]string{"ETCD_HEARTBEAT_INTERVAL": "500"}, "should be at least as 5 times as"},
		{"missing config file", []string{"--config-file", "/nonexistent/etcd.yml"}, nil, "reading configuration file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.args, envOf(tt.env))
			if err == nil {
				t.Fatalf("no error, config %+v", c)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		_, err := Parse([]string{arg}, nil)
		var he *HelpError
		if !errors.Is(err, flag.ErrHelp) || !errors.As(err, &he) {
			t.Fatalf("%s: err = %v", arg, err)
		}
		if !strings.Contains(he.Usage, "-listen-client-urls") || !strings.Contains(he.Usage, "-initial-cluster") {
			t.Errorf("usage lacks flags: %s", he.Usage)
		}
	}
}

func TestEnv(t *testing.T) {
	env := map[string]string{
		"ETCD_NAME":                        "envname",
		"ETCD_LISTEN_CLIENT_URLS":          "http://127.0.0.1:5000",
		"ETCD_ADVERTISE_CLIENT_URLS":       "http://127.0.0.1:5000",
		"ETCD_SNAPSHOT_COUNT":              "42",
		"ETCD_UNSAFE_NO_FSYNC":             "true",
		"ETCD_LOG_LEVEL":                   "",  // empty: ignored, as etcd
		"ETCD_VERSION":                     "1", // special: ignored with a warning
		"ETCD_INITIAL_ADVERTISE_PEER_URLS": "http://127.0.0.1:5001",
	}
	c, err := Parse(nil, envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "envname" || c.DataDir != "envname.etcd" || urlsString(c.ListenClientURLs) != "http://127.0.0.1:5000" ||
		c.SnapshotCount != 42 || !c.UnsafeNoFsync || c.LogLevel != "info" || c.PrintVersion ||
		c.InitialCluster != "envname=http://127.0.0.1:5001" {
		t.Errorf("unexpected config %+v", c)
	}
	var used, special int
	for _, m := range c.Messages() {
		switch m.Msg {
		case "recognized and used environment variable":
			used++
		case "cannot set special environment variable":
			special++
		}
	}
	if used != 6 || special != 1 {
		t.Errorf("messages: used=%d special=%d: %+v", used, special, c.Messages())
	}
}

func TestFlagOverEnvForOtherFlags(t *testing.T) {
	// A flag and an unrelated variable combine; the flag's own variable
	// would be an error (see TestErrors).
	c, err := Parse([]string{"--snapshot-count", "5"}, envOf(map[string]string{"ETCD_MAX_TXN_OPS": "7"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SnapshotCount != 5 || c.MaxTxnOps != 7 {
		t.Errorf("got %d %d", c.SnapshotCount, c.MaxTxnOps)
	}
}

func TestCheckEnviron(t *testing.T) {
	c, err := Parse(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.CheckEnviron([]string{"ETCD_NAME=x", "ETCD_BOGUS=1", "HOME=/root", "ETCD_CONFIG_FILE=", "ETCD_C=1"})
	var got []string
	for _, m := range c.Messages() {
		if m.Msg == "unrecognized environment variable" {
			got = append(got, m.Attrs[0].Value.String())
		}
	}
	if !reflect.DeepEqual(got, []string{"ETCD_BOGUS=1", "ETCD_C=1"}) {
		t.Errorf("unrecognized = %v", got)
	}
}

func TestLegacyFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(c *Config) bool
	}{
		{"seed node2", []string{"-c", "4002", "-s", "7002", "-C", "127.0.0.1:7001", "-d", "nod/node2"}, nil, func(c *Config) bool {
			return c.Legacy && c.DataDir == "nod/node2" && c.Name == "127.0.0.1:7002" &&
				urlsString(c.ListenClientURLs) == "http://127.0.0.1:4002" && urlsString(c.AdvertiseClientURLs) == "http://127.0.0.1:4002" &&
				urlsString(c.ListenPeerURLs) == "http://127.0.0.1:7002" && urlsString(c.InitialAdvertisePeerURLs) == "http://127.0.0.1:7002" &&
				reflect.DeepEqual(c.JoinPeers, []string{"http://127.0.0.1:7001"}) && c.InitialCluster == "127.0.0.1:7002=http://127.0.0.1:7002"
		}},
		{"joiner named by -n", []string{"-s", "7003", "-C", "127.0.0.1:7001", "-n", "node3"}, nil, func(c *Config) bool {
			return c.Name == "node3" && c.DataDir == "node3.etcd"
		}},
		{"joiner without -n or -d", []string{"-c", "4003", "-s", "127.0.0.1:7003", "-C", "127.0.0.1:7001"}, nil, func(c *Config) bool {
			return c.Name == "127.0.0.1:7003" && c.DataDir == "127.0.0.1:7003.etcd"
		}},
		{"host:port and name", []string{"-c", "127.0.0.2:4001", "-s", "127.0.0.2:7001", "-n", "node1", "-f"}, nil, func(c *Config) bool {
			return c.Name == "node1" && c.DataDir == "node1.etcd" && c.ForceNewMember &&
				urlsString(c.ListenClientURLs) == "http://127.0.0.2:4001" && c.InitialCluster == "node1=http://127.0.0.2:7001"
		}},
		{"only -s keeps client defaults", []string{"-s", "7003", "-C", "127.0.0.1:7001,127.0.0.1:7002"}, nil, func(c *Config) bool {
			return urlsString(c.ListenClientURLs) == "http://localhost:2379,http://localhost:4001" &&
				reflect.DeepEqual(c.JoinPeers, []string{"http://127.0.0.1:7001", "http://127.0.0.1:7002"})
		}},
		{"short forms combine with modern flags", []string{"-n", "x", "-d", "dd", "--log-level", "warn"}, nil, func(c *Config) bool {
			return c.Name == "x" && c.DataDir == "dd" && c.LogLevel == "warn" && !c.Legacy
		}},
		{"double dash legacy", []string{"--c", "4005", "--s", "7005"}, nil, func(c *Config) bool {
			return urlsString(c.ListenClientURLs) == "http://127.0.0.1:4005" && c.Legacy
		}},
		{"legacy with env", []string{"-c", "4006"}, map[string]string{"ETCD_LOG_LEVEL": "debug"}, func(c *Config) bool {
			return c.LogLevel == "debug" && urlsString(c.ListenClientURLs) == "http://127.0.0.1:4006"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.args, envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "etcd.conf.yml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const sampleConfig = `# This is the configuration file for the etcd server.
name: 'node1'
data-dir:
wal-dir: /tmp/wal
snapshot-count: 10
heartbeat-interval: 50
election-timeout: 500 # ms
quota-backend-bytes: 0
listen-peer-urls: http://127.0.0.1:2380
listen-client-urls: http://127.0.0.1:2379,http://127.0.0.1:4001
max-snapshots: 5
max-wals: 5
cors:
initial-advertise-peer-urls: http://127.0.0.1:2380
advertise-client-urls: http://127.0.0.1:2379
discovery:
discovery-fallback: 'proxy'
initial-cluster:
initial-cluster-token: 'etcd-cluster'
initial-cluster-state: 'new'
strict-reconfig-check: false
enable-pprof: true
max-request-bytes: 2048
max-txn-ops: 64
backend-batch-interval: 5000000
client-transport-security:
  # Path to the client server TLS cert file.
  cert-file:
  client-cert-auth: false
log-level: debug
logger: zap
log-outputs: [stderr]
cipher-suites: [
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
]
`

func TestConfigFile(t *testing.T) {
	p := writeFile(t, sampleConfig)
	// Flags other than --config-file and all environment variables are
	// ignored, as etcd does (even an otherwise shadowed variable).
	c, err := Parse([]string{"--config-file", p, "--name", "ignored"}, envOf(map[string]string{"ETCD_NAME": "alsoignored", "ETCD_SNAPSHOT_COUNT": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ConfigFile != p || c.Name != "node1" || c.DataDir != "node1.etcd" || c.WALDir != "/tmp/wal" || c.SnapshotCount != 10 ||
		c.HeartbeatInterval != 50*time.Millisecond || c.ElectionTimeout != 500*time.Millisecond ||
		urlsString(c.ListenClientURLs) != "http://127.0.0.1:2379,http://127.0.0.1:4001" ||
		c.InitialCluster != "node1=http://127.0.0.1:2380" || !c.EnablePprof || c.MaxRequestBytes != 2048 || c.MaxTxnOps != 64 ||
		c.BackendBatchInterval != 5*time.Millisecond || c.LogLevel != "debug" || c.StrictReconfigCheck || !reflect.DeepEqual(c.LogOutputs, []string{"stderr"}) {
		t.Errorf("unexpected config %+v", c)
	}
	msgs := c.Messages()
	if len(msgs) == 0 || !strings.HasPrefix(msgs[0].Msg, "loaded server configuration") {
		t.Errorf("messages = %+v", msgs)
	}
	var ignored []string
	for _, m := range msgs {
		if m.Msg == "ignoring unsupported configuration file key" {
			ignored = append(ignored, m.Attrs[0].Value.String())
		}
	}
	want := []string{"discovery-fallback", "client-transport-security", "cipher-suites"}
	if !reflect.DeepEqual(ignored, want) {
		t.Errorf("ignored = %v, want %v", ignored, want)
	}
}

func TestConfigFileFromEnv(t *testing.T) {
	p := writeFile(t, "name: fromenv\ninitial-advertise-peer-urls: http://127.0.0.1:2380\n")
	c, err := Parse(nil, envOf(map[string]string{"ETCD_CONFIG_FILE": p, "ETCD_NAME": "ignored"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "fromenv" || c.InitialCluster != "fromenv=http://127.0.0.1:2380" ||
		urlsString(c.ListenClientURLs) != DefaultListenClientURLs {
		t.Errorf("unexpected config %+v", c)
	}
}

func TestConfigFileErrors(t *testing.T) {
	tests := []struct{ body, want string }{
		{"heartbeat-interval: 800\nelection-timeout: 1000\n", "--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[800ms]"},
		{"snapshot-count: lots\n", `line 1: invalid value "lots" for snapshot-count`},
		{"listen-client-urls: localhost:2379\n", "invalid value"},
		{"name: a\ninitial-cluster: b=http://localhost:2380\n", `couldn't find local name "a"`},
		{"name: a\nname: b\n", `line 2: duplicate key "name"`},
		{"name: &x a\n", "unsupported YAML syntax"},
		{"name: |\n  a\n", "unsupported YAML syntax"},
		{"name: 'a\n", "unterminated quoted string"},
		{"\tname: a\n", "tabs are not allowed"},
		{"name a\n", `expected "key: value"`},
		{"log-outputs:\n  key: v\n", "log-outputs must not be a mapping"},
		{"backend-batch-interval: 10ms\n", "want integer nanoseconds"},
		{"initial-cluster-state: old\n", `invalid value "old"`},
	}
	for _, tt := range tests {
		p := writeFile(t, tt.body)
		_, err := Parse([]string{"--config-file", p}, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.body, err, tt.want)
		}
	}
}
