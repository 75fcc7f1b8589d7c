package mvcc

import (
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/schema"
)

// Tunables of the watch layer (etcd's values where etcd has one).
const (
	// watchStreamBufLen is the capacity of a WatchStream's channel.
	watchStreamBufLen = 128
	// maxWatchersPerSync bounds the unsynced watchers one sync pass serves.
	maxWatchersPerSync = 512
	// syncBatchRevisions bounds the "key" bucket entries one sync pass
	// reads (a single revision larger than that is read whole).
	syncBatchRevisions = 1000
	// syncInterval and victimInterval are the idle periods of the loops;
	// both are also woken up when work arrives.
	syncInterval   = 100 * time.Millisecond
	victimInterval = 10 * time.Millisecond
)

// victim is a synced watcher whose channel was full: it holds the response
// that could not be delivered. Until it is, the watcher is in no group and
// gets nothing else.
type victim struct {
	w    *watcher
	resp WatchResponse
}

// WatchableStore is a Store whose changes can be watched. Every change
// reaches the watchers through the store's OnTxnEnd hook.
//
// A watcher is in exactly one state at a time, and moves between them
// under mu, which notify (the write path), the sync loop and the victim
// loop all hold while they send:
//   - synced: it has everything up to the store's revision; notify hands it
//     the events of each new revision, in one response per revision.
//   - unsynced: it is owed older revisions (it started in the past, or fell
//     behind); the sync loop reads them from the "key" bucket in bounded
//     batches and moves it to synced once caught up. A watcher whose start
//     revision has been compacted gets a response with CompactRevision and
//     leaves.
//   - victim: its channel was full when notify tried to send; the victim
//     loop retries that one response, then puts the watcher back (synced if
//     nothing happened meanwhile, unsynced otherwise).
//
// minRev, the next revision a watcher is owed, makes the moves exact: every
// send covers revisions >= minRev and moves minRev past them, so nothing is
// lost or sent twice, and sends never block the writer.
type WatchableStore struct {
	*Store
	lg *slog.Logger

	mu       sync.Mutex
	synced   *watcherGroup
	unsynced *watcherGroup
	victims  []victim

	syncc   chan struct{}
	victimc chan struct{}
}

// NewWatchableStore opens the store on b (as NewStore) with the watch hook
// installed, and starts the sync and victim loops. The loops belong to the
// store: Close (of the WatchableStore or of its Store) stops them.
// cfg.OnTxnEnd must be nil.
func NewWatchableStore(lg *slog.Logger, b backend.Backend, cfg StoreConfig) *WatchableStore {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	if cfg.OnTxnEnd != nil {
		panic("mvcc: NewWatchableStore: StoreConfig.OnTxnEnd is the watch layer's")
	}
	ws := &WatchableStore{
		lg:       lg,
		synced:   newWatcherGroup(),
		unsynced: newWatcherGroup(),
		syncc:    make(chan struct{}, 1),
		victimc:  make(chan struct{}, 1),
	}
	cfg.OnTxnEnd = ws.notify
	ws.Store = NewStore(lg, b, cfg)
	ws.Store.wg.Add(2)
	go ws.syncLoop()
	go ws.victimLoop()
	return ws
}

// KV returns the underlying store.
func (s *WatchableStore) KV() *Store { return s.Store }

// Done is closed when the store is closed. Open WatchStreams get nothing
// more then; their owners should close them.
func (s *WatchableStore) Done() <-chan struct{} { return s.Store.stopc }

func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// notify is the OnTxnEnd hook: it hands the changes of revision rev to the
// synced watchers. It runs under the store's write lock, after rev is
// visible.
func (s *WatchableStore) notify(rev int64, changes []*mvccpb.KeyValue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.synced.size() == 0 {
		return
	}
	newVictims := false
	deliver := func(w *watcher, evs []*mvccpb.Event) {
		resp := WatchResponse{WatchID: w.id, Events: evs, Revision: rev}
		w.minRev = rev + 1
		if !w.send(resp) {
			s.synced.delete(w)
			w.state = stateVictim
			s.victims = append(s.victims, victim{w: w, resp: resp})
			newVictims = true
		}
	}
	if len(changes) == 1 {
		// One change (most writes): every watcher it concerns gets the
		// same one-event slice, without grouping. A watcher that starts
		// at a future revision is not owed it yet.
		evs := []*mvccpb.Event{eventOf(changes[0])}
		s.synced.eachMatch(changes[0].Key, func(w *watcher) {
			if rev >= w.minRev {
				deliver(w, evs[:1:1])
			}
		})
	} else {
		for w, evs := range s.synced.eventBatches(changes) {
			deliver(w, evs)
		}
	}
	if newVictims {
		kick(s.victimc)
	}
}

