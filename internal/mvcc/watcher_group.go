package mvcc

import "go.etcd.io/etcd/api/v3/mvccpb"

// watcherGroup is a set of watchers indexed for matching: single-key
// watchers by key, range watchers in a set scanned per event.
type watcherGroup struct {
	keys   map[string]map[*watcher]struct{}
	ranges map[*watcher]struct{}
	n      int
}

func newWatcherGroup() *watcherGroup {
	return &watcherGroup{keys: make(map[string]map[*watcher]struct{}), ranges: make(map[*watcher]struct{})}
}

func (g *watcherGroup) size() int { return g.n }

func (g *watcherGroup) add(w *watcher) {
	if w.isRange() {
		g.ranges[w] = struct{}{}
	} else {
		set := g.keys[string(w.key)]
		if set == nil {
			set = make(map[*watcher]struct{})
			g.keys[string(w.key)] = set
		}
		set[w] = struct{}{}
	}
	g.n++
}

// delete removes w and reports whether it was there.
func (g *watcherGroup) delete(w *watcher) bool {
	if w.isRange() {
		if _, ok := g.ranges[w]; !ok {
			return false
		}
		delete(g.ranges, w)
	} else {
		set := g.keys[string(w.key)]
		if _, ok := set[w]; !ok {
			return false
		}
		delete(set, w)
		if len(set) == 0 {
			delete(g.keys, string(w.key))
		}
	}
	g.n--
	return true
}

// each calls f for every watcher until f returns false.
func (g *watcherGroup) each(f func(w *watcher) bool) {
	for _, set := range g.keys {
		for w := range set {
			if !f(w) {
				return
			}
		}
	}
	for w := range g.ranges {
		if !f(w) {
			return
		}
	}
}

// eachMatch calls f for every watcher whose key or range holds key. f may
// delete the watcher it is given from g.
func (g *watcherGroup) eachMatch(key []byte, f func(w *watcher)) {
	for w := range g.keys[string(key)] {
		f(w)
	}
	for w := range g.ranges {
		if w.contains(key) {
			f(w)
		}
	}
}

// eventBatches groups the events of evs by the watchers of g they concern,
// keeping for each watcher only events at or after its minRev, in order.
// The Event values, and slices of them, are shared by the watchers they go
// to: nobody may modify them (a consumer that adds a PrevKv copies the
// event first). A delete is a KeyValue with CreateRevision 0.
func (g *watcherGroup) eventBatches(evs []*mvccpb.KeyValue) map[*watcher][]*mvccpb.Event {
	out := make(map[*watcher][]*mvccpb.Event)
	events := make([]*mvccpb.Event, len(evs))
	for i, kv := range evs {
		events[i] = eventOf(kv)
	}
	// Single-key watchers, found by key: a map update per event.
	for i, kv := range evs {
		for w := range g.keys[string(kv.Key)] {
			if kv.ModRevision >= w.minRev {
				out[w] = append(out[w], events[i])
			}
		}
	}
	// Range watchers: one pass over the events each and one map update;
	// a watcher that wants every event shares the whole slice.
	for w := range g.ranges {
		var list []*mvccpb.Event
		all := true
		for i, kv := range evs {
			if kv.ModRevision >= w.minRev && w.contains(kv.Key) {
				if !all {
					list = append(list, events[i])
				}
				continue
			}
			if all {
				all = false
				list = append([]*mvccpb.Event(nil), events[:i]...)
			}
		}
		if all {
			list = events[:len(events):len(events)]
		}
		if len(list) > 0 {
			out[w] = list
		}
	}
	return out
}
