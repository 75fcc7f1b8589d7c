package etcdmain_test

import (
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestTxnCompares(t *testing.T) {
	m := startMember(t)
	ra := putAll(t, m, "t/a", "1", "t/b", "2")

	cases := []struct {
		name string
		cmp  clientv3.Cmp
		want bool
	}{
		{"value equal", clientv3.Compare(clientv3.Value("t/a"), "=", "1"), true},
		{"value not equal", clientv3.Compare(clientv3.Value("t/a"), "!=", "1"), false},
		{"value greater", clientv3.Compare(clientv3.Value("t/a"), ">", "0"), true},
		{"value less", clientv3.Compare(clientv3.Value("t/a"), "<", "0"), false},
		// A value compare on a missing key fails whatever it asks.
		{"value of a missing key", clientv3.Compare(clientv3.Value("t/none"), "=", ""), false},
		{"version", clientv3.Compare(clientv3.Version("t/a"), "=", 1), true},
		{"version greater", clientv3.Compare(clientv3.Version("t/a"), ">", 1), false},
		{"version of a missing key", clientv3.Compare(clientv3.Version("t/none"), "=", 0), true},
		{"create revision", clientv3.Compare(clientv3.CreateRevision("t/a"), "=", ra), true},
		{"create revision wrong", clientv3.Compare(clientv3.CreateRevision("t/b"), "=", ra), false},
		{"create revision of a missing key", clientv3.Compare(clientv3.CreateRevision("t/none"), "=", 0), true},
		{"mod revision less", clientv3.Compare(clientv3.ModRevision("t/b"), "<", ra+2), true},
		{"mod revision greater", clientv3.Compare(clientv3.ModRevision("t/b"), ">", ra+1), false},
		{"lease none", clientv3.Compare(clientv3.LeaseValue("t/a"), "=", 0), true},
		{"lease some", clientv3.Compare(clientv3.LeaseValue("t/a"), "=", 5), false},
		{"range all greater", clientv3.Compare(clientv3.Value("t/"), ">", "0").WithPrefix(), true},
		{"range not all equal", clientv3.Compare(clientv3.Value("t/"), "=", "1").WithPrefix(), false},
		{"range end", clientv3.Compare(clientv3.Version("t/a"), "=", 1).WithRange("t/c"), true},
		{"range end mod", clientv3.Compare(clientv3.ModRevision("t/a"), "=", ra).WithRange("t/c"), false},
		{"empty range", clientv3.Compare(clientv3.Version("u/"), "=", 0).WithPrefix(), true},
	}
	for _, c := range cases {
		resp, err := m.cli.Txn(m.ctx()).If(c.cmp).Then(clientv3.OpGet("t/a")).Else(clientv3.OpGet("t/b")).Commit()
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if resp.Succeeded != c.want {
			t.Errorf("%s: succeeded %v, want %v", c.name, resp.Succeeded, c.want)
		}
		want := "t/b"
		if c.want {
			want = "t/a"
		}
		if len(resp.Responses) != 1 {
			t.Errorf("%s: %d responses, want 1", c.name, len(resp.Responses))
			continue
		}
		wantKeys(t, c.name+" branch", resp.Responses[0].GetResponseRange().GetKvs(), want)
		if resp.Header.Revision != ra+1 {
			t.Errorf("%s: read-only txn at revision %d, want %d", c.name, resp.Header.Revision, ra+1)
		}
	}
	// Several compares must all hold.
	resp, err := m.cli.Txn(m.ctx()).If(
		clientv3.Compare(clientv3.Value("t/a"), "=", "1"),
		clientv3.Compare(clientv3.Value("t/b"), "=", "1"),
	).Commit()
	if err != nil {
		t.Fatalf("txn: %v", err)
	}
	if resp.Succeeded {
		t.Errorf("two compares, one false: succeeded")
	}
}

func TestTxnBranches(t *testing.T) {
	m := startMember(t)
	r0 := putAll(t, m, "t/a", "1", "t/b", "2")
	cur := r0 + 1

	t.Run("success", func(t *testing.T) {
		resp, err := m.cli.Txn(m.ctx()).
			If(clientv3.Compare(clientv3.Value("t/a"), "=", "1")).
			Then(
				clientv3.OpPut("t/c", "3", clientv3.WithPrevKV()),
				clientv3.OpPut("t/a", "11", clientv3.WithPrevKV()),
				clientv3.OpGet("t/b"),
				clientv3.OpDelete("t/b", clientv3.WithPrevKV()),
			).
			Else(clientv3.OpPut("t/else", "x")).
			Commit()
		if err != nil {
			t.Fatalf("txn: %v", err)
		}
		cur++
		if !resp.Succeeded || len(resp.Responses) != 4 {
			t.Fatalf("succeeded %v with %d responses, want true 4", resp.Succeeded, len(resp.Responses))
		}
		if resp.Header.Revision != cur {
			t.Errorf("txn at revision %d, want %d (one revision for the whole txn)", resp.Header.Revision, cur)
		}
		if p := resp.Responses[0].GetResponsePut(); p == nil || p.PrevKv != nil {
			t.Errorf("put t/c: %v, want a put response without prev_kv", resp.Responses[0])
		}
		if p := resp.Responses[1].GetResponsePut(); p == nil || string(p.GetPrevKv().GetValue()) != "1" {
			t.Errorf("put t/a: %v, want prev value 1", resp.Responses[1])
		}
		if r := resp.Responses[2].GetResponseRange(); r == nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "2" {
			t.Errorf("get t/b: %v, want value 2", resp.Responses[2])
		}
		if d := resp.Responses[3].GetResponseDeleteRange(); d == nil || d.Deleted != 1 || len(d.PrevKvs) != 1 || string(d.PrevKvs[0].Value) != "2" {
			t.Errorf("delete t/b: %v, want one deleted with prev value 2", resp.Responses[3])
		}
		g, err := m.cli.Get(m.ctx(), "t/", clientv3.WithPrefix())
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		wantKeys(t, "after success", g.Kvs, "t/a", "t/c")
		for _, kv := range g.Kvs {
			if kv.ModRevision != cur {
				t.Errorf("%s modified at %d, want %d (the txn's revision)", kv.Key, kv.ModRevision, cur)
			}
		}
		if g.Header.Revision != cur {
			t.Errorf("revision after the txn %d, want %d", g.Header.Revision, cur)
		}
	})
	t.Run("failure", func(t *testing.T) {
		resp, err := m.cli.Txn(m.ctx()).
			If(clientv3.Compare(clientv3.Value("t/a"), "=", "1")).
			Then(clientv3.OpPut("t/then", "x")).
			Else(clientv3.OpPut("t/else", "y"), clientv3.OpGet("t/a"), clientv3.OpDelete("t/c")).
			Commit()
		if err != nil {
			t.Fatalf("txn: %v", err)
		}
		cur++
		if resp.Succeeded || len(resp.Responses) != 3 {
			t.Fatalf("succeeded %v with %d responses, want false 3", resp.Succeeded, len(resp.Responses))
		}
		if r := resp.Responses[1].GetResponseRange(); r == nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "11" {
			t.Errorf("get t/a: %v, want value 11", resp.Responses[1])
		}
		if resp.Header.Revision != cur {
			t.Errorf("txn at revision %d, want %d", resp.Header.Revision, cur)
		}
		g, err := m.cli.Get(m.ctx(), "t/", clientv3.WithPrefix())
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		wantKeys(t, "after failure", g.Kvs, "t/a", "t/else")
	})
	t.Run("nested", func(t *testing.T) {
		// As etcd: the compares of a nested txn are evaluated, with the outer
		// ones, against the store as it was before the txn began.
		resp, err := m.cli.Txn(m.ctx()).
			If(clientv3.Compare(clientv3.Version("n/a"), "=", 0)).
			Then(
				clientv3.OpPut("n/a", "new"),
				clientv3.OpTxn(
					[]clientv3.Cmp{clientv3.Compare(clientv3.Value("n/a"), "=", "new")},
					[]clientv3.Op{clientv3.OpPut("n/b", "then")},
					[]clientv3.Op{clientv3.OpPut("n/b", "else"), clientv3.OpGet("t/a")},
				),
				clientv3.OpTxn(
					[]clientv3.Cmp{clientv3.Compare(clientv3.Value("t/a"), "=", "11")},
					[]clientv3.Op{clientv3.OpDelete("t/else")},
					nil,
				),
			).
			Commit()
		if err != nil {
			t.Fatalf("txn: %v", err)
		}
		cur++
		if !resp.Succeeded || len(resp.Responses) != 3 {
			t.Fatalf("succeeded %v with %d responses, want true 3", resp.Succeeded, len(resp.Responses))
		}
		inner := resp.Responses[1].GetResponseTxn()
		if inner == nil || inner.Succeeded || len(inner.Responses) != 2 || inner.Responses[0].GetResponsePut() == nil {
			t.Fatalf("first nested txn: %v, want the failure branch with two responses", resp.Responses[1])
		}
		if r := inner.Responses[1].GetResponseRange(); r == nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "11" {
			t.Errorf("nested get t/a: %v, want value 11", inner.Responses[1])
		}
		inner = resp.Responses[2].GetResponseTxn()
		if inner == nil || !inner.Succeeded || len(inner.Responses) != 1 || inner.Responses[0].GetResponseDeleteRange().GetDeleted() != 1 {
			t.Errorf("second nested txn: %v, want success deleting one key", resp.Responses[2])
		}
		if resp.Header.Revision != cur {
			t.Errorf("txn at revision %d, want %d", resp.Header.Revision, cur)
		}
		g, err := m.cli.Get(m.ctx(), "", clientv3.WithFromKey())
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		wantKeys(t, "after nested", g.Kvs, "n/a", "n/b", "t/a")
		for _, kv := range g.Kvs {
			if string(kv.Key) == "n/b" && string(kv.Value) != "else" {
				t.Errorf("n/b = %q, want else", kv.Value)
			}
			if string(kv.Key)[0] == 'n' && kv.ModRevision != cur {
				t.Errorf("%s modified at %d, want %d", kv.Key, kv.ModRevision, cur)
			}
		}
	})
	t.Run("read only", func(t *testing.T) {
		resp, err := m.cli.Txn(m.ctx()).Then(clientv3.OpGet("t/", clientv3.WithPrefix()), clientv3.OpGet("n/a", clientv3.WithSerializable())).Commit()
		if err != nil {
			t.Fatalf("txn: %v", err)
		}
		if !resp.Succeeded || resp.Header.Revision != cur {
			t.Errorf("read-only txn: succeeded %v at %d, want true at %d", resp.Succeeded, resp.Header.Revision, cur)
		}
		wantKeys(t, "read-only txn", resp.Responses[0].GetResponseRange().GetKvs(), "t/a")
		// An empty txn succeeds and changes nothing.
		resp, err = m.cli.Txn(m.ctx()).Commit()
		if err != nil {
			t.Fatalf("empty txn: %v", err)
		}
		if !resp.Succeeded || resp.Header.Revision != cur {
			t.Errorf("empty txn: succeeded %v at %d, want true at %d", resp.Succeeded, resp.Header.Revision, cur)
		}
	})
}

// TestTxnReadYourWrites checks that a range inside a txn sees the writes made
// before it in the same txn, as etcd's do.
func TestTxnReadYourWrites(t *testing.T) {
	m := startMember(t)
	r0 := putAll(t, m, "a", "old", "b", "gone", "p/x", "1")
	resp, err := m.cli.Txn(m.ctx()).Then(
		clientv3.OpPut("a", "new"),
		clientv3.OpGet("a"),
		clientv3.OpDelete("b"),
		clientv3.OpGet("b"),
		clientv3.OpPut("p/y", "2"),
		clientv3.OpGet("p/", clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		t.Fatalf("txn: %v", err)
	}
	rev := r0 + 3
	if resp.Header.Revision != rev {
		t.Errorf("txn at %d, want %d", resp.Header.Revision, rev)
	}
	if len(resp.Responses) != 6 {
		t.Fatalf("%d responses, want 6", len(resp.Responses))
	}
	ga := resp.Responses[1].GetResponseRange()
	if len(ga.GetKvs()) != 1 || string(ga.Kvs[0].Value) != "new" || ga.Kvs[0].ModRevision != rev || ga.Kvs[0].Version != 2 {
		t.Errorf("get a after put a in the same txn: %v, want value new at revision %d version 2", ga.GetKvs(), rev)
	}
	if gb := resp.Responses[3].GetResponseRange(); len(gb.GetKvs()) != 0 || gb.GetCount() != 0 {
		t.Errorf("get b after delete b in the same txn: %v count %d, want nothing", gb.GetKvs(), gb.GetCount())
	}
	gp := resp.Responses[5].GetResponseRange()
	wantKeys(t, "prefix after a put in the same txn", gp.GetKvs(), "p/x", "p/y")
	if gp.GetCount() != 2 {
		t.Errorf("prefix count %d, want 2", gp.GetCount())
	}
}
