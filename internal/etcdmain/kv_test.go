package etcdmain_test

import (
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// putAll puts the pairs in order and returns the revision of the first put.
func putAll(t *testing.T, m *testMember, kvs ...string) int64 {
	t.Helper()
	var first int64
	for i := 0; i < len(kvs); i += 2 {
		resp, err := m.cli.Put(m.ctx(), kvs[i], kvs[i+1])
		if err != nil {
			t.Fatalf("put %q: %v", kvs[i], err)
		}
		if i == 0 {
			first = resp.Header.Revision
		} else if resp.Header.Revision != first+int64(i/2) {
			t.Fatalf("put %q at revision %d, want %d (one revision per put)", kvs[i], resp.Header.Revision, first+int64(i/2))
		}
	}
	return first
}

func TestRange(t *testing.T) {
	m := startMember(t)
	// r0: foo/a=3, r0+1: foo/b=1, r0+2: foo/c=2, r0+3: foo/a=0, r0+4: fop=x, r0+5: a=z
	r0 := putAll(t, m, "foo/a", "3", "foo/b", "1", "foo/c", "2", "foo/a", "0", "fop", "x", "a", "z")
	cur := r0 + 5
	get := func(t *testing.T, key string, opts ...clientv3.OpOption) *clientv3.GetResponse {
		t.Helper()
		resp, err := m.cli.Get(m.ctx(), key, opts...)
		if err != nil {
			t.Fatalf("get %q: %v", key, err)
		}
		if resp.Header.Revision != cur {
			t.Errorf("get %q: header revision %d, want the current revision %d", key, resp.Header.Revision, cur)
		}
		return resp
	}

	t.Run("single key", func(t *testing.T) {
		resp := get(t, "foo/b")
		wantKeys(t, "get foo/b", resp.Kvs, "foo/b")
		if resp.Count != 1 || resp.More {
			t.Errorf("count %d more %v, want 1 false", resp.Count, resp.More)
		}
		kv := resp.Kvs[0]
		if string(kv.Value) != "1" || kv.CreateRevision != r0+1 || kv.ModRevision != r0+1 || kv.Version != 1 || kv.Lease != 0 {
			t.Errorf("foo/b = %v, want value 1 created and modified at %d, version 1", kv, r0+1)
		}
		resp = get(t, "foo/a")
		kv = resp.Kvs[0]
		if string(kv.Value) != "0" || kv.CreateRevision != r0 || kv.ModRevision != r0+3 || kv.Version != 2 {
			t.Errorf("foo/a = %v, want value 0 created at %d, modified at %d, version 2", kv, r0, r0+3)
		}
		resp = get(t, "foo")
		if len(resp.Kvs) != 0 || resp.Count != 0 {
			t.Errorf("get of a missing key: %v count %d, want nothing", keysOf(resp.Kvs), resp.Count)
		}
	})
	t.Run("range end", func(t *testing.T) {
		wantKeys(t, "[foo/a, foo/c)", get(t, "foo/a", clientv3.WithRange("foo/c")).Kvs, "foo/a", "foo/b")
		wantKeys(t, "[a, foo/b)", get(t, "a", clientv3.WithRange("foo/b")).Kvs, "a", "foo/a")
		wantKeys(t, "[foo/c, foo/a) is empty", get(t, "foo/c", clientv3.WithRange("foo/a")).Kvs)
	})
	t.Run("prefix", func(t *testing.T) {
		resp := get(t, "foo/", clientv3.WithPrefix())
		wantKeys(t, "prefix foo/", resp.Kvs, "foo/a", "foo/b", "foo/c")
		if resp.Count != 3 {
			t.Errorf("count %d, want 3", resp.Count)
		}
		wantKeys(t, "prefix fo", get(t, "fo", clientv3.WithPrefix()).Kvs, "foo/a", "foo/b", "foo/c", "fop")
	})
	t.Run("from key", func(t *testing.T) {
		resp := get(t, "\x00", clientv3.WithFromKey())
		wantKeys(t, "every key", resp.Kvs, "a", "foo/a", "foo/b", "foo/c", "fop")
		if resp.Count != 5 {
			t.Errorf("count %d, want 5", resp.Count)
		}
		wantKeys(t, "from foo/b", get(t, "foo/b", clientv3.WithFromKey()).Kvs, "foo/b", "foo/c", "fop")
	})
	t.Run("limit", func(t *testing.T) {
		resp := get(t, "foo/", clientv3.WithPrefix(), clientv3.WithLimit(2))
		wantKeys(t, "limit 2", resp.Kvs, "foo/a", "foo/b")
		if !resp.More || resp.Count != 3 {
			t.Errorf("limit 2 of 3: more %v count %d, want true 3", resp.More, resp.Count)
		}
		resp = get(t, "foo/", clientv3.WithPrefix(), clientv3.WithLimit(3))
		if len(resp.Kvs) != 3 || resp.More || resp.Count != 3 {
			t.Errorf("limit 3 of 3: %d kvs more %v count %d, want 3 false 3", len(resp.Kvs), resp.More, resp.Count)
		}
		resp = get(t, "\x00", clientv3.WithFromKey(), clientv3.WithLimit(1))
		wantKeys(t, "from-key limit 1", resp.Kvs, "a")
		if !resp.More || resp.Count != 5 {
			t.Errorf("from-key limit 1: more %v count %d, want true 5", resp.More, resp.Count)
		}
	})
	t.Run("revision", func(t *testing.T) {
		resp := get(t, "foo/a", clientv3.WithRev(r0))
		if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "3" || resp.Kvs[0].ModRevision != r0 || resp.Kvs[0].Version != 1 {
			t.Errorf("foo/a at %d = %v, want the first value 3", r0, resp.Kvs)
		}
		resp = get(t, "foo/", clientv3.WithPrefix(), clientv3.WithRev(r0+1))
		wantKeys(t, "prefix at r0+1", resp.Kvs, "foo/a", "foo/b")
		if resp.Count != 2 {
			t.Errorf("count at r0+1 = %d, want 2", resp.Count)
		}
		wantKeys(t, "a before it existed", get(t, "a", clientv3.WithRev(r0+4)).Kvs)
		wantKeys(t, "a at its revision", get(t, "a", clientv3.WithRev(cur)).Kvs, "a")
	})
	t.Run("sort", func(t *testing.T) {
		cases := []struct {
			name   string
			target clientv3.SortTarget
			order  clientv3.SortOrder
			want   []string
		}{
			{"key ascend", clientv3.SortByKey, clientv3.SortAscend, []string{"foo/a", "foo/b", "foo/c"}},
			{"key descend", clientv3.SortByKey, clientv3.SortDescend, []string{"foo/c", "foo/b", "foo/a"}},
			{"value ascend", clientv3.SortByValue, clientv3.SortAscend, []string{"foo/a", "foo/b", "foo/c"}},
			{"value descend", clientv3.SortByValue, clientv3.SortDescend, []string{"foo/c", "foo/b", "foo/a"}},
			// A target other than the key with no order sorts ascending, as etcd.
			{"value none", clientv3.SortByValue, clientv3.SortNone, []string{"foo/a", "foo/b", "foo/c"}},
			{"create ascend", clientv3.SortByCreateRevision, clientv3.SortAscend, []string{"foo/a", "foo/b", "foo/c"}},
			{"create descend", clientv3.SortByCreateRevision, clientv3.SortDescend, []string{"foo/c", "foo/b", "foo/a"}},
			{"mod ascend", clientv3.SortByModRevision, clientv3.SortAscend, []string{"foo/b", "foo/c", "foo/a"}},
			{"mod descend", clientv3.SortByModRevision, clientv3.SortDescend, []string{"foo/a", "foo/c", "foo/b"}},
			{"mod none", clientv3.SortByModRevision, clientv3.SortNone, []string{"foo/b", "foo/c", "foo/a"}},
		}
		for _, c := range cases {
			wantKeys(t, c.name, get(t, "foo/", clientv3.WithPrefix(), clientv3.WithSort(c.target, c.order)).Kvs, c.want...)
		}
		// Versions: foo/a has 2, the others 1 (their relative order is free).
		resp := get(t, "foo/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByVersion, clientv3.SortAscend))
		if len(resp.Kvs) != 3 || string(resp.Kvs[2].Key) != "foo/a" {
			t.Errorf("version ascend: %q, want foo/a last", keysOf(resp.Kvs))
		}
		resp = get(t, "foo/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByVersion, clientv3.SortDescend))
		if len(resp.Kvs) != 3 || string(resp.Kvs[0].Key) != "foo/a" {
			t.Errorf("version descend: %q, want foo/a first", keysOf(resp.Kvs))
		}
		// Sorting happens before the limit is applied.
		resp = get(t, "foo/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortDescend), clientv3.WithLimit(1))
		wantKeys(t, "newest by mod revision", resp.Kvs, "foo/a")
		if !resp.More || resp.Count != 3 {
			t.Errorf("sorted limit 1: more %v count %d, want true 3", resp.More, resp.Count)
		}
	})
	t.Run("serializable", func(t *testing.T) {
		resp := get(t, "foo/a", clientv3.WithSerializable())
		if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "0" {
			t.Errorf("serializable foo/a = %v, want value 0", resp.Kvs)
		}
	})
	t.Run("keys only", func(t *testing.T) {
		resp := get(t, "foo/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
		wantKeys(t, "keys only", resp.Kvs, "foo/a", "foo/b", "foo/c")
		for _, kv := range resp.Kvs {
			if len(kv.Value) != 0 {
				t.Errorf("keys only: %q has value %q", kv.Key, kv.Value)
			}
		}
		if len(resp.Kvs) == 3 && (resp.Kvs[0].ModRevision != r0+3 || resp.Kvs[0].CreateRevision != r0 || resp.Kvs[0].Version != 2) {
			t.Errorf("keys only: foo/a = %v, want its revisions and version", resp.Kvs[0])
		}
		// Sorting by value still sees the values.
		resp = get(t, "foo/", clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithSort(clientv3.SortByValue, clientv3.SortDescend))
		wantKeys(t, "keys only by value", resp.Kvs, "foo/c", "foo/b", "foo/a")
	})
	t.Run("count only", func(t *testing.T) {
		resp := get(t, "foo/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if len(resp.Kvs) != 0 || resp.Count != 3 {
			t.Errorf("count only: %d kvs count %d, want 0 3", len(resp.Kvs), resp.Count)
		}
		resp = get(t, "\x00", clientv3.WithFromKey(), clientv3.WithCountOnly(), clientv3.WithRev(r0+2))
		if resp.Count != 3 {
			t.Errorf("count only at r0+2: %d, want 3", resp.Count)
		}
	})
	t.Run("revision filters", func(t *testing.T) {
		cases := []struct {
			name string
			opt  clientv3.OpOption
			want []string
		}{
			{"min mod", clientv3.WithMinModRev(r0 + 2), []string{"foo/a", "foo/c"}},
			{"max mod", clientv3.WithMaxModRev(r0 + 1), []string{"foo/b"}},
			{"min create", clientv3.WithMinCreateRev(r0 + 1), []string{"foo/b", "foo/c"}},
			{"max create", clientv3.WithMaxCreateRev(r0), []string{"foo/a"}},
		}
		for _, c := range cases {
			resp := get(t, "foo/", clientv3.WithPrefix(), c.opt)
			wantKeys(t, c.name, resp.Kvs, c.want...)
			// etcd counts the keys in the range before filtering.
			if resp.Count != 3 {
				t.Errorf("%s: count %d, want 3 (the range's count before filtering)", c.name, resp.Count)
			}
		}
		resp := get(t, "foo/", clientv3.WithPrefix(), clientv3.WithMinModRev(r0+1), clientv3.WithMaxModRev(r0+2))
		wantKeys(t, "mod window", resp.Kvs, "foo/b", "foo/c")
		// The limit applies after filtering.
		resp = get(t, "foo/", clientv3.WithPrefix(), clientv3.WithMinCreateRev(r0+1), clientv3.WithLimit(1))
		wantKeys(t, "filtered limit 1", resp.Kvs, "foo/b")
		if !resp.More {
			t.Errorf("filtered limit 1: more false, want true")
		}
	})
}

func TestPut(t *testing.T) {
	m := startMember(t)
	kv := pb.NewKVClient(m.cli.ActiveConnection())

	resp, err := m.cli.Put(m.ctx(), "k", "v1", clientv3.WithPrevKV())
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if resp.PrevKv != nil {
		t.Errorf("first put: prev_kv %v, want none", resp.PrevKv)
	}
	r1 := resp.Header.Revision
	resp, err = m.cli.Put(m.ctx(), "k", "v2", clientv3.WithPrevKV())
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if p := resp.PrevKv; p == nil || string(p.Value) != "v1" || p.ModRevision != r1 || p.Version != 1 {
		t.Errorf("second put: prev_kv %v, want v1 at %d version 1", p, r1)
	}
	if resp.Header.Revision != r1+1 {
		t.Errorf("second put at %d, want %d", resp.Header.Revision, r1+1)
	}
	resp, err = m.cli.Put(m.ctx(), "k", "v3")
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if resp.PrevKv != nil {
		t.Errorf("put without prev_kv returned %v", resp.PrevKv)
	}

	t.Run("ignore value", func(t *testing.T) {
		resp, err := m.cli.Put(m.ctx(), "k", "", clientv3.WithIgnoreValue(), clientv3.WithPrevKV())
		if err != nil {
			t.Fatalf("put ignore_value: %v", err)
		}
		if resp.PrevKv == nil || string(resp.PrevKv.Value) != "v3" {
			t.Errorf("prev_kv %v, want v3", resp.PrevKv)
		}
		g, err := m.cli.Get(m.ctx(), "k")
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if len(g.Kvs) != 1 || string(g.Kvs[0].Value) != "v3" || g.Kvs[0].Version != 4 || g.Kvs[0].ModRevision != resp.Header.Revision || g.Kvs[0].CreateRevision != r1 {
			t.Errorf("after ignore_value: %v, want value v3, version 4, mod revision %d, create revision %d", g.Kvs, resp.Header.Revision, r1)
		}
		_, err = m.cli.Put(m.ctx(), "missing", "", clientv3.WithIgnoreValue())
		wantClientErr(t, "ignore_value on a missing key", err, rpctypes.ErrKeyNotFound)
		_, err = kv.Put(m.ctx(), &pb.PutRequest{Key: []byte("missing"), IgnoreValue: true})
		wantStatus(t, "raw ignore_value on a missing key", err, rpctypes.ErrGRPCKeyNotFound)
		_, err = kv.Put(m.ctx(), &pb.PutRequest{Key: []byte("k"), Value: []byte("x"), IgnoreValue: true})
		wantStatus(t, "ignore_value with a value", err, rpctypes.ErrGRPCValueProvided)
	})
	t.Run("ignore lease", func(t *testing.T) {
		resp, err := m.cli.Put(m.ctx(), "k", "v5", clientv3.WithIgnoreLease())
		if err != nil {
			t.Fatalf("put ignore_lease: %v", err)
		}
		g, err := m.cli.Get(m.ctx(), "k")
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if string(g.Kvs[0].Value) != "v5" || g.Kvs[0].Lease != 0 || g.Kvs[0].ModRevision != resp.Header.Revision {
			t.Errorf("after ignore_lease: %v, want v5 with no lease", g.Kvs[0])
		}
		_, err = m.cli.Put(m.ctx(), "missing", "v", clientv3.WithIgnoreLease())
		wantClientErr(t, "ignore_lease on a missing key", err, rpctypes.ErrKeyNotFound)
		_, err = kv.Put(m.ctx(), &pb.PutRequest{Key: []byte("k"), Value: []byte("x"), IgnoreLease: true, Lease: 7})
		wantStatus(t, "ignore_lease with a lease", err, rpctypes.ErrGRPCLeaseProvided)
	})
	t.Run("lease", func(t *testing.T) {
		before, err := m.cli.Get(m.ctx(), "k")
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		_, err = m.cli.Put(m.ctx(), "k", "leased", clientv3.WithLease(0x1234))
		wantClientErr(t, "put with an unknown lease", err, rpctypes.ErrLeaseNotFound)
		_, err = kv.Put(m.ctx(), &pb.PutRequest{Key: []byte("new"), Value: []byte("x"), Lease: 0x1234})
		wantStatus(t, "raw put with an unknown lease", err, rpctypes.ErrGRPCLeaseNotFound)
		_, err = m.cli.Txn(m.ctx()).Then(clientv3.OpPut("other", "x"), clientv3.OpPut("k", "leased", clientv3.WithLease(0x1234))).Commit()
		wantClientErr(t, "txn put with an unknown lease", err, rpctypes.ErrLeaseNotFound)
		_, err = m.cli.Txn(m.ctx()).Then(clientv3.OpPut("other", "x"), clientv3.OpPut("missing", "", clientv3.WithIgnoreValue())).Commit()
		wantClientErr(t, "txn put ignore_value on a missing key", err, rpctypes.ErrKeyNotFound)
		after, err := m.cli.Get(m.ctx(), "k")
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if string(after.Kvs[0].Value) != string(before.Kvs[0].Value) || after.Header.Revision != before.Header.Revision {
			t.Errorf("a failed put changed the store: %v at %d, was %v at %d", after.Kvs[0], after.Header.Revision, before.Kvs[0], before.Header.Revision)
		}
	})
}

func TestDeleteRange(t *testing.T) {
	m := startMember(t)
	r0 := putAll(t, m, "d/a", "1", "d/b", "2", "d/c", "3", "d/d", "4", "e", "5")

	resp, err := m.cli.Delete(m.ctx(), "d/a", clientv3.WithRange("d/c"))
	if err != nil {
		t.Fatalf("delete range: %v", err)
	}
	if resp.Deleted != 2 || len(resp.PrevKvs) != 0 {
		t.Errorf("delete [d/a, d/c): deleted %d prev_kvs %d, want 2 0", resp.Deleted, len(resp.PrevKvs))
	}
	delRev := resp.Header.Revision
	if delRev != r0+5 {
		t.Errorf("delete of two keys at revision %d, want %d (one revision)", delRev, r0+5)
	}
	g, err := m.cli.Get(m.ctx(), "d/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	wantKeys(t, "after delete", g.Kvs, "d/c", "d/d")
	g, err = m.cli.Get(m.ctx(), "d/", clientv3.WithPrefix(), clientv3.WithRev(delRev-1))
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	wantKeys(t, "before delete", g.Kvs, "d/a", "d/b", "d/c", "d/d")

	resp, err = m.cli.Delete(m.ctx(), "d/", clientv3.WithPrefix(), clientv3.WithPrevKV())
	if err != nil {
		t.Fatalf("delete prefix: %v", err)
	}
	if resp.Deleted != 2 {
		t.Errorf("delete prefix: deleted %d, want 2", resp.Deleted)
	}
	wantKeys(t, "prev_kvs", resp.PrevKvs, "d/c", "d/d")
	if len(resp.PrevKvs) == 2 && (string(resp.PrevKvs[0].Value) != "3" || string(resp.PrevKvs[1].Value) != "4") {
		t.Errorf("prev_kvs %v, want values 3 and 4", resp.PrevKvs)
	}
	if resp.Header.Revision != delRev+1 {
		t.Errorf("delete prefix at %d, want %d", resp.Header.Revision, delRev+1)
	}

	// Deleting nothing does not move the revision.
	resp, err = m.cli.Delete(m.ctx(), "d/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("delete nothing: %v", err)
	}
	if resp.Deleted != 0 || resp.Header.Revision != delRev+1 {
		t.Errorf("delete nothing: deleted %d at %d, want 0 at %d", resp.Deleted, resp.Header.Revision, delRev+1)
	}

	resp, err = m.cli.Delete(m.ctx(), "e", clientv3.WithPrevKV())
	if err != nil {
		t.Fatalf("delete e: %v", err)
	}
	if resp.Deleted != 1 || len(resp.PrevKvs) != 1 || string(resp.PrevKvs[0].Value) != "5" {
		t.Errorf("delete e: deleted %d prev %v, want 1 and value 5", resp.Deleted, resp.PrevKvs)
	}

	// A key created again after a delete starts a new generation.
	p, err := m.cli.Put(m.ctx(), "e", "6")
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	g, err = m.cli.Get(m.ctx(), "e")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if kv := g.Kvs[0]; kv.Version != 1 || kv.CreateRevision != p.Header.Revision {
		t.Errorf("recreated e = %v, want version 1 created at %d", kv, p.Header.Revision)
	}

	g, err = m.cli.Get(m.ctx(), "\x00", clientv3.WithFromKey(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	if g.Count != 1 {
		t.Errorf("keys left: %d, want 1", g.Count)
	}
}
