package robustness

import (
	"strings"
	"testing"
	"time"
)

// op builds an operation over [call, ret] (ret < 0: unknown outcome).
func op(client int, call, ret int64, req request, resp response) operation {
	if req.End == 0 {
		req.End = req.Key + 1
	}
	o := operation{Client: client, Req: req, Resp: resp, Call: call, Return: ret}
	if ret < 0 {
		o.Return = infinite
		o.Resp = response{Unknown: true}
	}
	return o
}

func put(key int, v string) request { return request{Kind: opPut, Key: key, Value: v} }
func get(key int) request           { return request{Kind: opGet, Key: key} }

func at(key int, v string, mod, create, ver int64) kv {
	return kv{Key: key, Value: v, ModRev: mod, CreateRev: create, Version: ver}
}

func checkOps(t *testing.T, ops []operation) string {
	t.Helper()
	return string(checkLinearizable(ops, 10*time.Second).Result)
}

func TestModelAcceptsLinearizableHistory(t *testing.T) {
	ops := []operation{
		op(0, 0, 10, put(1, "a"), response{Rev: 2}),
		op(1, 5, 15, get(1), response{Rev: 2, KVs: []kv{at(1, "a", 2, 2, 1)}}),
		op(0, 20, 30, request{Kind: opTxnCAS, Key: 1, Expect: 2, Value: "b"}, response{Rev: 3, Succeeded: true}),
		op(1, 20, 30, request{Kind: opTxnCAS, Key: 1, Expect: 2, Value: "c"}, response{Rev: 3, KVs: []kv{at(1, "b", 3, 2, 2)}}),
		op(2, 31, 40, request{Kind: opPut, Key: 1, Value: "d", PrevKV: true}, response{Rev: 4, Prev: &kv{Key: 1, Value: "b", ModRev: 3, CreateRev: 2, Version: 2}}),
		op(0, 41, 50, request{Kind: opDelete, Key: 1}, response{Rev: 5, Deleted: 1}),
		op(1, 41, 50, request{Kind: opDelete, Key: 2}, response{Rev: 5}),
		op(2, 45, -1, put(3, "lost"), response{}),
		op(0, 60, 70, request{Kind: opGet, Key: 0, End: numKeys}, response{Rev: 5}),
	}
	if got := checkOps(t, ops); got != "Ok" {
		t.Fatalf("a linearizable history: %s", got)
	}
}

func TestModelRejectsViolations(t *testing.T) {
	base := []operation{
		op(0, 0, 10, put(1, "a"), response{Rev: 2}),
		op(0, 11, 20, put(1, "b"), response{Rev: 3}),
	}
	cases := map[string]operation{
		// A read that starts after "b" was acknowledged must not see "a".
		"stale read": op(1, 21, 30, get(1), response{Rev: 2, KVs: []kv{at(1, "a", 2, 2, 1)}}),
		// The revision of a read must be the store's at that point.
		"read revision behind": op(1, 21, 30, get(1), response{Rev: 2, KVs: []kv{at(1, "b", 3, 2, 2)}}),
		// A compare that fails in the model cannot succeed.
		"txn success against the state": op(1, 21, 30, request{Kind: opTxnCAS, Key: 1, Expect: 2, Value: "c"}, response{Rev: 4, Succeeded: true}),
		// A put's revision is the next one.
		"revision skipped": op(1, 21, 30, put(2, "x"), response{Rev: 5}),
		// prev_kv is the key before the put.
		"wrong prev_kv": op(1, 21, 30, request{Kind: opPut, Key: 1, Value: "c", PrevKV: true}, response{Rev: 4, Prev: &kv{Key: 1, Value: "a", ModRev: 2, CreateRev: 2, Version: 1}}),
		// A delete of a present key deletes it.
		"delete missed": op(1, 21, 30, request{Kind: opDelete, Key: 1}, response{Rev: 3}),
		// Version and create revision count.
		"wrong version": op(1, 21, 30, get(1), response{Rev: 3, KVs: []kv{at(1, "b", 3, 2, 1)}}),
	}
	for name, bad := range cases {
		if got := checkOps(t, append(append([]operation(nil), base...), bad)); got != "Illegal" {
			t.Errorf("%s: %s, want Illegal", name, got)
		}
	}
}

