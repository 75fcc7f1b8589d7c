package txn

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdgo/etcd/internal/mvcc"
)

func cmpOf(key, end string, target pb.Compare_CompareTarget, res pb.Compare_CompareResult, operand any) *pb.Compare {
	c := &pb.Compare{Key: []byte(key), RangeEnd: []byte(end), Target: target, Result: res}
	switch v := operand.(type) {
	case string:
		c.TargetUnion = &pb.Compare_Value{Value: []byte(v)}
	case int64:
		switch target {
		case pb.Compare_VERSION:
			c.TargetUnion = &pb.Compare_Version{Version: v}
		case pb.Compare_CREATE:
			c.TargetUnion = &pb.Compare_CreateRevision{CreateRevision: v}
		case pb.Compare_MOD:
			c.TargetUnion = &pb.Compare_ModRevision{ModRevision: v}
		case pb.Compare_LEASE:
			c.TargetUnion = &pb.Compare_Lease{Lease: v}
		}
	}
	return c
}

func TestCompare(t *testing.T) {
	const (
		eq  = pb.Compare_EQUAL
		ne  = pb.Compare_NOT_EQUAL
		gt  = pb.Compare_GREATER
		lt  = pb.Compare_LESS
		ver = pb.Compare_VERSION
		crt = pb.Compare_CREATE
		mod = pb.Compare_MOD
		val = pb.Compare_VALUE
		lse = pb.Compare_LEASE
	)
	// Data: rev 2 a=10 (lease 100), rev 3 b=20, rev 4 a=11 (lease 100),
	// rev 5 c=30 (lease 200), rev 6 gone=x, rev 7 delete gone.
	// a{create 2, mod 4, version 2, lease 100} b{3, 3, 1, 0} c{5, 5, 1, 200}.
	tests := []struct {
		name string
		cmps []*pb.Compare
		want bool
	}{
		{"no compare", nil, true},
		{"version equal", []*pb.Compare{cmpOf("a", "", ver, eq, int64(2))}, true},
		{"version equal false", []*pb.Compare{cmpOf("a", "", ver, eq, int64(1))}, false},
		{"version not equal", []*pb.Compare{cmpOf("a", "", ver, ne, int64(1))}, true},
		{"version greater", []*pb.Compare{cmpOf("a", "", ver, gt, int64(1))}, true},
		{"version greater false", []*pb.Compare{cmpOf("a", "", ver, gt, int64(2))}, false},
		{"version less", []*pb.Compare{cmpOf("a", "", ver, lt, int64(3))}, true},
		{"version less false", []*pb.Compare{cmpOf("a", "", ver, lt, int64(2))}, false},
		{"create equal", []*pb.Compare{cmpOf("a", "", crt, eq, int64(2))}, true},
		{"create greater false", []*pb.Compare{cmpOf("a", "", crt, gt, int64(2))}, false},
		{"create less", []*pb.Compare{cmpOf("b", "", crt, lt, int64(4))}, true},
		{"mod equal", []*pb.Compare{cmpOf("a", "", mod, eq, int64(4))}, true},
		{"mod not equal false", []*pb.Compare{cmpOf("a", "", mod, ne, int64(4))}, false},
		{"mod greater", []*pb.Compare{cmpOf("a", "", mod, gt, int64(3))}, true},
		{"mod less false", []*pb.Compare{cmpOf("a", "", mod, lt, int64(4))}, false},
		{"value equal", []*pb.Compare{cmpOf("a", "", val, eq, "11")}, true},
		{"value equal false", []*pb.Compare{cmpOf("a", "", val, eq, "10")}, false},
		{"value not equal", []*pb.Compare{cmpOf("a", "", val, ne, "10")}, true},
		{"value greater (bytes)", []*pb.Compare{cmpOf("a", "", val, gt, "100")}, true},
		{"value less (bytes)", []*pb.Compare{cmpOf("a", "", val, lt, "2")}, true},
		{"value less false", []*pb.Compare{cmpOf("a", "", val, lt, "11")}, false},
		{"lease equal", []*pb.Compare{cmpOf("a", "", lse, eq, int64(100))}, true},
		{"lease equal zero", []*pb.Compare{cmpOf("b", "", lse, eq, int64(0))}, true},
		{"lease greater", []*pb.Compare{cmpOf("c", "", lse, gt, int64(100))}, true},
		{"lease less false", []*pb.Compare{cmpOf("c", "", lse, lt, int64(200))}, false},
		{"operand of another target is zero", []*pb.Compare{cmpOf("a", "", ver, gt, "xx")}, true},

		// A missing (or deleted) key compares as zero, except on VALUE.
		{"missing version equal 0", []*pb.Compare{cmpOf("zz", "", ver, eq, int64(0))}, true},
		{"missing create equal 0", []*pb.Compare{cmpOf("zz", "", crt, eq, int64(0))}, true},
		{"missing mod less 1", []*pb.Compare{cmpOf("zz", "", mod, lt, int64(1))}, true},
		{"missing lease equal 0", []*pb.Compare{cmpOf("zz", "", lse, eq, int64(0))}, true},
		{"missing version greater 0", []*pb.Compare{cmpOf("zz", "", ver, gt, int64(0))}, false},
		{"missing value equal empty", []*pb.Compare{cmpOf("zz", "", val, eq, "")}, false},
		{"missing value not equal", []*pb.Compare{cmpOf("zz", "", val, ne, "x")}, false},
		{"missing value less", []*pb.Compare{cmpOf("zz", "", val, lt, "x")}, false},
		{"deleted key version 0", []*pb.Compare{cmpOf("gone", "", ver, eq, int64(0))}, true},
		{"deleted key value", []*pb.Compare{cmpOf("gone", "", val, eq, "x")}, false},

		// With range_end every key in range must satisfy the compare.
		{"range all satisfy", []*pb.Compare{cmpOf("a", "d", ver, gt, int64(0))}, true},
		{"range one fails", []*pb.Compare{cmpOf("a", "d", ver, eq, int64(1))}, false},
		{"range subset satisfies", []*pb.Compare{cmpOf("b", "d", ver, eq, int64(1))}, true},
		{"from key", []*pb.Compare{cmpOf("b", "\x00", mod, gt, int64(2))}, true},
		{"from key one fails", []*pb.Compare{cmpOf("a", "\x00", lse, ne, int64(0))}, false},
		{"all keys", []*pb.Compare{cmpOf("\x00", "\x00", crt, lt, int64(6))}, true},
		{"range values", []*pb.Compare{cmpOf("a", "d", val, gt, "1")}, true},
		{"empty range compares as zero", []*pb.Compare{cmpOf("x", "z", crt, eq, int64(0))}, true},
		{"empty range value fails", []*pb.Compare{cmpOf("x", "z", val, ne, "v")}, false},

		// Compares are ANDed.
		{"all compares hold", []*pb.Compare{cmpOf("a", "", ver, eq, int64(2)), cmpOf("b", "", val, eq, "20")}, true},
		{"one compare fails", []*pb.Compare{cmpOf("a", "", ver, eq, int64(2)), cmpOf("b", "", val, eq, "21")}, false},
	}
	forEachStore(t, func(t *testing.T, s testStore) {
		mustPut(t, s, "a", "10", 100)
		mustPut(t, s, "b", "20", 0)
		mustPut(t, s, "a", "11", 100)
		mustPut(t, s, "c", "30", 200)
		mustPut(t, s, "gone", "x", 0)
		mustDelete(t, s, "gone", "")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp, err := Txn(context.Background(), s, testLeases, &pb.TxnRequest{
					Compare: tt.cmps,
					Success: ops(getOp("a")),
					Failure: ops(getOp("b"), getOp("c")),
				})
				if err != nil {
					t.Fatal(err)
				}
				if resp.Succeeded != tt.want {
					t.Errorf("succeeded = %v, want %v", resp.Succeeded, tt.want)
				}
				wantN := 2
				if tt.want {
					wantN = 1
				}
				if len(resp.Responses) != wantN {
					t.Errorf("%d responses, want %d (branch not taken?)", len(resp.Responses), wantN)
				}
			})
		}
	})
}

