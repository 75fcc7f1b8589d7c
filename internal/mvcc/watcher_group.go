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

// eventBatches groups the events of evs by the watchers of g they concern,
// keeping for each watcher only events at or after its minRev, in order.
// Every watcher gets its own Event values. A delete is a KeyValue with
// CreateRevision 0.
func (g *watcherGroup) eventBatches(evs []*mvccpb.KeyValue) map[*watcher][]*mvccpb.Event {
	out := make(map[*watcher][]*mvccpb.Event)
	add := func(w *watcher, kv *mvccpb.KeyValue) {
		if kv.ModRevision < w.minRev {
			return
		}
		out[w] = append(out[w], eventOf(kv))
	}
	for _, kv := range evs {
		for w := range g.keys[string(kv.Key)] {
			add(w, kv)
		}
		for w := range g.ranges {
			if w.contains(kv.Key) {
				add(w, kv)
			}
		}
	}
	return out
}