// watch registers w, which wants events from startRev on (0: from the
// next revision).
func (s *WatchableStore) watch(w *watcher, startRev int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.Store.Rev()
	if startRev == 0 || startRev > cur {
		// Everything it is owed is still to come.
		w.minRev = startRev
		if startRev == 0 {
			w.minRev = cur + 1
		}
		w.state = stateSynced
		s.synced.add(w)
		return
	}
	w.minRev = startRev
	w.state = stateUnsynced
	s.unsynced.add(w)
	kick(s.syncc)
}

// cancel removes w from wherever it is; it gets nothing more.
func (s *WatchableStore) cancel(w *watcher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch w.state {
	case stateSynced:
		s.synced.delete(w)
	case stateUnsynced:
		s.unsynced.delete(w)
	case stateVictim:
		// Dropped from s.victims by the victim loop.
	}
	w.state = stateGone
}

// progressIfSynced sends a progress response (ID id) on the channel of
// the first of ws if every one of them is synced and past its start
// revision, and reports whether it could (or had nothing to send to).
func (s *WatchableStore) progressIfSynced(ws []*watcher, id WatchID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rev := s.Store.Rev()
	for _, w := range ws {
		if w.state != stateSynced || rev < w.startRev {
			return false
		}
	}
	if len(ws) == 0 {
		return true
	}
	return ws[0].send(WatchResponse{WatchID: id, Revision: rev})
}

// victimLoop retries the pending responses of victims.
func (s *WatchableStore) victimLoop() {
	defer s.Store.wg.Done()
	t := time.NewTicker(victimInterval)
	defer t.Stop()
	for {
		for s.moveVictims() > 0 {
		}
		select {
		case <-s.victimc:
		case <-t.C:
		case <-s.Store.stopc:
			return
		}
	}
}

// moveVictims tries to deliver each victim's response; the delivered ones
// rejoin synced (nothing new since) or unsynced. It returns how many moved.
func (s *WatchableStore) moveVictims() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.victims) == 0 {
		return 0
	}
	cur := s.Store.Rev()
	moved := 0
	kept := s.victims[:0]
	for _, v := range s.victims {
		if v.w.state != stateVictim {
			continue
		}
		if !v.w.send(v.resp) {
			kept = append(kept, v)
			continue
		}
		moved++
		if v.w.minRev > cur {
			v.w.state = stateSynced
			s.synced.add(v.w)
		} else {
			v.w.state = stateUnsynced
			s.unsynced.add(v.w)
		}
	}
	clear(s.victims[len(kept):])
	s.victims = kept
	if moved > 0 && s.unsynced.size() > 0 {
		kick(s.syncc)
	}
	return moved
}

// syncLoop catches unsynced watchers up.
func (s *WatchableStore) syncLoop() {
	defer s.Store.wg.Done()
	t := time.NewTicker(syncInterval)
	defer t.Stop()
	for {
		for {
			progressed, left := s.syncWatchers()
			if !progressed || left == 0 {
				break
			}
			select {
			case <-s.Store.stopc:
				return
			default:
			}
		}
		select {
		case <-s.syncc:
		case <-t.C:
		case <-s.Store.stopc:
			return
		}
	}
}

