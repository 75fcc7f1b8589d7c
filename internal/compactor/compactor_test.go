package compactor

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// recorder is a store whose revision the test sets and that records the
// compactions asked of it.
type recorder struct {
	rev    atomic.Int64
	active atomic.Bool
	mu     sync.Mutex
	revs   []int64
	got    chan int64
}

func newRecorder() *recorder {
	r := &recorder{got: make(chan int64, 100)}
	r.active.Store(true)
	return r
}

func (r *recorder) config(mode string, retention time.Duration) Config {
	return Config{
		Logger:    slog.New(slog.DiscardHandler),
		Mode:      mode,
		Retention: retention,
		Rev:       r.rev.Load,
		Compact: func(_ context.Context, rev int64) error {
			r.mu.Lock()
			r.revs = append(r.revs, rev)
			r.mu.Unlock()
			r.got <- rev
			return nil
		},
		Active:           r.active.Load,
		RevisionInterval: 5 * time.Millisecond,
	}
}

func run(t *testing.T, cfg Config) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func wantCompaction(t *testing.T, r *recorder, want int64) {
	t.Helper()
	select {
	case got := <-r.got:
		if got != want {
			t.Fatalf("compacted at %d, want %d", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no compaction at %d", want)
	}
}

func TestRevisionModeKeepsRetentionRevisions(t *testing.T) {
	r := newRecorder()
	r.rev.Store(5)
	run(t, r.config(ModeRevision, 10))
	// Nothing to compact while the revision is within the retention.
	time.Sleep(30 * time.Millisecond)
	r.rev.Store(25)
	wantCompaction(t, r, 15)
	// The same revision is not compacted twice.
	time.Sleep(30 * time.Millisecond)
	select {
	case got := <-r.got:
		t.Fatalf("compacted again at %d with an unchanged revision", got)
	default:
	}
	// Not while the member does not lead.
	r.active.Store(false)
	r.rev.Store(40)
	time.Sleep(30 * time.Millisecond)
	select {
	case got := <-r.got:
		t.Fatalf("compacted at %d while not leading", got)
	default:
	}
	r.active.Store(true)
	wantCompaction(t, r, 30)
}

func TestPeriodicModeCompactsRevisionOfAPeriodAgo(t *testing.T) {
	r := newRecorder()
	r.rev.Store(7)
	run(t, r.config(ModePeriodic, 200*time.Millisecond))
	// The revision recorded at start is compacted once a period has passed.
	time.Sleep(50 * time.Millisecond)
	r.rev.Store(100)
	wantCompaction(t, r, 7)
	wantCompaction(t, r, 100)
}

func TestCompactedCountsAsSuccess(t *testing.T) {
	if !compacted(rpctypes.ErrGRPCCompacted) || compacted(rpctypes.ErrGRPCNoLeader) {
		t.Fatal("compacted misjudges errors")
	}
}

func TestUnknownMode(t *testing.T) {
	if err := Run(context.Background(), Config{Mode: "daily"}); err == nil {
		t.Fatal("unknown mode accepted")
	}
}
