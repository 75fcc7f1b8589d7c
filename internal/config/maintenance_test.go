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
	} {
		_, err := Parse(c.args, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.args, err, c.want)
		}
	}
}