func TestModelLeases(t *testing.T) {
	ops := []operation{
		op(0, 0, 10, request{Kind: opLeaseGrant}, response{LeaseID: 7}),
		op(0, 11, 20, request{Kind: opPutLease, Key: 1, Value: "a", Lease: 7}, response{Rev: 2}),
		op(0, 21, 30, request{Kind: opPut, Key: 2, Value: "b"}, response{Rev: 3}),
		op(0, 31, 40, request{Kind: opLeaseRevoke, Lease: 7}, response{}),
		op(0, 41, 50, request{Kind: opGet, Key: 0, End: numKeys}, response{Rev: 4, KVs: []kv{at(2, "b", 3, 3, 1)}}),
		op(0, 51, 60, request{Kind: opPutLease, Key: 3, Value: "c", Lease: 7}, response{LeaseNotFound: true}),
	}
	if got := checkOps(t, ops); got != "Ok" {
		t.Fatalf("leases: %s", got)
	}
	// A revoke that leaves the key there is caught.
	ops[4].Resp = response{Rev: 3, KVs: []kv{{Key: 1, Value: "a", ModRev: 2, CreateRev: 2, Version: 1, Lease: 7}, at(2, "b", 3, 3, 1)}}
	if got := checkOps(t, ops); got != "Illegal" {
		t.Fatalf("key of a revoked lease still read: %s, want Illegal", got)
	}
}

func TestPrepareHistoryPatchesUnknownWrites(t *testing.T) {
	h := &watchHistory{valueRev: map[string]int64{"seen": 2}}
	ops := []operation{
		op(0, 0, -1, put(1, "seen"), response{}),
		op(1, 0, -1, put(1, "never"), response{}),
		op(2, 0, -1, request{Kind: opDelete, Key: 1}, response{}),
		op(3, 0, 5, request{Kind: opStaleGet, Key: 1}, response{Rev: 1}),
	}
	got := prepareHistory(ops, h, true)
	if len(got) != 2 || !got[0].Resp.RevOnly || got[0].Resp.Rev != 2 || !got[1].Resp.Unknown {
		t.Fatalf("prepareHistory = %+v", got)
	}
	// A patched write whose revision conflicts with acknowledged ones fails.
	hist := append(got[:1:1], op(4, 10, 20, put(2, "x"), response{Rev: 2}))
	if r := checkOps(t, hist); r != "Illegal" {
		t.Fatalf("two writes at revision 2: %s, want Illegal", r)
	}
}

func pev(key int, v string, rev, create, ver int64) watchItem {
	return watchItem{Ev: event{KV: at(key, v, rev, create, ver)}}
}

func dev(key int, rev int64) watchItem {
	return watchItem{Ev: event{Delete: true, KV: kv{Key: key, ModRev: rev}}}
}

