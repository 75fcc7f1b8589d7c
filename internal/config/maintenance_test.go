package config

import (
	"strings"
	"testing"
	"time"
)

func TestMaintenanceFlags(t *testing.T) {
	for _, c := range []struct {
		args      []string
		mode      string
		retention time.Duration
		check     time.Duration
		initial   bool
	}{
		{nil, CompactorModePeriodic, 0, 0, false},
		{[]string{"--auto-compaction-retention", "1"}, CompactorModePeriodic, time.Hour, 0, false},
		{[]string{"--auto-compaction-retention", "90m"}, CompactorModePeriodic, 90 * time.Minute, 0, false},
		{[]string{"--auto-compaction-mode", "revision", "--auto-compaction-retention", "1000"}, CompactorModeRevision, 1000, 0, false},
		{[]string{"--corrupt-check-time", "3m"}, CompactorModePeriodic, 0, 3 * time.Minute, false},
		{[]string{"--experimental-corrupt-check-time", "2m"}, CompactorModePeriodic, 0, 2 * time.Minute, false},
		{[]string{"--experimental-initial-corrupt-check"}, CompactorModePeriodic, 0, 0, true},
		{[]string{"--feature-gates", "InitialCorruptCheck=true,StopGRPCServiceOnDefrag=false"}, CompactorModePeriodic, 0, 0, true},
	} {
		cfg, err := Parse(c.args, nil)
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if cfg.AutoCompactionMode != c.mode || cfg.AutoCompactionRetention != c.retention ||
			cfg.CorruptCheckTime != c.check || cfg.InitialCorruptCheck != c.initial {
			t.Errorf("%q: mode %q retention %v check %v initial %v, want %q %v %v %v", c.args,
				cfg.AutoCompactionMode, cfg.AutoCompactionRetention, cfg.CorruptCheckTime, cfg.InitialCorruptCheck,
				c.mode, c.retention, c.check, c.initial)
		}
	}
}

func TestMaintenanceFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--auto-compaction-mode", "daily"}, "daily"},
		{[]string{"--auto-compaction-retention", "soon"}, "error parsing CompactionRetention"},
		{[]string{"--feature-gates", "NoSuchGate=true"}, "unrecognized feature gate: NoSuchGate"},
		{[]string{"--feature-gates", "InitialCorruptCheck=maybe"}, "invalid value of InitialCorruptCheck=maybe"},
		{[]string{"--corrupt-check-time", "1m", "--experimental-corrupt-check-time", "1m"}, "cannot set both"},
		{[]string{"--compact-hash-check-time", "0s"}, "--compact-hash-check-time must be >0 (set to 0s)"},
		{[]string{"--compact-hash-check-time", "1m", "--experimental-compact-hash-check-time", "1m"}, "cannot set both"},
	} {
		_, err := Parse(c.args, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.args, err, c.want)
		}
	}
}

func TestCompactHashCheckFlags(t *testing.T) {
	for _, c := range []struct {
		args    []string
		enabled bool
		every   time.Duration
		warning string
	}{
		{nil, false, DefaultCompactHashCheckTime, ""},
		{[]string{"--feature-gates", "CompactHashCheck=true", "--compact-hash-check-time", "30s"}, true, 30 * time.Second, ""},
		{[]string{"--experimental-compact-hash-check-enabled", "--experimental-compact-hash-check-time", "2m"}, true, 2 * time.Minute,
			"--experimental-compact-hash-check-enabled is deprecated in v3.6"},
		{[]string{"--experimental-compact-hash-check-time", "2m"}, false, 2 * time.Minute,
			"--experimental-compact-hash-check-time is deprecated in v3.6 and will be decommissioned in v3.7. Use '--compact-hash-check-time' instead."},
	} {
		cfg, err := Parse(c.args, nil)
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if cfg.CompactHashCheck != c.enabled || cfg.CompactHashCheckTime != c.every {
			t.Errorf("%q: enabled %v every %v, want %v %v", c.args, cfg.CompactHashCheck, cfg.CompactHashCheckTime, c.enabled, c.every)
		}
		if c.warning == "" {
			continue
		}
		found := false
		for _, m := range cfg.Messages() {
			found = found || strings.Contains(m.Msg, c.warning)
		}
		if !found {
			t.Errorf("%q: messages %+v lack %q", c.args, cfg.Messages(), c.warning)
		}
	}
}
