package mvcc

import (
	"bytes"
	"sync"
)

// WatchStream is a set of watchers sharing one response channel, as one
// gRPC Watch stream does. It is safe for concurrent use.
type WatchStream struct {
	s  *WatchableStore
	ch chan WatchResponse

	mu       sync.Mutex
	nextID   WatchID
	watchers map[WatchID]*watcher
	closed   bool
}

// NewWatchStream opens a stream; Close releases it.
func (s *WatchableStore) NewWatchStream() *WatchStream {
	return &WatchStream{
		s:        s,
		ch:       make(chan WatchResponse, watchStreamBufLen),
		nextID:   1,
		watchers: make(map[WatchID]*watcher),
	}
}

// Watch starts watching [key, end) from startRev (0: from the next
// revision; a revision in the future waits for it). end nil: key alone;
// end empty non-nil: every key >= key. id AutoWatchID lets the stream pick
// an unused ID; a given ID must be unused (ErrWatcherDuplicateID). The
// filters drop events the watcher does not want. The stream keeps key and
// end; the caller must not modify them.
func (ws *WatchStream) Watch(id WatchID, key, end []byte, startRev int64, fcs ...FilterFunc) (WatchID, error) {
	if len(end) != 0 && bytes.Compare(key, end) >= 0 {
		return InvalidWatchID, ErrEmptyWatcherRange
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closed {
		return InvalidWatchID, ErrWatcherNotExist
	}
	if id == AutoWatchID {
		for ws.watchers[ws.nextID] != nil {
			ws.nextID++
		}
		id = ws.nextID
		ws.nextID++
	} else if ws.watchers[id] != nil {
		return InvalidWatchID, ErrWatcherDuplicateID
	}
	w := &watcher{id: id, key: key, end: end, startRev: startRev, fcs: fcs, ch: ws.ch}
	ws.watchers[id] = w
	ws.s.watch(w, startRev)
	return id, nil
}

// Chan returns the channel of the stream's responses; it is closed by
// Close.
func (ws *WatchStream) Chan() <-chan WatchResponse { return ws.ch }

// Cancel stops watcher id; responses already in the channel stay there.
func (ws *WatchStream) Cancel(id WatchID) error {
	ws.mu.Lock()
	w := ws.watchers[id]
	delete(ws.watchers, id)
	ws.mu.Unlock()
	if w == nil {
		return ErrWatcherNotExist
	}
	ws.s.cancel(w)
	return nil
}

// RequestProgress sends a progress response for watcher id (its ID, the
// store's revision) if the watcher is synced; otherwise it does nothing,
// as the watcher's next events will tell the client where it is.
func (ws *WatchStream) RequestProgress(id WatchID) {
	ws.mu.Lock()
	w := ws.watchers[id]
	ws.mu.Unlock()
	if w == nil {
		return
	}
	ws.s.progressIfSynced([]*watcher{w}, id)
}

// RequestProgressAll sends one progress response with InvalidWatchID for
// the whole stream if every watcher of the stream is synced, and reports
// whether it did (or there is no watcher). When it reports false the
// caller should ask again later (after the next response).
func (ws *WatchStream) RequestProgressAll() bool {
	ws.mu.Lock()
	all := make([]*watcher, 0, len(ws.watchers))
	for _, w := range ws.watchers {
		all = append(all, w)
	}
	ws.mu.Unlock()
	return ws.s.progressIfSynced(all, InvalidWatchID)
}

// Rev returns the store's current revision.
func (ws *WatchStream) Rev() int64 { return ws.s.Store.Rev() }

// Close cancels every watcher and closes the channel.
func (ws *WatchStream) Close() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closed {
		return
	}
	ws.closed = true
	for id, w := range ws.watchers {
		ws.s.cancel(w)
		delete(ws.watchers, id)
	}
	// Every watcher is gone (under the store's lock), so nothing sends any
	// more.
	close(ws.ch)
}
