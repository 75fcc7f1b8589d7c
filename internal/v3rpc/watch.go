package v3rpc

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/mvcc"
)

// DefaultWatchProgressNotifyInterval is etcd's interval of progress
// notifications for watchers that asked for them.
const DefaultWatchProgressNotifyInterval = 10 * time.Minute

// ctrlStreamBufLen bounds the control responses (created, canceled) waiting
// for the send loop; the receive loop waits when it is full.
const ctrlStreamBufLen = 16

// maxPendingPerWatch bounds the responses held back for a watcher whose
// "created" response has not been sent yet.
const maxPendingPerWatch = 1024

// deferredProgressRetry is how often a deferred progress request is retried.
const deferredProgressRetry = 100 * time.Millisecond

type watchServer struct {
	pb.UnimplementedWatchServer
	m                Member
	maxRequestBytes  uint
	progressInterval time.Duration
}

func newWatchServer(m Member, cfg Config) *watchServer {
	iv := cfg.WatchProgressNotifyInterval
	if iv <= 0 {
		iv = DefaultWatchProgressNotifyInterval
	}
	return &watchServer{m: m, maxRequestBytes: cfg.MaxRequestBytes, progressInterval: iv}
}

// serverWatchStream is one gRPC Watch stream: a receive loop that turns
// requests into calls on an mvcc.WatchStream, and a send loop that turns
// its responses (and the control responses of the receive loop) into
// WatchResponses.
type serverWatchStream struct {
	ws     *watchServer
	gs     pb.Watch_WatchServer
	store  *mvcc.WatchableStore
	wstr   *mvcc.WatchStream
	ctrl   chan *pb.WatchResponse
	closec chan struct{}

	mu sync.Mutex
	// progress: watchers with progress_notify; true when nothing was sent
	// to them since the last tick.
	progress map[mvcc.WatchID]bool
	prevKV   map[mvcc.WatchID]bool
	fragment map[mvcc.WatchID]bool
	// deferredProgress: a stream-wide progress request waits for every
	// watcher to be synced.
	deferredProgress bool
}

func (s *watchServer) Watch(gs pb.Watch_WatchServer) error {
	store := s.m.Watchable()
	sws := &serverWatchStream{
		ws:       s,
		gs:       gs,
		store:    store,
		wstr:     store.NewWatchStream(),
		ctrl:     make(chan *pb.WatchResponse, ctrlStreamBufLen),
		closec:   make(chan struct{}),
		progress: make(map[mvcc.WatchID]bool),
		prevKV:   make(map[mvcc.WatchID]bool),
		fragment: make(map[mvcc.WatchID]bool),
	}
	defer sws.wstr.Close()

	sendErr := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sendErr <- sws.sendLoop()
	}()
	recvErr := make(chan error, 1)
	go func() {
		// Ends when the stream's context ends (which returning from this
		// handler does), at the latest.
		recvErr <- sws.recvLoop()
	}()

	var err error
	select {
	case err = <-recvErr:
	case err = <-sendErr:
	case <-gs.Context().Done():
		err = gs.Context().Err()
	case <-store.Done():
		err = errors.New("etcdserver: server stopped")
	}
	close(sws.closec)
	wg.Wait()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (sws *serverWatchStream) header(rev int64) *pb.ResponseHeader {
	h := sws.ws.m.Header()
	h.Revision = rev
	return h
}

// sendCtrl hands a control response to the send loop.
func (sws *serverWatchStream) sendCtrl(r *pb.WatchResponse) bool {
	select {
	case sws.ctrl <- r:
		return true
	case <-sws.closec:
		return false
	}
}

