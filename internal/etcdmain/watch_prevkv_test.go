package etcdmain_test

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"
)

// TestWatchPrevKVStaysWithItsWatcher: the store shares events between
// watchers; one watcher asking for prev_kv must not give it to another
// watcher of the same key, on the same stream or on another.
func TestWatchPrevKVStaysWithItsWatcher(t *testing.T) {
	m := startMember(t)
	if _, err := m.cli.Put(m.ctx(), "k", "v1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	other := metadata.AppendToOutgoingContext(ctx, "stream", "other")
	withPrev := m.cli.Watch(ctx, "k", clientv3.WithPrevKV())
	plainSame := m.cli.Watch(ctx, "k")
	plainOther := m.cli.Watch(other, "k")
	time.Sleep(200 * time.Millisecond) // let the three watches register
	if _, err := m.cli.Put(m.ctx(), "k", "v2"); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]clientv3.WatchChan{"prev_kv": withPrev, "plain, same stream": plainSame, "plain, other stream": plainOther} {
		select {
		case resp := <-ch:
			if len(resp.Events) != 1 {
				t.Fatalf("%s: %v", name, resp.Events)
			}
			ev := resp.Events[0]
			if name == "prev_kv" {
				if ev.PrevKv == nil || string(ev.PrevKv.Value) != "v1" {
					t.Errorf("%s: prev_kv %v, want v1", name, ev.PrevKv)
				}
			} else if ev.PrevKv != nil {
				t.Errorf("%s: got a prev_kv (%s) it did not ask for", name, ev.PrevKv.Value)
			}
		case <-ctx.Done():
			t.Fatalf("%s: no event", name)
		}
	}
}