func TestTxnBranches(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		ctx := context.Background()
		mustPut(t, s, "k", "v0", 0)
		mustPut(t, s, "old", "o", 0)
		before := storeRev(s)
		req := &pb.TxnRequest{
			Compare: []*pb.Compare{cmpOf("k", "", pb.Compare_VALUE, pb.Compare_EQUAL, "v0")},
			Success: ops(
				putReqOp(&pb.PutRequest{Key: []byte("k"), Value: []byte("v1"), PrevKv: true}),
				rangeOp(&pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte{0}}),
				putReqOp(&pb.PutRequest{Key: []byte("n"), Value: []byte("new"), Lease: 100}),
				&pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte("old"), PrevKv: true}}},
			),
			Failure: ops(putOp("f", "1")),
		}
		resp, err := Txn(ctx, s, testLeases, req)
		if err != nil {
			t.Fatal(err)
		}
		rev := before + 1
		if !resp.Succeeded || resp.Header.Revision != rev || storeRev(s) != rev {
			t.Fatalf("succeeded %v, header %v, store %d; want true, %d", resp.Succeeded, resp.Header, storeRev(s), rev)
		}
		if len(resp.Responses) != 4 {
			t.Fatalf("%d responses, want 4", len(resp.Responses))
		}
		p := resp.Responses[0].GetResponsePut()
		if p == nil || p.Header.GetRevision() != rev || string(p.PrevKv.GetValue()) != "v0" {
			t.Errorf("put response %v", resp.Responses[0])
		}
		r := resp.Responses[1].GetResponseRange()
		// Like etcd, the range sees the put before it (k=v1 at the txn's
		// revision) but not the put of n nor the delete of old after it.
		if r == nil || r.Header.GetRevision() != rev || r.Count != 2 || !slices.Equal(keysOf(r.Kvs), []string{"k", "old"}) ||
			string(r.Kvs[0].Value) != "v1" || r.Kvs[0].ModRevision != rev || r.Kvs[0].Version != 2 || string(r.Kvs[1].Value) != "o" {
			t.Errorf("range response %v, want k=v1 at revision %d (the txn's own put) and old=o", resp.Responses[1], rev)
		}
		if p := resp.Responses[2].GetResponsePut(); p == nil || p.Header.GetRevision() != rev || p.PrevKv != nil {
			t.Errorf("second put response %v", resp.Responses[2])
		}
		d := resp.Responses[3].GetResponseDeleteRange()
		if d == nil || d.Header.GetRevision() != rev || d.Deleted != 1 || len(d.PrevKvs) != 1 {
			t.Errorf("delete response %v", resp.Responses[3])
		}
		// All writes share the txn's revision.
		for _, k := range []string{"k", "n"} {
			if kv := get(t, s, k); kv.GetModRevision() != rev {
				t.Errorf("%s = %v, want mod revision %d", k, kv, rev)
			}
		}
		if kv := get(t, s, "n"); kv.Lease != 100 || string(kv.Value) != "new" {
			t.Errorf("n = %v", kv)
		}
		if get(t, s, "old") != nil || get(t, s, "f") != nil {
			t.Errorf("old or f exists after the success branch")
		}

		// Now the compare fails: the failure branch runs.
		resp, err = Txn(ctx, s, testLeases, req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Succeeded || resp.Header.Revision != rev+1 || len(resp.Responses) != 1 || resp.Responses[0].GetResponsePut().GetHeader().GetRevision() != rev+1 {
			t.Errorf("failure branch response %v", resp)
		}
		if kv := get(t, s, "f"); kv == nil || string(get(t, s, "k").Value) != "v1" {
			t.Errorf("f = %v, k = %v after the failure branch", kv, get(t, s, "k"))
		}
	})
}

