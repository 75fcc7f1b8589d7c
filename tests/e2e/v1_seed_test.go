package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestV1SeedExamples runs the curl examples of the seed README one subtest
// each, in the seed's order, against a member started as the seed's
// `./etcd -c 4001 -s 7001 -d nod/node1` (on free ports). Each answer is
// compared with the seed's JSON field by field; indexes are checked to be
// positive whole numbers that increase with every write, expirations to be
// RFC 3339 times that far ahead. The subtests share the member and depend
// on each other, as the README's steps do.
func TestV1SeedExamples(t *testing.T) {
	n := startV1Node(t, "node1", t.TempDir(), "nod/node1", "")
	base := n.clientURL()
	var last int64 // index of the last write
	write := func(a v1Answer) {
		t.Helper()
		if a.index <= last {
			t.Fatalf("write index %d does not follow the previous write's %d", a.index, last)
		}
		last = a.index
	}

	t.Run("01 set /message", func(t *testing.T) {
		// curl http://127.0.0.1:4001/v1/keys/message -d value="Hello world"
		st, b := v1Do(t, "POST", base+"/v1/keys/message", form("value", "Hello world"))
		write(wantSeed(t, st, b, 200, `{"action":"SET","key":"/message","value":"Hello world","newKey":true,"index":3}`))
	})
	t.Run("02 get /message", func(t *testing.T) {
		// curl http://127.0.0.1:4001/v1/keys/message
		st, b := v1Do(t, "GET", base+"/v1/keys/message", nil)
		if a := wantSeed(t, st, b, 200, `{"action":"GET","key":"/message","value":"Hello world","index":3}`); a.index != last {
			t.Errorf("GET index %d, want the store's current index %d", a.index, last)
		}
	})
	t.Run("03 change /message", func(t *testing.T) {
		// Changing the value of a key: the answer gains prevValue.
		st, b := v1Do(t, "POST", base+"/v1/keys/message", form("value", "Hello etcd"))
		write(wantSeed(t, st, b, 200, `{"action":"SET","key":"/message","prevValue":"Hello world","value":"Hello etcd","index":4}`))
	})
	t.Run("04 delete /message", func(t *testing.T) {
		st, b := v1Do(t, "DELETE", base+"/v1/keys/message", nil)
		write(wantSeed(t, st, b, 200, `{"action":"DELETE","key":"/message","prevValue":"Hello etcd","index":5}`))
	})
	t.Run("05 set /foo with ttl", func(t *testing.T) {
		st, b := v1Do(t, "POST", base+"/v1/keys/foo", form("value", "bar", "ttl", "5"))
		write(wantSeed(t, st, b, 200, `{"action":"SET","key":"/foo","value":"bar","newKey":true,"expiration":"2013-07-11T20:31:12.156146039-07:00","ttl":5,"index":6}`))
	})
	t.Run("06 get /foo until it expires", func(t *testing.T) {
		// curl http://127.0.0.1:4001/v1/keys/foo: the ttl counts down,
		// then the key is gone.
		var ttls []int64
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, b := v1Do(t, "GET", base+"/v1/keys/foo", nil)
			if st == http.StatusNotFound {
				v1Error(t, st, b, 404, 100)
				break
			}
			a := wantSeed(t, st, b, 200, `{"action":"GET","key":"/foo","value":"bar","expiration":"2013-07-11T20:31:12.156146039-07:00","ttl":5,"index":6}`)
			if len(ttls) > 0 && a.ttl > ttls[len(ttls)-1] {
				t.Fatalf("ttl went up: %v then %d", ttls, a.ttl)
			}
			ttls = append(ttls, a.ttl)
			if time.Now().After(deadline) {
				t.Fatalf("/foo did not expire; ttls %v", ttls)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if len(ttls) == 0 || ttls[0] <= ttls[len(ttls)-1] {
			t.Fatalf("the ttl did not count down: %v", ttls)
		}
		// The expiry was a write (a delete): the next write's index is
		// above it.
		st, b := v1Do(t, "POST", base+"/v1/keys/probe", form("value", "x"))
		a := wantSeed(t, st, b, 200, `{"action":"SET","key":"/probe","value":"x","newKey":true,"index":1}`)
		if a.index < last+2 {
			t.Errorf("index %d after the expiry of a key set at %d", a.index, last)
		}
		write(a)
	})
	t.Run("07 watch /foo", func(t *testing.T) {
		// curl http://127.0.0.1:4001/v1/watch/foo in one terminal; a set
		// of /foo/foo in another; the watcher gets the set's answer.
		ctx, cancel := context.WithTimeout(context.Background(), v1CallTimeout)
		defer cancel()
		w := asyncV1(t, ctx, "GET", base+"/v1/watch/foo", nil)
		time.Sleep(200 * time.Millisecond)
		st, b := v1Do(t, "POST", base+"/v1/keys/foo/foo", form("value", "barbar"))
		set := wantSeed(t, st, b, 200, `{"action":"SET","key":"/foo/foo","value":"barbar","newKey":true,"index":7}`)
		write(set)
		got := recvV1(t, w, "watch /foo")
		if got != b {
			t.Fatalf("watch answered %s, the set %s", got, b)
		}
	})
	t.Run("08 set /testAndSet", func(t *testing.T) {
		// curl http://127.0.0.1:4001/v1/keys/testAndSet -d value=one
		st, b := v1Do(t, "POST", base+"/v1/keys/testAndSet", form("value", "one"))
		write(wantSeed(t, st, b, 200, `{"action":"SET","key":"/testAndSet","value":"one","newKey":true,"index":9}`))
	})
	t.Run("09 invalid testAndSet", func(t *testing.T) {
		// curl http://127.0.0.1:4001/v1/testAndSet/testAndSet -d prevValue=two -d value=three
		st, b := v1Do(t, "POST", base+"/v1/testAndSet/testAndSet", form("prevValue", "two", "value", "three"))
		if st != 400 || b != "Test one==two fails" {
			t.Fatalf("invalid testAndSet: %d %q, want 400 %q", st, b, "Test one==two fails")
		}
	})
	t.Run("10 valid testAndSet", func(t *testing.T) {
		// curl http://127.0.0.1:4001/v1/testAndSet/testAndSet -d prevValue=one -d value=two
		st, b := v1Do(t, "POST", base+"/v1/testAndSet/testAndSet", form("prevValue", "one", "value", "two"))
		write(wantSeed(t, st, b, 200, `{"action":"SET","key":"/testAndSet","prevValue":"one","value":"two","index":10}`))
	})
	t.Run("11 list /foo/", func(t *testing.T) {
		// /foo/foo_dir becomes a directory with a key under it; the listing
		// shows foo=barbar and the directory foo_dir.
		st, b := v1Do(t, "POST", base+"/v1/keys/foo/foo_dir/foo", form("value", "barbarbar"))
		write(wantSeed(t, st, b, 200, `{"action":"SET","key":"/foo/foo_dir/foo","value":"barbarbar","newKey":true,"index":11}`))
		st, b = v1Do(t, "GET", base+"/v1/keys/foo/", nil)
		var list []json.RawMessage
		if st != 200 || json.Unmarshal([]byte(b), &list) != nil || len(list) != 2 {
			t.Fatalf("listing: %d %s", st, b)
		}
		for i, want := range []string{
			`{"action":"GET","key":"/foo/foo","value":"barbar","index":10}`,
			`{"action":"GET","key":"/foo/foo_dir","dir":true,"index":10}`,
		} {
			if a := wantSeed(t, 200, string(list[i]), 200, want); a.index != last {
				t.Errorf("listing entry index %d, want the store's current index %d", a.index, last)
			}
		}
	})
}
