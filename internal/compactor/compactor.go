// Package compactor is etcd's auto compaction (--auto-compaction-mode and
// --auto-compaction-retention): while its member leads, it periodically
// compacts the key history through raft, keeping either a span of time
// (periodic mode) or a number of revisions (revision mode).
package compactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// Modes, as etcd names them.
const (
	ModePeriodic = "periodic"
	ModeRevision = "revision"
)

// DefaultRevisionInterval is how often revision mode looks at the revision,
// as etcd.
const DefaultRevisionInterval = 5 * time.Minute

// Config is what a compactor needs.
type Config struct {
	Logger *slog.Logger
	// Mode is ModePeriodic or ModeRevision.
	Mode string
	// Retention is the span of history kept (periodic) or, as a count, the
	// number of revisions kept (revision).
	Retention time.Duration
	// Rev returns the store's current revision.
	Rev func() int64
	// Compact compacts the history up to rev through raft.
	Compact func(ctx context.Context, rev int64) error
	// Active reports whether compactions should run now (the member leads);
	// while it is false the compactor only keeps track of revisions.
	Active func() bool
	// RevisionInterval overrides DefaultRevisionInterval (tests).
	RevisionInterval time.Duration
}

// Run compacts until ctx ends. It returns an error at once for an unknown
// mode.
func Run(ctx context.Context, cfg Config) error {
	switch cfg.Mode {
	case ModePeriodic:
		runPeriodic(ctx, cfg)
	case ModeRevision:
		runRevision(ctx, cfg)
	default:
		return fmt.Errorf("unsupported compaction mode %s", cfg.Mode)
	}
	return nil
}

// compacted reports whether err says the revision is compacted already,
// which counts as success.
func compacted(err error) bool {
	return errors.Is(err, rpctypes.ErrGRPCCompacted) || errors.Is(err, rpctypes.ErrCompacted)
}

// runRevision compacts every interval up to the current revision minus
// the retention, unless that is not positive or was compacted already.
func runRevision(ctx context.Context, cfg Config) {
	interval := cfg.RevisionInterval
	if interval <= 0 {
		interval = DefaultRevisionInterval
	}
	retention := int64(cfg.Retention)
	t := time.NewTimer(interval)
	defer t.Stop()
	var prev int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			t.Reset(interval)
		}
		if !cfg.Active() {
			continue
		}
		rev := cfg.Rev() - retention
		if rev <= 0 || rev == prev {
			continue
		}
		start := time.Now()
		cfg.Logger.Info("starting auto revision compaction", "revision", rev, "revision-compaction-retention", retention)
		if err := cfg.Compact(ctx, rev); err == nil || compacted(err) {
			prev = rev
			cfg.Logger.Info("completed auto revision compaction", "revision", rev,
				"revision-compaction-retention", retention, "took", time.Since(start).String())
		} else {
			cfg.Logger.Warn("failed auto revision compaction", "revision", rev,
				"revision-compaction-retention", retention, "retry-interval", interval.String(), "error", err)
		}
	}
}

// retryDivisor splits the compaction interval into the steps at which the
// periodic compactor records the revision.
const retryDivisor = 10

// runPeriodic records the revision every tenth of the compaction interval
// (the period, at most an hour) in a window covering the period, and
// compacts up to the oldest one, the revision of a period ago: first once a
// whole period has passed, then every compaction interval.
func runPeriodic(ctx context.Context, cfg Config) {
	period := cfg.Retention
	compactInterval := min(period, time.Hour)
	retryInterval := compactInterval / retryDivisor
	if retryInterval <= 0 {
		retryInterval = time.Nanosecond
	}
	retentions := int(period/retryInterval) + 1
	revs := make([]int64, 0, retentions+1)
	var lastRevision int64
	lastSuccess := time.Now()
	baseInterval := period
	t := time.NewTimer(retryInterval)
	defer t.Stop()
	for {
		revs = append(revs, cfg.Rev())
		if len(revs) > retentions {
			revs = revs[1:] // revs[0] is the revision of a period ago
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			t.Reset(retryInterval)
		}
		if !cfg.Active() {
			continue
		}
		rev := revs[0]
		if time.Since(lastSuccess) < baseInterval || rev == lastRevision {
			continue
		}
		// The first compaction waits a whole period, the next ones the
		// compaction interval.
		if baseInterval == period {
			baseInterval = compactInterval
		}
		cfg.Logger.Info("starting auto periodic compaction", "revision", rev, "compact-period", period.String())
		start := time.Now()
		if err := cfg.Compact(ctx, rev); err == nil || compacted(err) {
			cfg.Logger.Info("completed auto periodic compaction", "revision", rev,
				"compact-period", period.String(), "took", time.Since(start).String())
			lastRevision = rev
			lastSuccess = time.Now()
		} else {
			cfg.Logger.Warn("failed auto periodic compaction", "revision", rev,
				"compact-period", period.String(), "retry-interval", retryInterval.String(), "error", err)
		}
	}
}
