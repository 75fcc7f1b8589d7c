package etcdmain_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// watchCtx is a bounded context for a whole watch test.
func watchCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return clientv3.WithRequireLeader(ctx)
}

// nextEvents returns the events of wch until it has n of them (or fails).
func nextEvents(t *testing.T, wch clientv3.WatchChan, n int) []*clientv3.Event {
	t.Helper()
	var evs []*clientv3.Event
	timeout := time.After(60 * time.Second)
	for len(evs) < n {
		select {
		case wr, ok := <-wch:
			if !ok {
				t.Fatalf("watch channel closed after %d of %d events", len(evs), n)
			}
			if err := wr.Err(); err != nil {
				t.Fatalf("watch error after %d of %d events: %v", len(evs), n, err)
			}
			evs = append(evs, wr.Events...)
		case <-timeout:
			t.Fatalf("got %d of %d events", len(evs), n)
		}
	}
	return evs
}

func evStr(ev *clientv3.Event) string {
	if ev.Type == mvccpb.DELETE {
		return fmt.Sprintf("DELETE %s@%d", ev.Kv.Key, ev.Kv.ModRevision)
	}
	return fmt.Sprintf("PUT %s=%s@%d", ev.Kv.Key, ev.Kv.Value, ev.Kv.ModRevision)
}

func evsStr(evs []*clientv3.Event) string {
	s := make([]string, len(evs))
	for i, ev := range evs {
		s[i] = evStr(ev)
	}
	return strings.Join(s, " ")
}

// checkRevSeq checks that evs have revisions from, from+1, ... once each.
func checkRevSeq(t *testing.T, evs []*clientv3.Event, from int64, n int) {
	t.Helper()
	if len(evs) != n {
		t.Fatalf("%d events, want %d", len(evs), n)
	}
	for i, ev := range evs {
		if ev.Kv.ModRevision != from+int64(i) {
			t.Fatalf("event %d at revision %d, want %d", i, ev.Kv.ModRevision, from+int64(i))
		}
	}
}