func TestTxnRevisions(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		ctx := context.Background()
		mustPut(t, s, "k", "v", 0)
		tests := []struct {
			name  string
			r     *pb.TxnRequest
			wrote bool
		}{
			{"empty", &pb.TxnRequest{}, false},
			{"read only", &pb.TxnRequest{Success: ops(getOp("k"))}, false},
			{"write txn writing nothing", &pb.TxnRequest{Success: ops(delOp("missing", ""), getOp("k"))}, false},
			{"write in branch not taken", &pb.TxnRequest{Compare: []*pb.Compare{cmpVersion("k", pb.Compare_EQUAL, 0)}, Success: ops(putOp("x", "1"))}, false},
			{"write", &pb.TxnRequest{Success: ops(putOp("x", "1"))}, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := storeRev(s)
				resp, err := Txn(ctx, s, nil, tt.r)
				if err != nil {
					t.Fatal(err)
				}
				want := before
				if tt.wrote {
					want++
				}
				if resp.Header.Revision != want || storeRev(s) != want {
					t.Errorf("header revision %d, store %d, want %d", resp.Header.Revision, storeRev(s), want)
				}
				for _, op := range resp.Responses {
					if r := op.GetResponseRange(); r != nil && r.Header.Revision != before {
						t.Errorf("range header revision %d, want %d", r.Header.Revision, before)
					}
					if d := op.GetResponseDeleteRange(); d != nil && (d.Header.Revision != before || d.Deleted != 0) {
						t.Errorf("delete response %v, want revision %d", d, before)
					}
				}
			})
		}
	})
}

