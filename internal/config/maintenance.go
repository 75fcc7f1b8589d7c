package config

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Auto compaction modes (--auto-compaction-mode), as etcd names them.
const (
	CompactorModePeriodic = "periodic"
	CompactorModeRevision = "revision"
)

// Feature gates that change this member's behaviour (--feature-gates).
const (
	FeatureInitialCorruptCheck = "InitialCorruptCheck"
	FeatureCompactHashCheck    = "CompactHashCheck"
)

// knownFeatureGates are etcd v3.7's server feature gates and their defaults.
// All are accepted; only those named above change anything here.
var knownFeatureGates = map[string]bool{
	"StopGRPCServiceOnDefrag":      false,
	"InitialCorruptCheck":          false,
	"CompactHashCheck":             false,
	"TxnModeWriteWithSharedBuffer": true,
	"LeaseCheckpoint":              false,
	"LeaseCheckpointPersist":       false,
	"SetMemberLocalAddr":           false,
	"FastLeaseKeepAlive":           true,
	"PriorityRequest":              false,
}

// featureGateUsage lists the gates for --help, as "Name=true|false (default=...)".
func featureGateUsage() string {
	names := make([]string, 0, len(knownFeatureGates))
	for n := range knownFeatureGates {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "\n%s=true|false (default=%t)", n, knownFeatureGates[n])
	}
	return b.String()
}

// parseFeatureGates parses "Name=bool,Name=bool" into the gates' values,
// defaults included.
func parseFeatureGates(s string) (map[string]bool, error) {
	gates := make(map[string]bool, len(knownFeatureGates))
	for n, d := range knownFeatureGates {
		gates[n] = d
	}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok {
			return nil, fmt.Errorf("missing bool value for %s", k)
		}
		if _, known := knownFeatureGates[k]; !known {
			return nil, fmt.Errorf("unrecognized feature gate: %s", k)
		}
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("invalid value of %s=%s, err: %w", k, v, err)
		}
		gates[k] = b
	}
	return gates, nil
}

// parseCompactionRetention turns --auto-compaction-retention into a
// duration as etcd does: a bare integer is hours in periodic mode and a
// number of revisions (stored as the duration's count) in revision mode;
// anything else is a Go duration ("30m", "1h30m").
func parseCompactionRetention(mode, retention string) (time.Duration, error) {
	if retention == "" {
		retention = "0"
	}
	h, err := strconv.Atoi(retention)
	if err == nil && h >= 0 {
		switch mode {
		case CompactorModeRevision:
			return time.Duration(int64(h)), nil
		case CompactorModePeriodic:
			return time.Duration(int64(h)) * time.Hour, nil
		default:
			return 0, errors.New("--auto-compaction-mode is undefined")
		}
	}
	d, err := time.ParseDuration(retention)
	if err != nil {
		return 0, fmt.Errorf("error parsing CompactionRetention: %w", err)
	}
	return d, nil
}

// maintenanceConfig fills the corruption check and auto compaction settings
// from the flags set explicitly (set) or by default.
func (v *flagValues) maintenanceConfig(c *Config, set map[string]bool) error {
	gates, err := parseFeatureGates(v.featureGates)
	if err != nil {
		return fmt.Errorf("invalid --feature-gates: %w", err)
	}
	c.InitialCorruptCheck = c.InitialCorruptCheck || gates[FeatureInitialCorruptCheck]

	c.CorruptCheckTime = v.corruptCheckTime
	if set["experimental-corrupt-check-time"] {
		if set["corrupt-check-time"] {
			return errors.New("cannot set both --experimental-corrupt-check-time and --corrupt-check-time; use --corrupt-check-time")
		}
		c.CorruptCheckTime = v.expCorruptCheckTime
		c.addMessage(slog.LevelWarn, "--experimental-corrupt-check-time is deprecated in v3.6 and will be decommissioned in v3.7. Use '--corrupt-check-time' instead.")
	}
	if c.CorruptCheckTime < 0 {
		return fmt.Errorf("--corrupt-check-time must be >=0 (set to %v)", c.CorruptCheckTime)
	}

	c.CompactHashCheck = gates[FeatureCompactHashCheck]
	if set["experimental-compact-hash-check-enabled"] {
		c.CompactHashCheck = c.CompactHashCheck || v.expCompactHashCheck
		c.addMessage(slog.LevelWarn, "--experimental-compact-hash-check-enabled is deprecated in v3.6 and will be decommissioned in v3.7. Use '--feature-gates=CompactHashCheck=true' instead.")
	}
	c.CompactHashCheckTime = v.compactHashCheckTime
	if set["experimental-compact-hash-check-time"] {
		if set["compact-hash-check-time"] {
			return errors.New("cannot set both --experimental-compact-hash-check-time and --compact-hash-check-time; use --compact-hash-check-time")
		}
		c.CompactHashCheckTime = v.expCompactHashTime
		c.addMessage(slog.LevelWarn, "--experimental-compact-hash-check-time is deprecated in v3.6 and will be decommissioned in v3.7. Use '--compact-hash-check-time' instead.")
	}
	if c.CompactHashCheckTime <= 0 {
		return fmt.Errorf("--compact-hash-check-time must be >0 (set to %v)", c.CompactHashCheckTime)
	}

	c.AutoCompactionMode = v.autoCompactionMode.val
	c.AutoCompactionRetention, err = parseCompactionRetention(c.AutoCompactionMode, v.autoCompactionRetain)
	return err
}
