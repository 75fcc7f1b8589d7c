package robustness

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// event is one watch event.
type event struct {
	Delete bool
	KV     kv  // for a delete: Key and ModRev (the deletion's revision)
	Prev   *kv // with prev_kv: the key before the event, nil if absent
}

// watchItem is one thing a watcher received, in order: an event or a
// progress notification (Progress > 0).
type watchItem struct {
	Ev       event
	Progress int64
}

// watcher follows the whole key space from StartRev with one client.
type watcher struct {
	ID       int
	StartRev int64
	PrevKV   bool
	cli      *clientv3.Client

	mu      sync.Mutex
	items   []watchItem
	lastRev int64 // highest revision known delivered (events or progress)
	errs    []string
	done    chan struct{}
}

// maxWatchRestarts bounds how often a watcher re-opens a closed channel.
const maxWatchRestarts = 100

// run watches until ctx ends.
func (w *watcher) run(ctx context.Context) {
	defer close(w.done)
	for restart := 0; restart < maxWatchRestarts && ctx.Err() == nil; restart++ {
		w.mu.Lock()
		next := w.StartRev
		if n := len(w.items); n > 0 {
			for i := n - 1; i >= 0; i-- {
				if w.items[i].Progress == 0 {
					next = w.items[i].Ev.KV.ModRev + 1
					break
				}
			}
		}
		w.mu.Unlock()
		opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithRev(next), clientv3.WithProgressNotify()}
		if w.PrevKV {
			opts = append(opts, clientv3.WithPrevKV())
		}
		wctx := clientv3.WithRequireLeader(ctx)
		if restart%2 == 1 {
			wctx = ctx // alternate: also watch through a member without a leader
		}
		for resp := range w.cli.Watch(wctx, "", opts...) {
			if resp.Canceled || resp.Err() != nil {
				if ctx.Err() == nil && resp.CompactRevision != 0 {
					w.fail("watch from %d canceled: compacted at %d", next, resp.CompactRevision)
				}
				break
			}
			w.mu.Lock()
			if resp.IsProgressNotify() {
				w.items = append(w.items, watchItem{Progress: resp.Header.Revision})
				w.lastRev = max(w.lastRev, resp.Header.Revision)
			}
			for _, ev := range resp.Events {
				e := fromEvent(ev)
				w.items = append(w.items, watchItem{Ev: e})
				w.lastRev = max(w.lastRev, e.KV.ModRev)
			}
			w.mu.Unlock()
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (w *watcher) fail(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.errs) < 20 {
		w.errs = append(w.errs, fmt.Sprintf("watcher %d: ", w.ID)+fmt.Sprintf(format, args...))
	}
}

// progress returns the highest revision known delivered.
func (w *watcher) progress() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastRev
}

// waitFor waits until the watcher has everything up to rev, asking for
// progress notifications; false on timeout.
func (w *watcher) waitFor(ctx context.Context, rev int64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if w.progress() >= rev {
			return true
		}
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_ = w.cli.RequestProgress(clientv3.WithRequireLeader(rctx))
		cancel()
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	return w.progress() >= rev
}

func (w *watcher) snapshot() ([]watchItem, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]watchItem(nil), w.items...), append([]string(nil), w.errs...)
}

func fromEvent(ev *clientv3.Event) event {
	e := event{Delete: ev.Type == mvccpb.DELETE, KV: fromKV(ev.Kv)}
	if ev.PrevKv != nil {
		p := fromKV(ev.PrevKv)
		e.Prev = &p
	}
	return e
}

// watchHistory is the writes of a run as the watchers saw them: per
// revision, its events; it is the reference the other checks use.
type watchHistory struct {
	first, last int64             // revisions covered: [first, last]
	byRev       map[int64][]event // events of a revision, in order
	valueRev    map[string]int64  // revision at which a value was put
}