func TestNestedTxn(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		ctx := context.Background()
		mustPut(t, s, "k", "v", 0)
		before := storeRev(s)
		rev := before + 1
		req := &pb.TxnRequest{
			Compare: []*pb.Compare{cmpVersion("k", pb.Compare_EQUAL, 1)},
			Success: ops(
				putOp("x", "1"),
				// Nested compares see the store before the txn: x does not
				// exist for them although the put above ran first.
				txnOp(&pb.TxnRequest{
					Compare: []*pb.Compare{cmpVersion("x", pb.Compare_EQUAL, 0)},
					Success: ops(putOp("y", "1"), getOp("k")),
					Failure: ops(putOp("z", "1")),
				}),
				txnOp(&pb.TxnRequest{
					Compare: []*pb.Compare{cmpVersion("k", pb.Compare_GREATER, 5)},
					Success: ops(putOp("w", "1")),
					Failure: ops(txnOp(&pb.TxnRequest{Success: ops(putOp("deep", "1"))}), getOp("k")),
				}),
			),
		}
		resp, err := Txn(ctx, s, nil, req)
		if err != nil {
			t.Fatal(err)
		}
		if !resp.Succeeded || resp.Header.Revision != rev || len(resp.Responses) != 3 {
			t.Fatalf("txn response %v", resp)
		}
		n1 := resp.Responses[1].GetResponseTxn()
		if n1 == nil || !n1.Succeeded || len(n1.Responses) != 2 {
			t.Fatalf("first nested response %v", resp.Responses[1])
		}
		// Nested txn responses carry an empty header, as in etcd; the
		// responses inside them carry their revision.
		if n1.Header == nil || n1.Header.Revision != 0 {
			t.Errorf("nested header %v, want empty", n1.Header)
		}
		if p := n1.Responses[0].GetResponsePut(); p.GetHeader().GetRevision() != rev {
			t.Errorf("nested put response %v", n1.Responses[0])
		}
		if r := n1.Responses[1].GetResponseRange(); r.GetHeader().GetRevision() != rev || r.GetCount() != 1 {
			t.Errorf("nested range response %v", n1.Responses[1])
		}
		n2 := resp.Responses[2].GetResponseTxn()
		if n2 == nil || n2.Succeeded || len(n2.Responses) != 2 {
			t.Fatalf("second nested response %v", resp.Responses[2])
		}
		n3 := n2.Responses[0].GetResponseTxn()
		if n3 == nil || !n3.Succeeded || len(n3.Responses) != 1 || n3.Responses[0].GetResponsePut() == nil {
			t.Errorf("doubly nested response %v", n2.Responses[0])
		}
		if n2.Responses[1].GetResponseRange() == nil {
			t.Errorf("range after doubly nested txn: %v", n2.Responses[1])
		}
		for _, k := range []string{"x", "y", "deep"} {
			if kv := get(t, s, k); kv.GetModRevision() != rev {
				t.Errorf("%s = %v, want mod revision %d", k, kv, rev)
			}
		}
		for _, k := range []string{"z", "w"} {
			if kv := get(t, s, k); kv != nil {
				t.Errorf("%s = %v from a branch not taken", k, kv)
			}
		}
	})
}