func TestWatchHistoryThenLiveNoGap(t *testing.T) {
	m := startMember(t)
	ctx := watchCtx(t)
	first, err := m.cli.Put(ctx, "k", "0")
	if err != nil {
		t.Fatal(err)
	}
	start := first.Header.Revision
	for i := 1; i < 300; i++ {
		if _, err := m.cli.Put(ctx, "k", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	wch := m.cli.Watch(ctx, "k", clientv3.WithRev(start))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a burst while the watcher catches up
		defer wg.Done()
		for i := 300; i < 1300; i++ {
			if _, err := m.cli.Put(ctx, "k", fmt.Sprint(i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	evs := nextEvents(t, wch, 1300)
	wg.Wait()
	checkRevSeq(t, evs, start, 1300)
	for i, ev := range evs {
		if string(ev.Kv.Value) != fmt.Sprint(i) {
			t.Fatalf("event %d has value %q", i, ev.Kv.Value)
		}
	}
}

func TestWatchRanges(t *testing.T) {
	m := startMember(t)
	ctx := watchCtx(t)
	single := m.cli.Watch(ctx, "b")
	prefix := m.cli.Watch(ctx, "b", clientv3.WithPrefix())
	rng := m.cli.Watch(ctx, "a", clientv3.WithRange("b1"))
	from := m.cli.Watch(ctx, "b1", clientv3.WithFromKey())
	all := m.cli.Watch(ctx, "", clientv3.WithPrefix())
	time.Sleep(100 * time.Millisecond) // let the watches register
	for _, k := range []string{"a", "b", "b1", "b2", "c"} {
		if _, err := m.cli.Put(ctx, k, "v"); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(wch clientv3.WatchChan, n int) string {
		var ks []string
		for _, ev := range nextEvents(t, wch, n) {
			ks = append(ks, string(ev.Kv.Key))
		}
		return strings.Join(ks, ",")
	}
	for name, c := range map[string]struct {
		wch  clientv3.WatchChan
		n    int
		want string
	}{
		"single": {single, 1, "b"}, "prefix": {prefix, 3, "b,b1,b2"}, "range": {rng, 2, "a,b"},
		"from-key": {from, 3, "b1,b2,c"}, "all": {all, 5, "a,b,b1,b2,c"},
	} {
		if got := keys(c.wch, c.n); got != c.want {
			t.Errorf("%s: %s, want %s", name, got, c.want)
		}
	}
}

func TestWatchPrevKVAndFilters(t *testing.T) {
	m := startMember(t)
	ctx := watchCtx(t)
	r, _ := m.cli.Put(ctx, "k", "v1")
	rev := r.Header.Revision
	m.cli.Put(ctx, "k", "v2")
	m.cli.Delete(ctx, "k")
	m.cli.Put(ctx, "k", "v3")

	evs := nextEvents(t, m.cli.Watch(ctx, "k", clientv3.WithRev(rev), clientv3.WithPrevKV()), 4)
	var prevs []string
	for _, ev := range evs {
		if ev.PrevKv == nil {
			prevs = append(prevs, "-")
		} else {
			prevs = append(prevs, fmt.Sprintf("%s@%d", ev.PrevKv.Value, ev.PrevKv.ModRevision))
		}
	}
	if got, want := strings.Join(prevs, " "), fmt.Sprintf("- v1@%d v2@%d -", rev, rev+1); got != want {
		t.Errorf("prev kvs %q, want %q", got, want)
	}
	if got := evsStr(nextEvents(t, m.cli.Watch(ctx, "k", clientv3.WithRev(rev), clientv3.WithFilterPut()), 1)); got != fmt.Sprintf("DELETE k@%d", rev+2) {
		t.Errorf("NOPUT: %s", got)
	}
	if got := evsStr(nextEvents(t, m.cli.Watch(ctx, "k", clientv3.WithRev(rev), clientv3.WithFilterDelete()), 3)); got != fmt.Sprintf("PUT k=v1@%d PUT k=v2@%d PUT k=v3@%d", rev, rev+1, rev+3) {
		t.Errorf("NODELETE: %s", got)
	}
}

func TestWatchTxnInOneResponse(t *testing.T) {
	m := startMember(t)
	ctx := watchCtx(t)
	wch := m.cli.Watch(ctx, "t/", clientv3.WithPrefix())
	time.Sleep(100 * time.Millisecond)
	var ops []clientv3.Op
	var want []string
	for i := 99; i >= 0; i-- {
		k := fmt.Sprintf("t/%03d", i)
		ops = append(ops, clientv3.OpPut(k, "v"))
		want = append(want, k)
	}
	tr, err := m.cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		t.Fatal(err)
	}
	select {
	case wr := <-wch:
		if len(wr.Events) != 100 {
			t.Fatalf("one response with %d events, want 100", len(wr.Events))
		}
		for i, ev := range wr.Events {
			if string(ev.Kv.Key) != want[i] || ev.Kv.ModRevision != tr.Header.Revision {
				t.Fatalf("event %d: %s", i, evStr(ev))
			}
		}
		if wr.Header.Revision != tr.Header.Revision {
			t.Errorf("header revision %d, want %d", wr.Header.Revision, tr.Header.Revision)
		}
	case <-ctx.Done():
		t.Fatal("no response")
	}
}

func TestWatchCompacted(t *testing.T) {
	m := startMember(t)
	ctx := watchCtx(t)
	var revs []int64
	for range 5 {
		r, _ := m.cli.Put(ctx, "k", "v")
		revs = append(revs, r.Header.Revision)
	}
	live := m.cli.Watch(ctx, "k")
	time.Sleep(100 * time.Millisecond)
	if _, err := m.cli.Compact(ctx, revs[3], clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	// A live watcher goes on across the compaction.
	r, _ := m.cli.Put(ctx, "k", "after")
	if evs := nextEvents(t, live, 1); evs[0].Kv.ModRevision != r.Header.Revision {
		t.Errorf("live watcher: %s", evsStr(evs))
	}
	// A watch from a compacted revision is canceled with the compact revision.
	select {
	case wr := <-m.cli.Watch(ctx, "k", clientv3.WithRev(revs[1])):
		if !wr.Canceled || wr.CompactRevision != revs[3] {
			t.Errorf("response %+v, want canceled with compact revision %d", wr, revs[3])
		}
	case <-ctx.Done():
		t.Fatal("no response")
	}
}

func TestWatchFutureRevision(t *testing.T) {
	m := startMember(t)
	ctx := watchCtx(t)
	r, _ := m.cli.Put(ctx, "k", "v")
	wch := m.cli.Watch(ctx, "k", clientv3.WithRev(r.Header.Revision+3))
	for range 3 {
		m.cli.Put(ctx, "k", "v")
	}
	if evs := nextEvents(t, wch, 1); len(evs) != 1 || evs[0].Kv.ModRevision != r.Header.Revision+3 {
		t.Errorf("events %s, want the one at %d only", evsStr(evs), r.Header.Revision+3)
	}
}

func TestWatchManyWatchersOneStream(t *testing.T) {
	m := startMember(t)
	ctx := watchCtx(t)
	const n = 1000
	chans := make([]clientv3.WatchChan, n)
	for i := range n {
		// Same context: one gRPC stream.
		chans[i] = m.cli.Watch(ctx, fmt.Sprintf("w/%04d", i))
	}
	r, _ := m.cli.Get(ctx, "w/", clientv3.WithPrefix())
	start := r.Header.Revision
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.cli.Put(ctx, fmt.Sprintf("w/%04d", i), fmt.Sprint(i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i, wch := range chans {
		evs := nextEvents(t, wch, 1)
		if len(evs) != 1 || string(evs[0].Kv.Key) != fmt.Sprintf("w/%04d", i) || evs[0].Kv.ModRevision <= start {
			t.Fatalf("watcher %d: %s", i, evsStr(evs))
		}
	}
}

func TestWatchManyStreams(t *testing.T) {
	m := startMember(t)
	const streams = 50
	var chans []clientv3.WatchChan
	for i := range streams {
		// The client shares a stream between contexts with the same
		// metadata.
		ctx := metadata.AppendToOutgoingContext(watchCtx(t), "stream", fmt.Sprint(i))
		chans = append(chans, m.cli.Watch(ctx, "s", clientv3.WithPrefix()))
	}
	ctx := watchCtx(t)
	time.Sleep(200 * time.Millisecond)
	first, _ := m.cli.Put(ctx, "s0", "v")
	for i := 1; i < 100; i++ {
		m.cli.Put(ctx, fmt.Sprintf("s%d", i%10), "v")
	}
	for _, wch := range chans {
		checkRevSeq(t, nextEvents(t, wch, 100), first.Header.Revision, 100)
	}
}

func TestWatchSlowConsumer(t *testing.T) {
	m := startMember(t)
	ctx := watchCtx(t)
	wch := m.cli.Watch(ctx, "slow", clientv3.WithPrefix())
	fast := m.cli.Watch(metadata.AppendToOutgoingContext(ctx, "stream", "fast"), "slow", clientv3.WithPrefix()) // another stream
	time.Sleep(100 * time.Millisecond)
	first, _ := m.cli.Put(ctx, "slow/0", strings.Repeat("x", 1000))
	const n = 5000
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := 1; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := m.cli.Put(ctx, fmt.Sprintf("slow/%d", i%100), strings.Repeat("x", 1000)); err != nil {
				t.Error(err)
			}
		}()
	}
	// The fast stream keeps up while the slow one is not read at all.
	checkRevSeq(t, nextEvents(t, fast, n), first.Header.Revision, n)
	wg.Wait()
	time.Sleep(2 * time.Second)
	checkRevSeq(t, nextEvents(t, wch, n), first.Header.Revision, n)
}

func TestWatchRequestProgress(t *testing.T) {
	m := startMember(t)
	ctx := watchCtx(t)
	for range 2000 {
		m.cli.Put(ctx, "x", "v")
	}
	wch := m.cli.Watch(ctx, "x", clientv3.WithRev(2), clientv3.WithProgressNotify())
	r, _ := m.cli.Put(ctx, "y", "v")
	if err := m.cli.RequestProgress(ctx); err != nil {
		t.Fatal(err)
	}
	// Every event comes before the progress notification, whose revision
	// is at least the latest write.
	var evs []*clientv3.Event
	for {
		wr := <-wch
		if err := wr.Err(); err != nil {
			t.Fatal(err)
		}
		if wr.IsProgressNotify() {
			if wr.Header.Revision < r.Header.Revision {
				t.Errorf("progress revision %d < %d", wr.Header.Revision, r.Header.Revision)
			}
			break
		}
		evs = append(evs, wr.Events...)
	}
	checkRevSeq(t, evs, 2, 2000)
}

// rawWatch opens a Watch stream with the raw gRPC stub.
func rawWatch(t *testing.T, m *testMember) pb.Watch_WatchClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ws, err := pb.NewWatchClient(m.cli.ActiveConnection()).Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func rawRecv(t *testing.T, ws pb.Watch_WatchClient) *pb.WatchResponse {
	t.Helper()
	r, err := ws.Recv()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWatchRawProtocol(t *testing.T) {
	m := startMember(t)
	ctx := watchCtx(t)
	ws := rawWatch(t, m)
	create := func(id int64, key string) {
		if err := ws.Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: &pb.WatchCreateRequest{Key: []byte(key), WatchId: id}}}); err != nil {
			t.Fatal(err)
		}
	}
	// A watch ID chosen by the client.
	create(42, "a")
	r := rawRecv(t, ws)
	if !r.Created || r.Canceled || r.WatchId != 42 || r.Header.ClusterId == 0 || r.Header.MemberId == 0 || r.Header.RaftTerm == 0 || r.Header.Revision == 0 {
		t.Fatalf("create: %v", r)
	}
	// Duplicate: created and canceled at once, with etcd's reason.
	create(42, "b")
	r = rawRecv(t, ws)
	if !r.Created || !r.Canceled || r.WatchId != -1 || r.CancelReason != "mvcc: duplicate watch ID provided on the WatchStream" {
		t.Fatalf("duplicate: %v", r)
	}
	// Server-chosen IDs skip the used ones.
	create(0, "b")
	if r = rawRecv(t, ws); !r.Created || r.WatchId == 42 || r.WatchId < 0 {
		t.Fatalf("auto ID: %v", r)
	}
	auto := r.WatchId

	pr, _ := m.cli.Put(ctx, "a", "1")
	if r = rawRecv(t, ws); r.WatchId != 42 || len(r.Events) != 1 || r.Header.Revision != pr.Header.Revision {
		t.Fatalf("event: %v", r)
	}
	// Stream-wide progress: watch ID -1, the current revision.
	ws.Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_ProgressRequest{ProgressRequest: &pb.WatchProgressRequest{}}})
	if r = rawRecv(t, ws); r.WatchId != -1 || len(r.Events) != 0 || r.Header.Revision != pr.Header.Revision {
		t.Fatalf("progress: %v", r)
	}
	// Cancel.
	ws.Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CancelRequest{CancelRequest: &pb.WatchCancelRequest{WatchId: 42}}})
	if r = rawRecv(t, ws); r.WatchId != 42 || !r.Canceled {
		t.Fatalf("cancel: %v", r)
	}
	m.cli.Put(ctx, "a", "2")
	m.cli.Put(ctx, "b", "1")
	if r = rawRecv(t, ws); r.WatchId != auto || string(r.Events[0].Kv.Key) != "b" {
		t.Fatalf("after cancel: %v", r)
	}
}