func TestCheckWatches(t *testing.T) {
	sent := map[string]bool{"a": true, "b": true, "c": true}
	good := []watchItem{pev(1, "a", 2, 2, 1), pev(1, "b", 3, 2, 2), {Progress: 3}, dev(1, 4), pev(2, "c", 5, 5, 1)}
	if _, errs := checkWatches([]watcherResult{{ID: 0, StartRev: 1, Items: good}, {ID: 1, StartRev: 4, Items: good[3:]}}, 5, sent); len(errs) != 0 {
		t.Fatalf("good watches: %v", errs)
	}
	bad := map[string][]watchItem{
		"gap":               {pev(1, "a", 2, 2, 1), dev(1, 4), pev(2, "c", 5, 5, 1)},
		"order":             {pev(1, "b", 3, 2, 2), pev(1, "a", 2, 2, 1), dev(1, 4), pev(2, "c", 5, 5, 1)},
		"duplicate":         {pev(1, "a", 2, 2, 1), pev(1, "b", 3, 2, 2), pev(1, "b", 3, 2, 2), dev(1, 4), pev(2, "c", 5, 5, 1)},
		"progress promise":  {pev(1, "a", 2, 2, 1), {Progress: 3}, pev(1, "b", 3, 2, 2), dev(1, 4), pev(2, "c", 5, 5, 1)},
		"phantom value":     {pev(1, "a", 2, 2, 1), pev(1, "zzz", 3, 2, 2), dev(1, 4), pev(2, "c", 5, 5, 1)},
		"value twice":       {pev(1, "a", 2, 2, 1), pev(1, "a", 3, 2, 2), dev(1, 4), pev(2, "c", 5, 5, 1)},
		"wrong version":     {pev(1, "a", 2, 2, 1), pev(1, "b", 3, 2, 1), dev(1, 4), pev(2, "c", 5, 5, 1)},
		"delete of nothing": {pev(1, "a", 2, 2, 1), pev(1, "b", 3, 2, 2), dev(3, 4), pev(2, "c", 5, 5, 1)},
		"beyond final":      append(append([]watchItem(nil), good...), pev(2, "a", 6, 5, 2)),
	}
	for name, items := range bad {
		if _, errs := checkWatches([]watcherResult{{ID: 0, StartRev: 1, Items: items}}, 5, sent); len(errs) == 0 {
			t.Errorf("%s: no error", name)
		}
	}
	// Two watchers that disagree.
	other := append([]watchItem(nil), good...)
	other[4] = pev(3, "c", 5, 5, 1)
	if _, errs := checkWatches([]watcherResult{{ID: 0, StartRev: 1, Items: good}, {ID: 1, StartRev: 1, Items: other}}, 5, sent); len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "disagree") {
		t.Errorf("disagreeing watchers: %v", errs)
	}
	// prev_kv must be the key before the event.
	withPrev := append([]watchItem(nil), good...)
	withPrev[1].Ev.Prev = &kv{Key: 1, Value: "b", ModRev: 3, CreateRev: 2, Version: 2}
	if _, errs := checkWatches([]watcherResult{{ID: 0, StartRev: 1, PrevKV: true, Items: withPrev}}, 5, sent); len(errs) == 0 {
		t.Errorf("wrong prev_kv: no error")
	}
}

func TestCheckAcknowledgedAndStaleReads(t *testing.T) {
	sent := map[string]bool{"a": true, "b": true}
	h, errs := checkWatches([]watcherResult{{ID: 0, StartRev: 1, Items: []watchItem{pev(1, "a", 2, 2, 1), pev(1, "b", 3, 2, 2)}}}, 3, sent)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	ok := []operation{
		op(0, 0, 1, put(1, "a"), response{Rev: 2}),
		op(0, 0, 1, request{Kind: opStaleGet, Key: 1, End: 2}, response{Rev: 2, KVs: []kv{at(1, "a", 2, 2, 1)}}),
	}
	if errs := append(checkAcknowledged(h, ok), checkStaleReads(h, ok)...); len(errs) != 0 {
		t.Fatalf("good history: %v", errs)
	}
	if errs := checkAcknowledged(h, []operation{op(0, 0, 1, put(1, "b"), response{Rev: 2})}); len(errs) == 0 {
		t.Errorf("an acknowledged put that the watch has at another revision: no error")
	}
	if errs := checkStaleReads(h, []operation{op(0, 0, 1, request{Kind: opStaleGet, Key: 1, End: 2}, response{Rev: 3, KVs: []kv{at(1, "a", 2, 2, 1)}})}); len(errs) == 0 {
		t.Errorf("a serializable read of an old value at a newer revision: no error")
	}
}

func TestMakeScenariosDeterministic(t *testing.T) {
	a, b := makeScenarios(7, 6, 0), makeScenarios(7, 6, 0)
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Rate != b[i].Rate || a[i].Failpoint != b[i].Failpoint {
			t.Fatalf("scenario %d differs for one seed: %+v vs %+v", i, a[i], b[i])
		}
	}
	if a[0].Size != 3 || a[1].Failpoint == "" || a[2].Size != 1 {
		t.Fatalf("default scenarios: %+v", a[:3])
	}
}