// checkWatches checks each watcher's items and merges them into one
// history. finalRev is the revision every watcher had to reach; sent is
// every value a client tried to put.
func checkWatches(watchers []watcherResult, finalRev int64, sent map[string]bool) (*watchHistory, []string) {
	var errs []string
	h := &watchHistory{first: 1, last: finalRev, byRev: map[int64][]event{}, valueRev: map[string]int64{}}
	failf := func(format string, args ...any) {
		if len(errs) < 50 {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
	}
	for _, w := range watchers {
		errs = append(errs, w.Errs...)
		var lastRev, lastProgress int64
		seenKey := map[int]bool{} // keys of the current revision
		perRev := map[int64][]event{}
		for i, it := range w.Items {
			if it.Progress > 0 {
				lastProgress = max(lastProgress, it.Progress)
				continue
			}
			r := it.Ev.KV.ModRev
			switch {
			case r < lastRev:
				failf("watcher %d: item %d: event at revision %d after one at %d", w.ID, i, r, lastRev)
			case r <= lastProgress:
				failf("watcher %d: item %d: event at revision %d after a progress notification of %d", w.ID, i, r, lastProgress)
			case r < w.StartRev:
				failf("watcher %d: item %d: event at revision %d before the start %d", w.ID, i, r, w.StartRev)
			case r == lastRev && seenKey[it.Ev.KV.Key]:
				failf("watcher %d: item %d: key k%d twice at revision %d", w.ID, i, it.Ev.KV.Key, r)
			}
			if r != lastRev {
				seenKey = map[int]bool{}
				lastRev = r
			}
			seenKey[it.Ev.KV.Key] = true
			perRev[r] = append(perRev[r], it.Ev)
		}
		// Every revision from the start to the end is a write with events.
		for r := max(w.StartRev, 2); r <= finalRev; r++ {
			if _, ok := perRev[r]; !ok {
				failf("watcher %d (from %d): no event at revision %d (final %d)", w.ID, w.StartRev, r, finalRev)
				break
			}
		}
		for r, evs := range perRev {
			if r > finalRev {
				failf("watcher %d: events at revision %d beyond the final revision %d", w.ID, r, finalRev)
				continue
			}
			ref, ok := h.byRev[r]
			if !ok {
				h.byRev[r] = evs
				continue
			}
			if !sameEvents(ref, evs) {
				failf("watchers disagree at revision %d: %v vs %v (watcher %d)", r, ref, evs, w.ID)
			}
		}
	}
	// Each value is put at one revision, and only values clients sent.
	revs := sortedRevs(h.byRev)
	for _, r := range revs {
		for _, e := range h.byRev[r] {
			if e.Delete {
				continue
			}
			if !sent[e.KV.Value] {
				failf("revision %d: k%d put to %q, which no client wrote", r, e.KV.Key, e.KV.Value)
			}
			if prev, dup := h.valueRev[e.KV.Value]; dup {
				failf("value %q put twice: at revisions %d and %d", e.KV.Value, prev, r)
			}
			h.valueRev[e.KV.Value] = r
		}
	}
	// prev_kv and the fields of each event agree with the state before it.
	s := initState()
	for _, r := range revs {
		for _, e := range h.byRev[r] {
			cur := s.KVs[e.KV.Key]
			if !e.Delete {
				want := kv{Key: e.KV.Key, Value: e.KV.Value, ModRev: r, CreateRev: cur.CreateRev, Version: cur.Version + 1, Lease: e.KV.Lease}
				if cur.ModRev == 0 {
					want.CreateRev, want.Version = r, 1
				}
				if e.KV != want {
					failf("revision %d: event %+v, but the key was %+v before it (want %+v)", r, e.KV, cur, want)
				}
			} else if cur.ModRev == 0 {
				failf("revision %d: delete of k%d, which did not exist", r, e.KV.Key)
			}
		}
		for _, w := range watchers {
			if !w.PrevKV {
				continue
			}
			for _, it := range w.Items {
				if it.Progress > 0 || it.Ev.KV.ModRev != r {
					continue
				}
				if !samePrev(it.Ev.Prev, s.KVs[it.Ev.KV.Key]) {
					failf("watcher %d: revision %d: prev_kv of k%d is %v, want %+v", w.ID, r, it.Ev.KV.Key, it.Ev.Prev, s.KVs[it.Ev.KV.Key])
				}
			}
		}
		s = applyEvents(s, r, h.byRev[r])
	}
	return h, errs
}

// watcherResult is what a watcher left for the checks.
type watcherResult struct {
	ID       int
	StartRev int64
	PrevKV   bool
	Items    []watchItem
	Errs     []string
}

func sameEvents(a, b []event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Delete != b[i].Delete || a[i].KV != b[i].KV {
			return false
		}
	}
	return true
}

