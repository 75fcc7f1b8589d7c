package mvcc

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdgo/etcd/internal/backend"
)

// newWatchable opens a WatchableStore on a fresh backend, closed at cleanup.
func newWatchable(t *testing.T) *WatchableStore {
	t.Helper()
	b, err := backend.New(backend.Config{Path: filepath.Join(t.TempDir(), "db"), BatchInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := NewWatchableStore(nil, b, StoreConfig{})
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// recv returns the next response of ws (failing after a generous bound).
func recv(t *testing.T, ws *WatchStream) WatchResponse {
	t.Helper()
	select {
	case r, ok := <-ws.Chan():
		if !ok {
			t.Fatal("stream closed")
		}
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no response")
	}
	return WatchResponse{}
}

// noRecv checks that nothing arrives within a short while.
func noRecv(t *testing.T, ws *WatchStream) {
	t.Helper()
	select {
	case r := <-ws.Chan():
		t.Fatalf("unexpected response %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
}

// evString formats events as "PUT k=v@rev" / "DELETE k@rev".
func evString(evs []*mvccpb.Event) string {
	s := ""
	for _, ev := range evs {
		if s != "" {
			s += " "
		}
		if ev.Type == mvccpb.Event_DELETE {
			s += fmt.Sprintf("DELETE %s@%d", ev.Kv.Key, ev.Kv.ModRevision)
		} else {
			s += fmt.Sprintf("PUT %s=%s@%d", ev.Kv.Key, ev.Kv.Value, ev.Kv.ModRevision)
		}
	}
	return s
}

func TestWatcherContains(t *testing.T) {
	for _, c := range []struct {
		key, end string
		endNil   bool
		in, out  []string
	}{
		{key: "a", endNil: true, in: []string{"a"}, out: []string{"", "a\x00", "b"}},
		{key: "a", end: "c", in: []string{"a", "ab", "b\xff"}, out: []string{"", "c", "d"}},
		{key: "b", end: "", in: []string{"b", "c", "\xff"}, out: []string{"", "a", "ax"}},
	} {
		w := &watcher{key: []byte(c.key), end: []byte(c.end)}
		if c.endNil {
			w.end = nil
		}
		for _, k := range c.in {
			if !w.contains([]byte(k)) {
				t.Errorf("[%q,%q) does not contain %q", c.key, c.end, k)
			}
		}
		for _, k := range c.out {
			if w.contains([]byte(k)) {
				t.Errorf("[%q,%q) contains %q", c.key, c.end, k)
			}
		}
	}
}

func TestWatcherGroupEventBatches(t *testing.T) {
	g := newWatcherGroup()
	single := &watcher{key: []byte("a"), minRev: 1}
	prefix := &watcher{key: []byte("a"), end: []byte("b"), minRev: 1}
	fromKey := &watcher{key: []byte("b"), end: []byte{}, minRev: 1}
	late := &watcher{key: []byte("a"), minRev: 10}
	for _, w := range []*watcher{single, prefix, fromKey, late} {
		g.add(w)
	}
	if g.size() != 4 {
		t.Fatalf("size %d", g.size())
	}
	kvs := []*mvccpb.KeyValue{
		{Key: []byte("a"), Value: []byte("1"), CreateRevision: 5, ModRevision: 5, Version: 1},
		{Key: []byte("ab"), Value: []byte("2"), CreateRevision: 5, ModRevision: 5, Version: 1},
		{Key: []byte("c"), ModRevision: 5},
		{Key: []byte("a"), ModRevision: 5},
	}
	got := g.eventBatches(kvs)
	for w, want := range map[*watcher]string{
		single:  "PUT a=1@5 DELETE a@5",
		prefix:  "PUT a=1@5 PUT ab=2@5 DELETE a@5",
		fromKey: "DELETE c@5",
		late:    "",
	} {
		if s := evString(got[w]); s != want {
			t.Errorf("watcher [%q,%q): %q, want %q", w.key, w.end, s, want)
		}
	}
	// The events are built once per change and shared by the watchers.
	if got[single][0] != got[prefix][0] {
		t.Error("watchers of one change got separate Event values")
	}
	// A single change: one shared one-event slice, which a watcher's
	// append cannot grow into another's.
	one := g.eventBatches(kvs[:1])
	if len(one[single]) != 1 || cap(one[single]) != 1 || one[single][0] != one[prefix][0] {
		t.Errorf("single change: %v / %v", one[single], one[prefix])
	}
	if !g.delete(single) || g.delete(single) || g.size() != 3 {
		t.Error("delete")
	}
}

func TestWatchSyncedOneResponsePerRevision(t *testing.T) {
	s := newWatchable(t)
	ws := s.NewWatchStream()
	defer ws.Close()
	single, _ := ws.Watch(AutoWatchID, []byte("a"), nil, 0)
	prefix, _ := ws.Watch(AutoWatchID, []byte("k/"), []byte("k0"), 0)
	from, _ := ws.Watch(AutoWatchID, []byte("k/m"), []byte{}, 0)
	if single == prefix || prefix == from {
		t.Fatal("IDs not unique")
	}

	s.Put([]byte("a"), []byte("1"), 0) // rev 2
	txn := s.Write()                   // rev 3
	txn.Put([]byte("k/z"), []byte("z"), 0)
	txn.Put([]byte("k/b"), []byte("b"), 0)
	txn.Put([]byte("a"), []byte("2"), 0)
	txn.DeleteRange([]byte("k/"), []byte("k0"))
	txn.End()

	got := map[WatchID][]string{}
	for range 4 {
		r := recv(t, ws)
		got[r.WatchID] = append(got[r.WatchID], fmt.Sprintf("%d: %s", r.Revision, evString(r.Events)))
	}
	want := map[WatchID][]string{
		single: {"2: PUT a=1@2", "3: PUT a=2@3"},
		prefix: {"3: PUT k/z=z@3 PUT k/b=b@3 DELETE k/b@3 DELETE k/z@3"},
		from:   {"3: PUT k/z=z@3 DELETE k/z@3"},
	}
	for id, w := range want {
		if !slices.Equal(got[id], w) {
			t.Errorf("watcher %d: %q, want %q", id, got[id], w)
		}
	}
	noRecv(t, ws)
}

func TestWatchStreamIDs(t *testing.T) {
	s := newWatchable(t)
	ws := s.NewWatchStream()
	defer ws.Close()
	if id, err := ws.Watch(7, []byte("a"), nil, 0); id != 7 || err != nil {
		t.Fatalf("Watch(7) = %d, %v", id, err)
	}
	if _, err := ws.Watch(7, []byte("b"), nil, 0); err != ErrWatcherDuplicateID {
		t.Errorf("duplicate ID: %v", err)
	}
	if _, err := ws.Watch(AutoWatchID, []byte("b"), []byte("a"), 0); err != ErrEmptyWatcherRange {
		t.Errorf("empty range: %v", err)
	}
	if err := ws.Cancel(7); err != nil {
		t.Error(err)
	}
	if err := ws.Cancel(7); err != ErrWatcherNotExist {
		t.Errorf("second cancel: %v", err)
	}
	s.Put([]byte("a"), nil, 0)
	noRecv(t, ws)
}

func TestWatchFilters(t *testing.T) {
	s := newWatchable(t)
	ws := s.NewWatchStream()
	defer ws.Close()
	noPut := func(ev *mvccpb.Event) bool { return ev.Type == mvccpb.Event_PUT }
	ws.Watch(AutoWatchID, []byte("a"), nil, 0, noPut)
	s.Put([]byte("a"), []byte("1"), 0)
	s.DeleteRange([]byte("a"), nil)
	r := recv(t, ws)
	if evString(r.Events) != "DELETE a@3" {
		t.Errorf("got %q", evString(r.Events))
	}
	noRecv(t, ws)
}

// collect reads the events of watcher id until revision last, checking
// that every response holds whole revisions.
func collect(t *testing.T, ws *WatchStream, last int64) []*mvccpb.Event {
	t.Helper()
	var evs []*mvccpb.Event
	for len(evs) == 0 || evs[len(evs)-1].Kv.ModRevision < last {
		r := recv(t, ws)
		if r.CompactRevision != 0 {
			t.Fatalf("compacted at %d", r.CompactRevision)
		}
		evs = append(evs, r.Events...)
	}
	return evs
}

// checkSeq checks that evs are puts of key with revisions from, from+1, ...
// to, once each and in order.
func checkSeq(t *testing.T, evs []*mvccpb.Event, from, to int64) {
	t.Helper()
	if int64(len(evs)) != to-from+1 {
		t.Errorf("%d events, want %d", len(evs), to-from+1)
	}
	for i, ev := range evs {
		if ev.Kv.ModRevision != from+int64(i) {
			t.Fatalf("event %d has revision %d, want %d", i, ev.Kv.ModRevision, from+int64(i))
		}
	}
}

func TestWatchUnsyncedCatchesUpWithoutGap(t *testing.T) {
	s := newWatchable(t)
	for i := range 2500 {
		s.Put([]byte("k"), []byte(fmt.Sprint(i)), 0) // revs 2..2501
	}
	ws := s.NewWatchStream()
	defer ws.Close()
	ws.Watch(AutoWatchID, []byte("k"), nil, 2)
	// Writes go on while it catches up.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 2500 {
			s.Put([]byte("k"), []byte(fmt.Sprint(i)), 0) // revs 2502..5001
		}
	}()
	evs := collect(t, ws, 5001)
	<-done
	checkSeq(t, evs, 2, 5001)
	noRecv(t, ws)
}

func TestWatchBigTxnFromHistoryInOneResponse(t *testing.T) {
	s := newWatchable(t)
	txn := s.Write()
	for i := range syncBatchRevisions + 300 {
		txn.Put(fmt.Appendf(nil, "k%05d", i), nil, 0)
	}
	txn.End()                  // rev 2
	s.Put([]byte("k"), nil, 0) // rev 3
	ws := s.NewWatchStream()
	defer ws.Close()
	ws.Watch(AutoWatchID, []byte("k"), []byte("l"), 1)
	r := recv(t, ws)
	if len(r.Events) != syncBatchRevisions+300 {
		t.Fatalf("first response has %d events", len(r.Events))
	}
	for i, ev := range r.Events {
		if ev.Kv.ModRevision != 2 || string(ev.Kv.Key) != fmt.Sprintf("k%05d", i) {
			t.Fatalf("event %d: %s", i, evString([]*mvccpb.Event{ev}))
		}
	}
	r = recv(t, ws)
	if evString(r.Events) != "PUT k=@3" {
		t.Errorf("second response %q", evString(r.Events))
	}
}

func TestWatchSlowConsumerGetsEverythingInOrder(t *testing.T) {
	s := newWatchable(t)
	ws := s.NewWatchStream()
	defer ws.Close()
	ws.Watch(AutoWatchID, []byte("k"), nil, 0)
	ws.Watch(AutoWatchID, []byte("j"), nil, 0)
	for i := range 3000 { // far more than the channel holds
		s.Put([]byte("k"), []byte(fmt.Sprint(i)), 0) // revs 2..3001
	}
	s.Put([]byte("j"), nil, 0) // rev 3002
	var k, j []*mvccpb.Event
	for len(j) == 0 || len(k) == 0 || k[len(k)-1].Kv.ModRevision < 3001 {
		r := recv(t, ws)
		if r.WatchID == 1 {
			k = append(k, r.Events...)
		} else {
			j = append(j, r.Events...)
		}
	}
	checkSeq(t, k, 2, 3001)
	checkSeq(t, j, 3002, 3002)
	// Back in sync: new writes arrive one by one.
	s.Put([]byte("k"), nil, 0)
	if r := recv(t, ws); len(r.Events) != 1 || r.Events[0].Kv.ModRevision != 3003 {
		t.Errorf("after catching up: %+v", r)
	}
}

func TestWatchCompacted(t *testing.T) {
	s := newWatchable(t)
	for range 5 {
		s.Put([]byte("k"), nil, 0) // revs 2..6
	}
	done, err := s.Compact(4)
	if err != nil {
		t.Fatal(err)
	}
	<-done
	ws := s.NewWatchStream()
	defer ws.Close()
	id, _ := ws.Watch(AutoWatchID, []byte("k"), nil, 2)
	r := recv(t, ws)
	if r.WatchID != id || r.CompactRevision != 4 || len(r.Events) != 0 {
		t.Fatalf("got %+v", r)
	}
	s.Put([]byte("k"), nil, 0)
	noRecv(t, ws)
	// From the compacted revision itself is allowed, as etcd.
	ws.Watch(AutoWatchID, []byte("k"), nil, 4)
	evs := collect(t, ws, 7)
	if evString(evs) != "PUT k=@4 PUT k=@5 PUT k=@6 PUT k=@7" {
		t.Errorf("from the compacted revision: %q", evString(evs))
	}
}

func TestWatchFutureRevision(t *testing.T) {
	s := newWatchable(t)
	ws := s.NewWatchStream()
	defer ws.Close()
	ws.Watch(AutoWatchID, []byte("k"), nil, 4)
	if ws.RequestProgressAll() {
		t.Error("progress before the start revision was reached")
	}
	s.Put([]byte("k"), nil, 0) // 2
	s.Put([]byte("k"), nil, 0) // 3
	noRecv(t, ws)
	s.Put([]byte("k"), nil, 0) // 4
	if r := recv(t, ws); evString(r.Events) != "PUT k=@4" {
		t.Errorf("got %q", evString(r.Events))
	}
}

func TestWatchProgress(t *testing.T) {
	s := newWatchable(t)
	for range 3000 {
		s.Put([]byte("x"), nil, 0)
	}
	ws := s.NewWatchStream()
	defer ws.Close()
	id, _ := ws.Watch(AutoWatchID, []byte("k"), nil, 0)
	if !ws.RequestProgressAll() {
		t.Fatal("synced stream refused progress")
	}
	if r := recv(t, ws); r.WatchID != InvalidWatchID || r.Revision != s.Rev() || len(r.Events) != 0 {
		t.Errorf("progress all: %+v", r)
	}
	ws.RequestProgress(id)
	if r := recv(t, ws); r.WatchID != id || r.Revision != s.Rev() {
		t.Errorf("progress: %+v", r)
	}
	// An unsynced watcher holds progress back until it caught up: every
	// event it was owed comes before the progress response.
	xid, _ := ws.Watch(AutoWatchID, []byte("x"), nil, 1)
	var xs []*mvccpb.Event
	for !ws.RequestProgressAll() {
		select {
		case r := <-ws.Chan():
			xs = append(xs, r.Events...)
		case <-time.After(time.Millisecond):
		}
	}
	for {
		r := recv(t, ws)
		if r.WatchID == InvalidWatchID {
			if r.Revision != s.Rev() {
				t.Errorf("progress revision %d, want %d", r.Revision, s.Rev())
			}
			break
		}
		if r.WatchID != xid {
			t.Fatalf("unexpected response %+v", r)
		}
		xs = append(xs, r.Events...)
	}
	checkSeq(t, xs, 2, 3001)
}

func TestWatchConcurrentStreamsRace(t *testing.T) {
	s := newWatchable(t)
	const writers, writes, streams = 4, 300, 8
	var wg sync.WaitGroup
	start := s.Rev()
	results := make([][]*mvccpb.Event, streams)
	for i := range streams {
		ws := s.NewWatchStream()
		defer ws.Close()
		rev := int64(0)
		if i%2 == 0 {
			rev = start + 1
		}
		ws.Watch(AutoWatchID, []byte("k"), []byte("l"), rev)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for len(results[i]) < writers*writes {
				r, ok := <-ws.Chan()
				if !ok {
					return
				}
				results[i] = append(results[i], r.Events...)
				if i == 1 {
					time.Sleep(100 * time.Microsecond) // a slow one
				}
			}
		}(i)
	}
	var ww sync.WaitGroup
	for w := range writers {
		ww.Add(1)
		go func() {
			defer ww.Done()
			for i := range writes {
				s.Put(fmt.Appendf(nil, "k%d", w), fmt.Append(nil, i), 0)
			}
		}()
	}
	ww.Wait()
	wg.Wait()
	checkSeq(t, results[0], start+1, start+writers*writes)
	for i := 1; i < streams; i++ {
		if !slices.EqualFunc(results[i], results[0], func(a, b *mvccpb.Event) bool { return evString([]*mvccpb.Event{a}) == evString([]*mvccpb.Event{b}) }) {
			t.Errorf("stream %d differs from stream 0", i)
		}
	}
}