func (sws *serverWatchStream) recvLoop() error {
	for {
		req, err := sws.gs.Recv()
		if err != nil {
			return err
		}
		switch u := req.RequestUnion.(type) {
		case *pb.WatchRequest_CreateRequest:
			if u.CreateRequest == nil {
				continue
			}
			if !sws.create(u.CreateRequest) {
				return nil
			}
		case *pb.WatchRequest_CancelRequest:
			if u.CancelRequest == nil {
				continue
			}
			id := mvcc.WatchID(u.CancelRequest.WatchId)
			if err := sws.wstr.Cancel(id); err == nil {
				sws.mu.Lock()
				delete(sws.progress, id)
				delete(sws.prevKV, id)
				delete(sws.fragment, id)
				sws.mu.Unlock()
				if !sws.sendCtrl(&pb.WatchResponse{Header: sws.header(sws.wstr.Rev()), WatchId: int64(id), Canceled: true}) {
					return nil
				}
			}
		case *pb.WatchRequest_ProgressRequest:
			if u.ProgressRequest == nil {
				continue
			}
			sws.mu.Lock()
			if !sws.deferredProgress && !sws.wstr.RequestProgressAll() {
				sws.deferredProgress = true
			}
			sws.mu.Unlock()
		}
	}
}

// create starts a watcher and queues its "created" response; false when
// the stream is closing.
func (sws *serverWatchStream) create(cr *pb.WatchCreateRequest) bool {
	key, end := cr.Key, cr.RangeEnd
	if len(key) == 0 {
		key = []byte{0} // the smallest key
	}
	switch {
	case len(end) == 0:
		end = nil // one key
	case len(end) == 1 && end[0] == 0:
		end = []byte{} // every key >= key
	}
	var fcs []mvcc.FilterFunc
	for _, f := range cr.Filters {
		switch f {
		case pb.WatchCreateRequest_NOPUT:
			fcs = append(fcs, func(ev *mvccpb.Event) bool { return ev.Type == mvccpb.Event_PUT })
		case pb.WatchCreateRequest_NODELETE:
			fcs = append(fcs, func(ev *mvccpb.Event) bool { return ev.Type == mvccpb.Event_DELETE })
		}
	}
	wsrev := sws.wstr.Rev()
	rev := cr.StartRevision
	if rev == 0 {
		rev = wsrev + 1
	}
	id, err := sws.wstr.Watch(mvcc.WatchID(cr.WatchId), key, end, rev, fcs...)
	if err == nil {
		sws.mu.Lock()
		if cr.ProgressNotify {
			sws.progress[id] = true
		}
		if cr.PrevKv {
			sws.prevKV[id] = true
		}
		if cr.Fragment {
			sws.fragment[id] = true
		}
		sws.mu.Unlock()
	}
	wr := &pb.WatchResponse{Header: sws.header(wsrev), WatchId: int64(id), Created: true, Canceled: err != nil}
	if err != nil {
		wr.CancelReason = err.Error()
	}
	return sws.sendCtrl(wr)
}

func (sws *serverWatchStream) sendLoop() error {
	// announced: watchers whose "created" response went out; responses for
	// others wait in pending, so a client never sees events of a watch it
	// does not know of yet.
	announced := make(map[mvcc.WatchID]bool)
	pending := make(map[mvcc.WatchID][]mvcc.WatchResponse)
	ticker := time.NewTicker(sws.ws.progressInterval)
	defer ticker.Stop()
	// A deferred stream-wide progress request is retried after every
	// response and on this ticker (a watcher may catch up silently).
	retry := time.NewTicker(deferredProgressRetry)
	defer retry.Stop()
	for {
		select {
		case wresp, ok := <-sws.wstr.Chan():
			if !ok {
				return nil
			}
			sws.mu.Lock()
			if len(wresp.Events) > 0 && sws.progress[wresp.WatchID] {
				sws.progress[wresp.WatchID] = false // no progress due next tick
			}
			if sws.deferredProgress && sws.wstr.RequestProgressAll() {
				sws.deferredProgress = false
			}
			sws.mu.Unlock()
			if wresp.WatchID != mvcc.InvalidWatchID && !announced[wresp.WatchID] {
				// Converted once announced: the watcher's options are
				// recorded by then.
				if len(pending[wresp.WatchID]) >= maxPendingPerWatch {
					return errors.New("etcdserver: too many responses pending for an unannounced watch")
				}
				pending[wresp.WatchID] = append(pending[wresp.WatchID], wresp)
				continue
			}
			if err := sws.sendResp(wresp); err != nil {
				return err
			}
			if wresp.CompactRevision != 0 {
				// The store dropped the watcher; free its ID.
				sws.forget(wresp.WatchID)
				sws.wstr.Cancel(wresp.WatchID)
				delete(announced, wresp.WatchID)
			}
		case c := <-sws.ctrl:
			if err := sws.gs.Send(c); err != nil {
				return err
			}
			id := mvcc.WatchID(c.WatchId)
			switch {
			case c.Created && !c.Canceled:
				announced[id] = true
				for _, wresp := range pending[id] {
					if err := sws.sendResp(wresp); err != nil {
						return err
					}
				}
				delete(pending, id)
			case c.Canceled:
				delete(announced, id)
				delete(pending, id)
			}
		case <-ticker.C:
			sws.mu.Lock()
			for id, due := range sws.progress {
				if due {
					sws.wstr.RequestProgress(id)
				}
				sws.progress[id] = true
			}
			sws.mu.Unlock()
		case <-retry.C:
			sws.mu.Lock()
			if sws.deferredProgress && sws.wstr.RequestProgressAll() {
				sws.deferredProgress = false
			}
			sws.mu.Unlock()
		case <-sws.closec:
			return nil
		}
	}
}