func sortedRevs(m map[int64][]event) []int64 {
	out := make([]int64, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// applyEvents applies the events of revision r to s (leases aside).
func applyEvents(s state, r int64, evs []event) state {
	for _, e := range evs {
		if e.Delete {
			s.KVs[e.KV.Key] = kv{Key: e.KV.Key}
		} else {
			k := e.KV
			k.ModRev = r
			s.KVs[e.KV.Key] = k
		}
	}
	s.Rev = r
	return s
}

// stateAt returns the key space at revision rev (rev <= h.last).
func (h *watchHistory) stateAt(rev int64) state {
	s := initState()
	for _, r := range sortedRevs(h.byRev) {
		if r > rev {
			break
		}
		s = applyEvents(s, r, h.byRev[r])
	}
	s.Rev = rev
	return s
}

// checkAcknowledged checks that every write acknowledged with a revision
// is the watch's event at that revision.
func checkAcknowledged(h *watchHistory, ops []operation) []string {
	var errs []string
	for _, op := range ops {
		if op.Resp.Unknown || op.Resp.LeaseNotFound || op.Err != "" {
			continue
		}
		var want *event
		switch op.Req.Kind {
		case opPut, opPutLease:
			want = &event{KV: kv{Key: op.Req.Key, Value: op.Req.Value, Lease: op.Req.Lease}}
		case opTxnCAS:
			if op.Resp.Succeeded {
				want = &event{KV: kv{Key: op.Req.Key, Value: op.Req.Value}}
			}
		case opDelete:
			if op.Resp.Deleted == 1 {
				want = &event{Delete: true, KV: kv{Key: op.Req.Key}}
			}
		}
		if want == nil {
			continue
		}
		found := false
		for _, e := range h.byRev[op.Resp.Rev] {
			if e.KV.Key == want.KV.Key && e.Delete == want.Delete && (e.Delete || (e.KV.Value == want.KV.Value && e.KV.Lease == want.KV.Lease)) {
				found = true
			}
		}
		if !found && len(errs) < 50 {
			errs = append(errs, fmt.Sprintf("acknowledged %s at revision %d is not among the watched events there %v", describeOp(op.Req, op.Resp), op.Resp.Rev, h.byRev[op.Resp.Rev]))
		}
	}
	return errs
}

// checkStaleReads checks that every successful read, serializable or not,
// returned the key space as it was at its header revision.
func checkStaleReads(h *watchHistory, ops []operation) []string {
	var reads []operation
	for _, op := range ops {
		if (op.Req.Kind == opGet || op.Req.Kind == opStaleGet) && op.Err == "" {
			reads = append(reads, op)
		}
	}
	sort.Slice(reads, func(i, j int) bool { return reads[i].Resp.Rev < reads[j].Resp.Rev })
	var errs []string
	s := initState()
	revs := sortedRevs(h.byRev)
	ri := 0
	for _, op := range reads {
		if op.Resp.Rev > h.last {
			errs = append(errs, fmt.Sprintf("%s: revision beyond the final %d", describeOp(op.Req, op.Resp), h.last))
			continue
		}
		for ri < len(revs) && revs[ri] <= op.Resp.Rev {
			s = applyEvents(s, revs[ri], h.byRev[revs[ri]])
			ri++
		}
		want := s.rangeKVs(op.Req.Key, op.Req.End)
		if !sameKVsNoLease(op.Resp.KVs, want) && len(errs) < 50 {
			errs = append(errs, fmt.Sprintf("%s (client %d): the watch has %s at revision %d", describeOp(op.Req, op.Resp), op.Client, describeKVs(want), op.Resp.Rev))
		}
	}
	return errs
}

func sameKVsNoLease(a, b []kv) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
