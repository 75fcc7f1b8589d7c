package config

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
)

// fileDurationKeys are keys whose YAML value is a time.Duration; as in etcd
// (JSON decoding into time.Duration) they are integer nanoseconds.
var fileDurationKeys = map[string]bool{
	"backend-batch-interval":                 true,
	"watch-progress-notify-interval":         true,
	"experimental-lease-checkpoint-interval": true,
	"corrupt-check-time":                     true,
	"experimental-corrupt-check-time":        true,
	"compact-hash-check-time":                true,
	"experimental-compact-hash-check-time":   true,
	"compaction-sleep-interval":              true,
}

// fileIgnoredKeys are keys that are not configuration (they select it).
var fileIgnoredKeys = map[string]bool{"config-file": true, "version": true}

// configFromFile reads an etcd YAML configuration file. Keys are etcd's flag
// names; URL lists are comma-separated strings, log-outputs a sequence (a
// comma-separated string is accepted too). Keys that are null keep their
// default. Keys this implementation does not support are ignored, with a
// warning, as etcd ignores unknown keys.
func configFromFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration file: %w", err)
	}
	root, err := parseYAML(data)
	if err != nil {
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	fs, v := newFlagSet()
	set := map[string]bool{}
	var ignored []string
	for _, key := range root.keys {
		node := root.fields[key]
		f := fs.Lookup(key)
		if f == nil || legacyFlags[key] || fileIgnoredKeys[key] {
			if node.kind != yamlNull {
				ignored = append(ignored, key)
			}
			continue
		}
		var val string
		switch node.kind {
		case yamlNull:
			continue
		case yamlScalar:
			val = node.scalar
		case yamlList:
			val = strings.Join(node.list, ",")
		case yamlMap:
			return nil, fmt.Errorf("configuration file %s: line %d: %s must not be a mapping", path, node.line, key)
		}
		if fileDurationKeys[key] {
			ns, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("configuration file %s: line %d: invalid value %q for %s: want integer nanoseconds", path, node.line, val, key)
			}
			val = strconv.FormatInt(ns, 10) + "ns"
		}
		if err := fs.Set(key, val); err != nil {
			return nil, fmt.Errorf("configuration file %s: line %d: invalid value %q for %s: %w", path, node.line, val, key, err)
		}
		set[key] = true
	}
	cfg, err := v.toConfig(set)
	if err != nil {
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	for _, key := range ignored {
		cfg.addMessage(slog.LevelWarn, "ignoring unsupported configuration file key", slog.String("key", key), slog.String("path", path))
	}
	return cfg, nil
}
