package rafthttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// peer is everything the transport keeps for one remote member: the queues
// of outgoing messages, the stream attached by the peer (our writer), the
// stream we dialed (our reader), pipeline and snapshot senders, and the
// queues towards Raft.Process.
type peer struct {
	t  *Transport
	id uint64
	lg *slog.Logger

	msgc   chan *raftpb.Message // drained by the attached stream writer
	pipec  chan *raftpb.Message // drained by the pipeline workers
	snapc  chan *raftpb.Message // drained by the snapshot sender
	recvc  chan *raftpb.Message // stream reader to Raft.Process
	propc  chan *raftpb.Message // same, for proposals (which may block)
	stream atomic.Bool          // a stream writer is attached

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	stopped   bool
	urls      []url.URL
	next      int
	out       *outStream // the attached stream writer
	readerUp  bool
	since     time.Time
	dropping  bool // a drop was logged; the next ones are quiet until success
	pipeError bool // a pipeline failure was logged
}

// outStream is one attached stream writer; closing done stops it.
type outStream struct {
	done chan struct{}
}

func newPeer(t *Transport, id uint64, urls []string) (*peer, error) {
	us, err := parseURLs(urls)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(t.ctx)
	return &peer{
		t:      t,
		id:     id,
		lg:     t.lg.With(slog.String("remote-peer-id", idString(id))),
		msgc:   make(chan *raftpb.Message, t.streamQ),
		pipec:  make(chan *raftpb.Message, t.pipeQ),
		snapc:  make(chan *raftpb.Message, 1),
		recvc:  make(chan *raftpb.Message, t.recvQ),
		propc:  make(chan *raftpb.Message, t.recvQ),
		ctx:    ctx,
		cancel: cancel,
		urls:   us,
	}, nil
}

func parseURLs(urls []string) ([]url.URL, error) {
	if len(urls) == 0 {
		return nil, errors.New("no peer URLs")
	}
	us := make([]url.URL, 0, len(urls))
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("parse peer URL %q: %w", s, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("peer URL %q: want http(s)://host:port", s)
		}
		us = append(us, *u)
	}
	return us, nil
}

func (p *peer) start() {
	p.goRun(p.readLoop)
	p.goRun(func() { p.deliverLoop(p.recvc) })
	p.goRun(func() { p.deliverLoop(p.propc) })
	p.goRun(p.snapshotLoop)
	p.goRun(p.probeLoop)
	for range pipelineWorkers {
		p.goRun(p.pipelineLoop)
	}
}

func (p *peer) goRun(f func()) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
}

// stop ends all the peer's goroutines and its attached stream writer.
func (p *peer) stop() {
	p.mu.Lock()
	p.stopped = true
	if p.out != nil {
		close(p.out.done)
		p.out = nil
	}
	p.stream.Store(false)
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
}

// send queues m without blocking.
func (p *peer) send(m *raftpb.Message) {
	if m.GetType() == raftpb.MessageType_MsgSnap {
		select {
		case p.snapc <- m:
		default:
			p.lg.Warn("dropped MsgSnap: a snapshot to this peer is already being sent")
			p.t.reportSnapshot(p.id, false)
		}
		return
	}
	q, via := p.pipec, "pipeline"
	if p.stream.Load() {
		q, via = p.msgc, "stream"
	}
	select {
	case q <- m:
	default:
		p.mu.Lock()
		quiet := p.dropping
		p.dropping = true
		p.mu.Unlock()
		level := slog.LevelWarn
		if quiet {
			level = slog.LevelDebug
		}
		p.lg.Log(context.Background(), level, "dropped raft message: queue to peer is full",
			slog.String("via", via), slog.String("type", m.GetType().String()))
		p.t.raft.ReportUnreachable(p.id)
	}
}

func (p *peer) sent() {
	p.mu.Lock()
	p.dropping = false
	p.mu.Unlock()
}

// pick returns the URL to use; failed moves on to the next one.
func (p *peer) pick() url.URL {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.urls[p.next%len(p.urls)]
}

func (p *peer) failed(u url.URL) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.urls[p.next%len(p.urls)] == u {
		p.next++
	}
}

func (p *peer) setURLs(urls []string) error {
	us, err := parseURLs(urls)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.urls, p.next = us, 0
	p.mu.Unlock()
	return nil
}

func (p *peer) activeSince() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.since
}

// updateActive keeps since in step with whether any stream is up; callers
// hold mu.
func (p *peer) updateActive() {
	up := p.out != nil || p.readerUp
	switch {
	case up && p.since.IsZero():
		p.since = time.Now()
		p.lg.Info("peer became active")
	case !up && !p.since.IsZero():
		p.since = time.Time{}
		p.lg.Warn("peer became inactive (message send to peer failed)")
	}
}

// attach makes s the stream writer, replacing an older one.
func (p *peer) attach(s *outStream) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	if p.out != nil {
		close(p.out.done)
	}
	p.out = s
	p.stream.Store(true)
	p.updateActive()
	return true
}

func (p *peer) detach(s *outStream) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out == s {
		p.out = nil
		p.stream.Store(false)
		p.updateActive()
	}
}

func (p *peer) setReaderUp(up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readerUp = up
	p.updateActive()
}

// deliverLoop hands received messages to raft in the order they arrived.
func (p *peer) deliverLoop(c chan *raftpb.Message) {
	for {
		select {
		case m := <-c:
			if err := p.t.raft.Process(p.ctx, m); err != nil && p.ctx.Err() == nil {
				p.lg.Warn("failed to process raft message", slog.String("type", m.GetType().String()), slog.Any("error", err))
			}
		case <-p.ctx.Done():
			return
		}
	}
}

// backoff is a bounded, jittered exponential delay.
type backoff struct {
	min, max, cur time.Duration
}

func newBackoff() *backoff { return &backoff{min: 50 * time.Millisecond, max: time.Second} }

func (b *backoff) reset() { b.cur = 0 }

// next returns the delay before the next attempt: the step doubled each
// time up to max, then a random value in [step/2, step).
func (b *backoff) next() time.Duration {
	switch {
	case b.cur == 0:
		b.cur = b.min
	case b.cur < b.max:
		b.cur = min(2*b.cur, b.max)
	}
	half := b.cur / 2
	return half + rand.N(half+1)
}

// sleep waits d or until ctx ends; it reports whether to go on.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