func TestWatchFragment(t *testing.T) {
	m := startMember(t, "--max-request-bytes", "65536")
	ctx := watchCtx(t)
	val := strings.Repeat("v", 10000)
	for i := range 40 {
		if _, err := m.cli.Put(ctx, fmt.Sprintf("f/%02d", i), val); err != nil {
			t.Fatal(err)
		}
	}
	ws := rawWatch(t, m)
	ws.Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: &pb.WatchCreateRequest{
		Key: []byte("f/"), RangeEnd: []byte("f0"), Fragment: true, PrevKv: true}}})
	if r := rawRecv(t, ws); !r.Created {
		t.Fatal(r)
	}
	wch := m.cli.Watch(ctx, "f/", clientv3.WithPrefix(), clientv3.WithPrevKV(), clientv3.WithFragment())
	time.Sleep(100 * time.Millisecond)
	dr, err := m.cli.Delete(ctx, "f/", clientv3.WithPrefix())
	if err != nil || dr.Deleted != 40 {
		t.Fatalf("delete: %v %v", dr, err)
	}
	// ~400 KB of prev_kv: fragments under 64 KiB each, the last one unmarked.
	var keys []string
	frags := 0
	for {
		r := rawRecv(t, ws)
		frags++
		if size := proto.Size(r); frags > 100 || (size > 65536 && len(r.Events) > 1) {
			t.Fatalf("fragment %d too large (%d)", frags, size)
		}
		for _, ev := range r.Events {
			if ev.Type != mvccpb.DELETE || ev.PrevKv == nil || len(ev.PrevKv.Value) != 10000 {
				t.Fatalf("event %v", ev.Kv)
			}
			keys = append(keys, string(ev.Kv.Key))
		}
		if !r.Fragment {
			break
		}
	}
	if frags < 400000/65536 || len(keys) != 40 || keys[0] != "f/00" || keys[39] != "f/39" {
		t.Errorf("%d fragments with %d events", frags, len(keys))
	}
	// The client puts the fragments back together.
	if evs := nextEvents(t, wch, 40); len(evs) != 40 {
		t.Errorf("client got %d events", len(evs))
	}
}

// TestWatchProgressNotifyInterval: with --watch-progress-notify-interval a
// quiet watcher that asked for progress notifications gets them, carrying
// the current revision, once the store has reached its start revision (as
// etcd: a watcher waiting for a future revision is not notified).
func TestWatchProgressNotifyInterval(t *testing.T) {
	m := startMember(t, "--watch-progress-notify-interval", "200ms")
	ctx := watchCtx(t)
	wch := m.cli.Watch(ctx, "other", clientv3.WithProgressNotify(), clientv3.WithCreatedNotify())
	if created := <-wch; !created.Created {
		t.Fatalf("first watch response %+v, want the created notification", created)
	}
	put, err := m.cli.Put(ctx, "quiet", "1")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case resp, ok := <-wch:
			if !ok {
				t.Fatal("watch channel closed")
			}
			if resp.IsProgressNotify() {
				if resp.Header.Revision != put.Header.Revision {
					t.Fatalf("progress notification at revision %d, want %d", resp.Header.Revision, put.Header.Revision)
				}
				return
			}
			if len(resp.Events) > 0 {
				t.Fatalf("unexpected events %v", resp.Events)
			}
		case <-deadline:
			t.Fatal("no progress notification within 10s at a 200ms interval")
		}
	}
}