// sendResp converts and sends a store response.
func (sws *serverWatchStream) sendResp(wresp mvcc.WatchResponse) error {
	sws.mu.Lock()
	frag := sws.fragment[wresp.WatchID]
	sws.mu.Unlock()
	return sws.send(sws.toPB(wresp), frag)
}

func (sws *serverWatchStream) forget(id mvcc.WatchID) {
	sws.mu.Lock()
	delete(sws.progress, id)
	delete(sws.prevKV, id)
	delete(sws.fragment, id)
	sws.mu.Unlock()
}

// toPB converts a store response, reading the previous KeyValues the
// watcher asked for.
func (sws *serverWatchStream) toPB(wresp mvcc.WatchResponse) *pb.WatchResponse {
	sws.mu.Lock()
	needPrev := sws.prevKV[wresp.WatchID]
	sws.mu.Unlock()
	events := wresp.Events
	if needPrev {
		// The store shares events between watchers: copy before adding.
		events = make([]*mvccpb.Event, len(wresp.Events))
		for i, ev := range wresp.Events {
			events[i] = &mvccpb.Event{Type: ev.Type, Kv: ev.Kv}
			if ev.Type == mvccpb.Event_PUT && ev.Kv.CreateRevision == ev.Kv.ModRevision {
				continue // a creation has no previous version
			}
			r, err := sws.store.Range(sws.gs.Context(), ev.Kv.Key, nil, mvcc.RangeOptions{Rev: ev.Kv.ModRevision - 1})
			if err == nil && len(r.KVs) != 0 {
				events[i].PrevKv = r.KVs[0]
			}
		}
	}
	return &pb.WatchResponse{
		Header:          sws.header(wresp.Revision),
		WatchId:         int64(wresp.WatchID),
		Events:          events,
		CompactRevision: wresp.CompactRevision,
		Canceled:        wresp.CompactRevision != 0,
	}
}

// send sends wr, split into fragments when the watcher asked for them and
// wr is too large, as etcd does: every fragment but the last has Fragment
// set, and each holds as many events as fit in maxRequestBytes (at least
// one).
func (sws *serverWatchStream) send(wr *pb.WatchResponse, frag bool) error {
	limit := int(sws.ws.maxRequestBytes)
	if !frag || len(wr.Events) < 2 || proto.Size(wr) < limit {
		return sws.gs.Send(wr)
	}
	base := proto.Size(&pb.WatchResponse{Header: wr.Header, WatchId: wr.WatchId, Fragment: true})
	evs := wr.Events
	for len(evs) > 0 {
		size, n := base, 0
		for n < len(evs) {
			sz := proto.Size(evs[n])
			size += 1 + protowire.SizeVarint(uint64(sz)) + sz
			if n > 0 && size >= limit {
				break
			}
			n++
		}
		cur := &pb.WatchResponse{Header: wr.Header, WatchId: wr.WatchId, Events: evs[:n], Fragment: n < len(evs)}
		evs = evs[n:]
		if err := sws.gs.Send(cur); err != nil {
			return err
		}
	}
	return nil
}