// syncWatchers runs one bounded pass over up to maxWatchersPerSync unsynced
// watchers: it reads the "key" bucket from their smallest minRev on (at
// most about syncBatchRevisions entries, whole revisions only) and sends
// each its events in one response. Watchers that reach the store's
// revision join the synced group. It reports whether any watcher moved on
// and how many are left unsynced.
func (s *WatchableStore) syncWatchers() (progressed bool, left int) {
	// The pass reads the index's revisions and the backend as one state.
	s.Store.restoreMu.RLock()
	defer s.Store.restoreMu.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unsynced.size() == 0 {
		return false, 0
	}
	cur := s.Store.Rev()
	tx := s.Store.b.ReadTx()
	defer tx.Release()
	// Loaded after the view opened: a compaction stores its revision
	// before it deletes anything, so revisions above compactRev are whole
	// in the view.
	compactRev := s.Store.compactMainRev.Load()

	chosen := make([]*watcher, 0, min(s.unsynced.size(), maxWatchersPerSync))
	minRev := int64(-1)
	s.unsynced.each(func(w *watcher) bool {
		if w.minRev < compactRev {
			if w.send(WatchResponse{WatchID: w.id, CompactRevision: compactRev}) {
				s.unsynced.delete(w)
				w.state = stateGone
				progressed = true
			}
			return true
		}
		if w.minRev > cur {
			// Owed nothing yet.
			s.unsynced.delete(w)
			w.state = stateSynced
			s.synced.add(w)
			progressed = true
			return true
		}
		chosen = append(chosen, w)
		if minRev < 0 || w.minRev < minRev {
			minRev = w.minRev
		}
		return len(chosen) < maxWatchersPerSync
	})
	if len(chosen) == 0 {
		return progressed, s.unsynced.size()
	}

	kvs, upto := s.readChanges(tx, minRev, cur)
	g := newWatcherGroup()
	for _, w := range chosen {
		g.add(w)
	}
	batches := g.eventBatches(kvs)
	for _, w := range chosen {
		if evs := batches[w]; len(evs) != 0 {
			if !w.send(WatchResponse{WatchID: w.id, Events: evs, Revision: upto}) {
				continue // try again next pass
			}
		}
		progressed = true
		w.minRev = max(w.minRev, upto+1)
		if w.minRev > cur {
			s.unsynced.delete(w)
			w.state = stateSynced
			s.synced.add(w)
		}
	}
	return progressed, s.unsynced.size()
}

// readChanges reads the changes of revisions [minRev, cur] from tx, at
// most about syncBatchRevisions of them but always whole revisions, and
// returns them in revision order with the last revision read. Deletes come
// back as KeyValue{Key, ModRevision} (CreateRevision 0).
func (s *WatchableStore) readChanges(tx backend.ReadTx, minRev, cur int64) ([]*mvccpb.KeyValue, int64) {
	start := schema.RevToBytes(schema.Revision{Main: minRev}, false)
	end := schema.RevToBytes(schema.Revision{Main: cur + 1}, false)
	keys, vals := tx.UnsafeRange(schema.Key, start, end, syncBatchRevisions)
	upto := cur
	if len(keys) == syncBatchRevisions {
		first := schema.BytesToRev(keys[0]).Main
		last := schema.BytesToRev(keys[len(keys)-1]).Main
		if first == last {
			// One revision larger than the batch: read it whole.
			keys, vals = tx.UnsafeRange(schema.Key, start,
				schema.RevToBytes(schema.Revision{Main: first + 1}, false), 0)
			upto = first
		} else {
			// Drop the last revision, which may be cut.
			n := len(keys)
			for n > 0 && schema.BytesToRev(keys[n-1]).Main == last {
				n--
			}
			keys, vals = keys[:n], vals[:n]
			upto = last - 1
		}
	}
	out := make([]*mvccpb.KeyValue, 0, len(keys))
	for i, k := range keys {
		kv := &mvccpb.KeyValue{}
		if err := proto.Unmarshal(vals[i], kv); err != nil {
			s.lg.Error("watch: unmarshal a revision of the key bucket", "revision", schema.BytesToRev(k), "error", err)
			continue
		}
		if schema.IsTombstone(k) {
			kv = &mvccpb.KeyValue{Key: kv.Key, ModRevision: schema.BytesToRev(k).Main}
		}
		out = append(out, kv)
	}
	return out, upto
}