// TestTxnErrors checks that a txn whose chosen branch cannot run returns the
// error and writes nothing, even with writes before the failing op.
func TestTxnErrors(t *testing.T) {
	tests := []struct {
		name string
		r    *pb.TxnRequest
		want error
	}{
		{"ignore value of missing key", &pb.TxnRequest{Success: ops(putOp("a", "1"), putReqOp(&pb.PutRequest{Key: []byte("missing"), IgnoreValue: true}))}, rpctypes.ErrGRPCKeyNotFound},
		{"ignore lease of missing key", &pb.TxnRequest{Success: ops(putOp("a", "1"), putReqOp(&pb.PutRequest{Key: []byte("missing"), Value: []byte("v"), IgnoreLease: true}))}, rpctypes.ErrGRPCKeyNotFound},
		{"lease not found", &pb.TxnRequest{Success: ops(putOp("a", "1"), putReqOp(&pb.PutRequest{Key: []byte("b"), Value: []byte("v"), Lease: 999}))}, rpctypes.ErrGRPCLeaseNotFound},
		{"lease not found in failure branch", &pb.TxnRequest{Compare: []*pb.Compare{cmpVersion("k", pb.Compare_EQUAL, 0)}, Failure: ops(putOp("a", "1"), putReqOp(&pb.PutRequest{Key: []byte("b"), Lease: 999}))}, rpctypes.ErrGRPCLeaseNotFound},
		{"lease not found in nested txn", &pb.TxnRequest{Success: ops(putOp("a", "1"), txnOp(&pb.TxnRequest{Success: ops(putReqOp(&pb.PutRequest{Key: []byte("b"), Lease: 999}))}))}, rpctypes.ErrGRPCLeaseNotFound},
		{"future revision", &pb.TxnRequest{Success: ops(putOp("a", "1"), rangeOp(&pb.RangeRequest{Key: []byte("k"), Revision: 1000}))}, rpctypes.ErrGRPCFutureRev},
		{"future revision in nested txn", &pb.TxnRequest{Success: ops(putOp("a", "1"), txnOp(&pb.TxnRequest{Failure: ops(getOp("k")), Success: ops(rangeOp(&pb.RangeRequest{Key: []byte("k"), Revision: 1000}))}))}, rpctypes.ErrGRPCFutureRev},
		{"read-only future revision", &pb.TxnRequest{Success: ops(getOp("k"), rangeOp(&pb.RangeRequest{Key: []byte("k"), Revision: 1000}))}, rpctypes.ErrGRPCFutureRev},
		{"invalid sort option", &pb.TxnRequest{Success: ops(putOp("a", "1"), rangeOp(&pb.RangeRequest{Key: []byte("k"), SortOrder: 7}))}, rpctypes.ErrGRPCInvalidSortOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, s testStore) {
				mustPut(t, s, "k", "v", 0)
				before := storeRev(s)
				_, err := Txn(context.Background(), s, testLeases, tt.r)
				wantErr(t, err, tt.want)
				if rev := storeRev(s); rev != before {
					t.Errorf("failed txn moved the store from %d to %d", before, rev)
				}
				if kv := get(t, s, "a"); kv != nil {
					t.Errorf("failed txn wrote a = %v", kv)
				}
			})
		})
	}
}

// TestTxnBranchNotTakenNotChecked checks that ops of the branch not taken
// are not checked: they would fail, but do not run.
func TestTxnBranchNotTakenNotChecked(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		resp, err := Txn(context.Background(), s, testLeases, &pb.TxnRequest{
			Success: ops(putOp("a", "1")),
			Failure: ops(putReqOp(&pb.PutRequest{Key: []byte("missing"), IgnoreValue: true, Lease: 999})),
		})
		if err != nil || !resp.Succeeded || get(t, s, "a") == nil {
			t.Fatalf("resp %v, err %v", resp, err)
		}
	})
}

