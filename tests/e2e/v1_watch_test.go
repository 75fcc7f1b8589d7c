package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/tests/framework"
)

// TestV1WatchLiveAndHistory checks GET /v1/watch (the next change of the
// key or under it, not of a sibling with the key as prefix), POST with an
// index answered from history at once, an index in the future waited for,
// and a v3 write seen by a v1 watch.
func TestV1WatchLiveAndHistory(t *testing.T) {
	n := startV1Node(t, "node1", t.TempDir(), "nod/node1", "")
	base := n.clientURL()
	ctx, cancel := context.WithTimeout(context.Background(), v1CallTimeout)
	defer cancel()

	live := asyncV1(t, ctx, "GET", base+"/v1/watch/dir", nil)
	time.Sleep(200 * time.Millisecond)
	v1Do(t, "POST", base+"/v1/keys/dirt", form("value", "not under /dir"))
	st, b := v1Do(t, "POST", base+"/v1/keys/dir/a", form("value", "1"))
	first := wantSeed(t, st, b, 200, `{"action":"SET","key":"/dir/a","value":"1","newKey":true,"index":1}`)
	if got := recvV1(t, live, "live watch"); got != b {
		t.Fatalf("live watch: %s, the set answered %s", got, b)
	}

	st, b = v1Do(t, "POST", base+"/v1/keys/dir/a", form("value", "2"))
	second := wantSeed(t, st, b, 200, `{"action":"SET","key":"/dir/a","prevValue":"1","value":"2","index":1}`)
	// From history: the first change at or after the index, at once.
	for _, c := range []struct {
		index int64
		want  string
		at    int64
	}{
		{1, `{"action":"SET","key":"/dir/a","value":"1","newKey":true,"index":1}`, first.index},
		{first.index, `{"action":"SET","key":"/dir/a","value":"1","newKey":true,"index":1}`, first.index},
		{first.index + 1, `{"action":"SET","key":"/dir/a","prevValue":"1","value":"2","index":1}`, second.index},
	} {
		st, b := v1Do(t, "POST", base+"/v1/watch/dir", form("index", strconv.FormatInt(c.index, 10)))
		if a := wantSeed(t, st, b, 200, c.want); a.index != c.at {
			t.Errorf("watch from index %d answered index %d, want %d", c.index, a.index, c.at)
		}
	}
	// A future index is waited for; a delete answers DELETE.
	future := asyncV1(t, ctx, "POST", base+"/v1/watch/dir/a", form("index", strconv.FormatInt(second.index+1, 10)))
	time.Sleep(200 * time.Millisecond)
	st, b = v1Do(t, "DELETE", base+"/v1/keys/dir/a", nil)
	wantSeed(t, st, b, 200, `{"action":"DELETE","key":"/dir/a","prevValue":"2","index":1}`)
	if got := recvV1(t, future, "watch of a future index"); got != b {
		t.Fatalf("future-index watch: %s, the delete answered %s", got, b)
	}

	// A v3 write wakes a v1 watch.
	v3w := asyncV1(t, ctx, "GET", base+"/v1/watch/dir", nil)
	time.Sleep(200 * time.Millisecond)
	cli := framework.NewClient(t, base)
	pr, err := cli.Put(ctx, "/dir/v3", "from v3")
	if err != nil {
		t.Fatal(err)
	}
	a := wantSeed(t, 200, recvV1(t, v3w, "v1 watch of a v3 write"), 200, `{"action":"SET","key":"/dir/v3","value":"from v3","newKey":true,"index":1}`)
	if a.index != pr.Header.Revision {
		t.Errorf("v1 index %d, v3 revision %d", a.index, pr.Header.Revision)
	}
}

// TestV1WatchCompacted checks that a watch from an index below the
// compacted revision answers error 401 at once.
func TestV1WatchCompacted(t *testing.T) {
	n := startV1Node(t, "node1", t.TempDir(), "nod/node1", "")
	base := n.clientURL()
	for i := range 5 {
		v1Do(t, "POST", base+"/v1/keys/c", form("value", strconv.Itoa(i)))
	}
	cli := framework.NewClient(t, base)
	ctx, cancel := context.WithTimeout(context.Background(), v1CallTimeout)
	defer cancel()
	gr, err := cli.Get(ctx, "/c")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, gr.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	st, b := v1Do(t, "POST", base+"/v1/watch/c", form("index", "2"))
	v1Error(t, st, b, 400, 401)
	// At the compacted revision itself, history still answers (without
	// prevValue: the revision before it is gone, as a v3 watch's prev_kv).
	st, b = v1Do(t, "POST", base+"/v1/watch/c", form("index", strconv.FormatInt(gr.Header.Revision, 10)))
	if a := wantSeed(t, st, b, 200, `{"action":"SET","key":"/c","value":"4","index":1}`); a.index != gr.Header.Revision {
		t.Errorf("watch at the compacted revision %d answered index %d", gr.Header.Revision, a.index)
	}
}

// goroutines reads go_goroutines from the member's /metrics.
func goroutines(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("go_goroutines %q", v)
			}
			return int(f)
		}
	}
	t.Fatal("no go_goroutines in /metrics")
	return 0
}

// TestV1WatchHangUp checks that clients hanging up end their watches: the
// member's goroutines come back to where they were once 200 waiting
// watches are abandoned, and the member still answers watches.
func TestV1WatchHangUp(t *testing.T) {
	n := startV1Node(t, "node1", t.TempDir(), "nod/node1", "")
	base := n.clientURL()
	before := goroutines(t, base)
	ctx, cancel := context.WithCancel(context.Background())
	const watches = 200
	var chs []<-chan [2]string
	for i := range watches {
		chs = append(chs, asyncV1(t, ctx, "GET", fmt.Sprintf("%s/v1/watch/hang/%d", base, i), nil))
	}
	deadline := time.Now().Add(30 * time.Second)
	for goroutines(t, base) < before+watches {
		if time.Now().After(deadline) {
			t.Fatalf("the %d watches never all waited (goroutines %d, before %d)", watches, goroutines(t, base), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	for _, ch := range chs {
		if r := <-ch; r[0] != "error" {
			t.Fatalf("a watch answered although nothing changed: %v", r)
		}
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		g := goroutines(t, base)
		if g <= before+10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines %d after the clients hung up, %d before the watches", g, before)
		}
		time.Sleep(100 * time.Millisecond)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), v1CallTimeout)
	defer wcancel()
	w := asyncV1(t, wctx, "GET", base+"/v1/watch/hang", nil)
	time.Sleep(200 * time.Millisecond)
	_, b := v1Do(t, "POST", base+"/v1/keys/hang/0", form("value", "x"))
	if got := recvV1(t, w, "watch after the hang-ups"); got != b {
		t.Fatalf("watch: %s, set: %s", got, b)
	}
}
