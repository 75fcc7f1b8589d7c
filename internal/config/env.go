package config

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"
)

// envPrefix is the prefix of etcd's environment variables.
const envPrefix = "ETCD"

// envKey converts a flag name to its environment variable, as etcd does:
// some-flag -> ETCD_SOME_FLAG.
func envKey(flagName string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// envSkipped are flags not taken from the environment the usual way:
// ETCD_CONFIG_FILE is read before everything else, and ETCD_VERSION is
// special (etcd warns and ignores it).
var envSkipped = map[string]bool{"config-file": true, "version": true}

// legacyEquivalents are the modern flags a 2013-style flag sets; an
// environment variable for them is shadowed by the 2013-style flag.
var legacyEquivalents = map[string][]string{
	legacyClient:  {"listen-client-urls", "advertise-client-urls"},
	legacyPeer:    {"listen-peer-urls", "initial-advertise-peer-urls"},
	legacyDataDir: {"data-dir"},
	legacyName:    {"name"},
}

// setFlagsFromEnv sets every flag not given on the command line from its
// ETCD_* variable, following etcd's rules: an empty variable is ignored, a
// variable whose flag was also given on the command line is an error, a
// malformed value is an error.
func setFlagsFromEnv(fs *flag.FlagSet, cmdline map[string]bool, env func(string) (string, bool), msgs *[]Message) error {
	alreadySet := map[string]bool{}
	for name := range cmdline {
		alreadySet[envKey(name)] = true
		for _, eq := range legacyEquivalents[name] {
			alreadySet[envKey(eq)] = true
		}
	}
	if val, ok := env(envKey("version")); ok && val != "" {
		*msgs = append(*msgs, Message{Level: slog.LevelWarn, Msg: "cannot set special environment variable",
			Attrs: []slog.Attr{slog.String("key", envKey("version")), slog.String("value", val)}})
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || legacyFlags[f.Name] || envSkipped[f.Name] {
			return
		}
		key := envKey(f.Name)
		val, ok := env(key)
		if !ok {
			return
		}
		if alreadySet[key] {
			err = fmt.Errorf("conflicting environment variable %q is shadowed by corresponding command-line flag (either unset environment variable or disable flag)", key)
			return
		}
		if val == "" {
			return
		}
		if serr := fs.Set(f.Name, val); serr != nil {
			err = fmt.Errorf("invalid value %q for %s: %w", val, key, serr)
			return
		}
		*msgs = append(*msgs, Message{Level: slog.LevelInfo, Msg: "recognized and used environment variable",
			Attrs: []slog.Attr{slog.String("variable-name", key), slog.String("variable-value", val)}})
	})
	return err
}

// knownEnvKeys are the ETCD_* variables this configuration understands.
func knownEnvKeys() map[string]bool {
	fs, _ := newFlagSet()
	m := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		if !legacyFlags[f.Name] {
			m[envKey(f.Name)] = true
		}
	})
	return m
}

// CheckEnviron records a warning for every ETCD_* entry of environ (as from
// os.Environ) that names no flag, as etcd does. It does nothing when the
// configuration came from a file (etcd ignores the environment then).
func (c *Config) CheckEnviron(environ []string) {
	if c.ConfigFile != "" || c.PrintVersion {
		return
	}
	known := knownEnvKeys()
	for _, kv := range environ {
		key, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(key, envPrefix+"_") || known[key] {
			continue
		}
		c.addMessage(slog.LevelWarn, "unrecognized environment variable", slog.String("environment-variable", kv))
	}
}