// TestTxnRangeSeesOwnWrites checks etcd's read-your-writes in one txn: a
// range after a put sees the new value at the txn's revision, a range after
// a delete no longer sees the key, and other readers see none of it before
// the txn ends.
func TestTxnRangeSeesOwnWrites(t *testing.T) {
	tests := []struct {
		name    string
		ops     []*pb.RequestOp
		checked bool // passes CheckTxn
		// want is the range response's key=value@mod/create/version list.
		want string
	}{
		{"put existing then range", ops(putOp("a", "1"), getOp("a")), true, "a=1@R/2/v2"},
		{"put new then range", ops(putOp("n", "1"), getOp("n")), true, "n=1@R/R/v1"},
		{"put then prefix range", ops(putOp("a2", "x"), rangeOp(&pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte("b")})), true, "a=0@2/2/v1 a2=x@R/R/v1"},
		{"delete then range", ops(delOp("a", ""), getOp("a")), true, ""},
		{"delete range then range", ops(delOp("a", "c"), rangeOp(&pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte{0}})), true, "c=0@4/4/v1"},
		// CheckTxn rejects these; the store still behaves like etcd's.
		{"delete then put then range", ops(delOp("a", ""), putOp("a", "new"), getOp("a")), false, "a=new@R/R/v1"},
		{"put twice then range", ops(putOp("a", "1"), putOp("a", "2"), getOp("a")), false, "a=2@R/2/v3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, s testStore) {
				ctx := context.Background()
				mustPut(t, s, "a", "0", 0) // rev 2
				mustPut(t, s, "b", "0", 0) // rev 3
				mustPut(t, s, "c", "0", 0) // rev 4
				rev := storeRev(s) + 1
				req := &pb.TxnRequest{Success: tt.ops}
				if err := CheckTxn(req, 128); (err == nil) != tt.checked {
					t.Fatalf("CheckTxn = %v, want passing %v", err, tt.checked)
				}
				before := s.Read()
				endBefore := sync.OnceFunc(before.End) // a real store cannot close under it
				t.Cleanup(endBefore)
				resp, err := Txn(ctx, s, nil, req)
				if err != nil {
					t.Fatal(err)
				}
				if resp.Header.Revision != rev || len(resp.Responses) != len(tt.ops) {
					t.Fatalf("txn response %v, want revision %d", resp, rev)
				}
				r := resp.Responses[len(tt.ops)-1].GetResponseRange()
				got := kvList(r.GetKvs())
				want := strings.ReplaceAll(tt.want, "R", strconv.FormatInt(rev, 10))
				if strings.Join(got, " ") != want || r.GetCount() != int64(len(got)) || r.GetHeader().GetRevision() != rev {
					t.Errorf("range in txn = %q (count %d, revision %d), want %q at %d", got, r.GetCount(), r.GetHeader().GetRevision(), want, rev)
				}
				// A reader opened before the txn still sees the old state.
				rr, err := before.Range(ctx, []byte("a"), []byte{0}, mvcc.RangeOptions{})
				endBefore()
				if err != nil || rr.Count != 3 || string(rr.KVs[0].Value) != "0" || rr.KVs[0].ModRevision != 2 {
					t.Errorf("reader opened before the txn: %v %v", rr, err)
				}
				// After the txn the same range at the store's revision sees
				// what the range inside the txn saw.
				after, err := ApplyRange(ctx, s, tt.ops[len(tt.ops)-1].GetRequestRange())
				if err != nil {
					t.Fatal(err)
				}
				if got2 := kvList(after.Kvs); !slices.Equal(got2, got) {
					t.Errorf("range after the txn = %q, inside it %q", got2, got)
				}
			})
		})
	}
}

// kvList formats kvs as key=value@mod/create/version.
func kvList(kvs []*mvccpb.KeyValue) []string {
	var out []string
	for _, kv := range kvs {
		out = append(out, fmt.Sprintf("%s=%s@%d/%d/v%d", kv.Key, kv.Value, kv.ModRevision, kv.CreateRevision, kv.Version))
	}
	return out
}
