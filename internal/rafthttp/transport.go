package rafthttp

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Transport sends raft messages to the peers of one member and serves the
// peers' requests to it.
type Transport struct {
	lg        *slog.Logger
	id, cid   uint64
	urls      []string
	raft      Raft
	snaps     SnapshotStore
	onRemoved func()
	obs       observers

	dialTimeout, readTimeout, writeTimeout, pipelineTimeout time.Duration
	snapshotStall                                           time.Duration
	streamQ, pipeQ, recvQ                                   int
	maxMsg                                                  uint64

	streamRT *http.Transport // long-lived GETs
	postRT   *http.Transport // pipeline and snapshot POSTs

	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	stopped  bool
	peers    map[uint64]*peer
	handlers sync.WaitGroup

	removedOnce sync.Once
}

// New returns a transport; add peers with AddPeer and mount Handler.
func New(cfg Config) *Transport {
	t := &Transport{
		lg:              cfg.Logger,
		id:              cfg.ID,
		cid:             cfg.ClusterID,
		urls:            cfg.URLs,
		raft:            cfg.Raft,
		snaps:           cfg.Snapshots,
		onRemoved:       cfg.OnRemoved,
		obs:             newObservers(cfg),
		dialTimeout:     orDuration(cfg.DialTimeout, defaultDialTimeout),
		readTimeout:     orDuration(cfg.ReadTimeout, defaultReadTimeout),
		writeTimeout:    orDuration(cfg.WriteTimeout, defaultWriteTimeout),
		pipelineTimeout: orDuration(cfg.PipelineTimeout, defaultPipelineTimeout),
		snapshotStall:   orDuration(cfg.SnapshotStallTimeout, defaultSnapshotStall),
		streamQ:         orInt(cfg.StreamQueueSize, defaultStreamQueue),
		pipeQ:           orInt(cfg.PipelineQueueSize, defaultPipelineQueue),
		recvQ:           orInt(cfg.RecvQueueSize, defaultRecvQueue),
		maxMsg:          cfg.MaxMessageSize,
		peers:           make(map[uint64]*peer),
	}
	if t.maxMsg == 0 {
		t.maxMsg = defaultMaxMessageSize
	}
	if t.lg == nil {
		t.lg = slog.New(slog.DiscardHandler)
	}
	t.lg = t.lg.With(slog.String("local-member-id", idString(t.id)))
	t.ctx, t.cancel = context.WithCancel(context.Background())
	dialer := &net.Dialer{Timeout: t.dialTimeout, KeepAlive: 30 * time.Second}
	t.streamRT = &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ResponseHeaderTimeout: t.readTimeout,
		MaxIdleConnsPerHost:   -1, // a stream's connection is not reused
		DisableKeepAlives:     true,
		TLSClientConfig:       cfg.TLS,
		TLSHandshakeTimeout:   t.dialTimeout,
	}
	t.postRT = &http.Transport{
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: pipelineWorkers + 1,
		IdleConnTimeout:     90 * time.Second,
		TLSClientConfig:     cfg.TLS,
		TLSHandshakeTimeout: t.dialTimeout,
	}
	return t
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func orInt(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// Send queues the messages for their peers; it never blocks. A message that
// finds its queue full is dropped and raft is told the peer is unreachable
// (for MsgSnap: that the snapshot failed). Messages to unknown peers are
// dropped.
func (t *Transport) Send(msgs []*raftpb.Message) {
	for _, m := range msgs {
		to := m.GetTo()
		if to == 0 || to == t.id {
			continue
		}
		p := t.peer(to)
		if p == nil {
			t.lg.Debug("dropped message to unknown peer", slog.String("remote-peer-id", idString(to)), slog.String("type", m.GetType().String()))
			continue
		}
		p.send(m)
	}
}

func (t *Transport) peer(id uint64) *peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.peers[id]
}

// AddPeer starts talking to the member at the given peer URLs; an ID already
// known keeps its peer (use UpdatePeer to change URLs).
func (t *Transport) AddPeer(id uint64, urls []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || id == t.id {
		return
	}
	if _, ok := t.peers[id]; ok {
		return
	}
	p, err := newPeer(t, id, urls)
	if err != nil {
		t.lg.Warn("failed to add peer", slog.String("remote-peer-id", idString(id)), slog.Any("error", err))
		return
	}
	t.peers[id] = p
	p.start()
	t.lg.Info("added peer", slog.String("remote-peer-id", idString(id)), slog.Any("remote-peer-urls", urls))
}

// RemovePeer stops talking to the member and waits for its goroutines.
func (t *Transport) RemovePeer(id uint64) {
	t.mu.Lock()
	p := t.peers[id]
	delete(t.peers, id)
	t.mu.Unlock()
	if p != nil {
		p.stop()
		t.lg.Info("removed peer", slog.String("remote-peer-id", idString(id)))
	}
}

// UpdatePeer replaces the member's peer URLs; new connections use them.
func (t *Transport) UpdatePeer(id uint64, urls []string) {
	if p := t.peer(id); p != nil {
		if err := p.setURLs(urls); err != nil {
			t.lg.Warn("failed to update peer", slog.String("remote-peer-id", idString(id)), slog.Any("error", err))
			return
		}
		t.lg.Info("updated peer", slog.String("remote-peer-id", idString(id)), slog.Any("remote-peer-urls", urls))
	}
}

// ActiveSince returns since when a stream with the member (in either
// direction) has been up, or the zero time when none is.
func (t *Transport) ActiveSince(id uint64) time.Time {
	if p := t.peer(id); p != nil {
		return p.activeSince()
	}
	return time.Time{}
}

// Stop stops every peer, cuts the requests being served short and waits for
// all of the transport's goroutines. Requests arriving later get 503.
func (t *Transport) Stop() {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return
	}
	t.stopped = true
	peers := t.peers
	t.peers = map[uint64]*peer{}
	t.mu.Unlock()

	t.cancel()
	for _, p := range peers {
		p.stop()
	}
	t.handlers.Wait()
	t.streamRT.CloseIdleConnections()
	t.postRT.CloseIdleConnections()
}

// reportRemoved tells the member, once, that a peer says it was removed.
func (t *Transport) reportRemoved(by uint64) {
	t.removedOnce.Do(func() {
		t.lg.Warn("a peer reports that this member was removed from the cluster", slog.String("remote-peer-id", idString(by)))
		if t.onRemoved != nil {
			t.onRemoved()
		}
	})
}

func (t *Transport) reportSnapshot(id uint64, ok bool) {
	if ok {
		t.raft.ReportSnapshot(id, raft.SnapshotFinish)
		return
	}
	t.raft.ReportUnreachable(id)
	t.raft.ReportSnapshot(id, raft.SnapshotFailure)
}
