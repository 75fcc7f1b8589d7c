package txn

import (
	"context"
	"slices"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

func TestPut(t *testing.T) {
	type kvState struct {
		value   string
		lease   int64
		version int64
	}
	tests := []struct {
		name     string
		r        *pb.PutRequest
		lc       LeaseChecker
		want     error
		wantPrev *kvState // with prev_kv
		wantKV   *kvState // the key after the put (nil: as before)
	}{
		{"new key", &pb.PutRequest{Key: []byte("new"), Value: []byte("v")}, testLeases, nil, nil, &kvState{"v", 0, 1}},
		{"overwrite", &pb.PutRequest{Key: []byte("k"), Value: []byte("v2")}, testLeases, nil, nil, &kvState{"v2", 0, 2}},
		{"prev kv", &pb.PutRequest{Key: []byte("k"), Value: []byte("v2"), PrevKv: true}, testLeases, nil, &kvState{"v1", 100, 1}, &kvState{"v2", 0, 2}},
		{"prev kv of new key", &pb.PutRequest{Key: []byte("new"), Value: []byte("v"), PrevKv: true}, testLeases, nil, nil, &kvState{"v", 0, 1}},
		{"with lease", &pb.PutRequest{Key: []byte("k"), Value: []byte("v2"), Lease: 200}, testLeases, nil, nil, &kvState{"v2", 200, 2}},
		{"lease not found", &pb.PutRequest{Key: []byte("k"), Value: []byte("v2"), Lease: 300}, testLeases, rpctypes.ErrGRPCLeaseNotFound, nil, nil},
		{"lease with no lease checker", &pb.PutRequest{Key: []byte("k"), Value: []byte("v2"), Lease: 100}, nil, rpctypes.ErrGRPCLeaseNotFound, nil, nil},
		{"lease with NoLeases", &pb.PutRequest{Key: []byte("k"), Value: []byte("v2"), Lease: 100}, NoLeases{}, rpctypes.ErrGRPCLeaseNotFound, nil, nil},
		{"no lease with NoLeases", &pb.PutRequest{Key: []byte("k"), Value: []byte("v2")}, NoLeases{}, nil, nil, &kvState{"v2", 0, 2}},
		{"ignore value", &pb.PutRequest{Key: []byte("k"), IgnoreValue: true, Lease: 200}, testLeases, nil, nil, &kvState{"v1", 200, 2}},
		{"ignore value drops lease", &pb.PutRequest{Key: []byte("k"), IgnoreValue: true}, testLeases, nil, nil, &kvState{"v1", 0, 2}},
		{"ignore value with prev kv", &pb.PutRequest{Key: []byte("k"), IgnoreValue: true, PrevKv: true}, testLeases, nil, &kvState{"v1", 100, 1}, &kvState{"v1", 0, 2}},
		{"ignore value of missing key", &pb.PutRequest{Key: []byte("new"), IgnoreValue: true}, testLeases, rpctypes.ErrGRPCKeyNotFound, nil, nil},
		{"ignore lease", &pb.PutRequest{Key: []byte("k"), Value: []byte("v2"), IgnoreLease: true}, testLeases, nil, nil, &kvState{"v2", 100, 2}},
		{"ignore lease of missing key", &pb.PutRequest{Key: []byte("new"), Value: []byte("v"), IgnoreLease: true}, testLeases, rpctypes.ErrGRPCKeyNotFound, nil, nil},
		{"ignore both", &pb.PutRequest{Key: []byte("k"), IgnoreValue: true, IgnoreLease: true}, testLeases, nil, nil, &kvState{"v1", 100, 2}},
		{"ignore both, missing key", &pb.PutRequest{Key: []byte("gone"), IgnoreValue: true, IgnoreLease: true}, testLeases, rpctypes.ErrGRPCKeyNotFound, nil, nil},
		{"ignore value of deleted key", &pb.PutRequest{Key: []byte("gone"), IgnoreValue: true}, testLeases, rpctypes.ErrGRPCKeyNotFound, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, s testStore) {
				mustPut(t, s, "k", "v1", 100)
				mustPut(t, s, "gone", "x", 0)
				mustDelete(t, s, "gone", "")
				before := storeRev(s)
				key := string(tt.r.Key)
				old := get(t, s, key)

				resp, err := ApplyPut(context.Background(), s, tt.lc, tt.r)
				wantErr(t, err, tt.want)
				if err != nil {
					if rev := storeRev(s); rev != before {
						t.Errorf("failed put moved the store from %d to %d", before, rev)
					}
					if now := get(t, s, key); now.GetModRevision() != old.GetModRevision() {
						t.Errorf("failed put changed %q: %v", key, now)
					}
					return
				}
				if resp.Header.GetRevision() != before+1 || storeRev(s) != before+1 {
					t.Errorf("header revision %d, store %d, want %d", resp.Header.GetRevision(), storeRev(s), before+1)
				}
				checkKV := func(what string, kv *mvccpb.KeyValue, want *kvState) {
					t.Helper()
					if want == nil {
						if kv != nil {
							t.Errorf("%s = %v, want none", what, kv)
						}
						return
					}
					if kv == nil || string(kv.Value) != want.value || kv.Lease != want.lease || kv.Version != want.version {
						t.Errorf("%s = %v, want %+v", what, kv, *want)
					}
				}
				checkKV("prev kv", resp.PrevKv, tt.wantPrev)
				now := get(t, s, key)
				checkKV("key", now, tt.wantKV)
				if now.ModRevision != before+1 {
					t.Errorf("mod revision %d, want %d", now.ModRevision, before+1)
				}
			})
		})
	}
}

// TestPutInTxn checks Put and DeleteRange on a caller's write txn: writes
// share the txn's revision and a failed Put writes nothing.
func TestPutInTxn(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		mustPut(t, s, "a", "0", 0)
		mustPut(t, s, "d", "0", 0)
		before := storeRev(s)
		ctx := context.Background()
		tw := s.Write()
		p1, err := Put(ctx, tw, testLeases, &pb.PutRequest{Key: []byte("a"), Value: []byte("1"), Lease: 100})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Put(ctx, tw, testLeases, &pb.PutRequest{Key: []byte("b"), Value: []byte("1"), Lease: 7}); err != rpctypes.ErrGRPCLeaseNotFound { //nolint:errorlint
			t.Fatalf("put with unknown lease: %v", err)
		}
		p2, err := Put(ctx, tw, testLeases, &pb.PutRequest{Key: []byte("c"), Value: []byte("1")})
		if err != nil {
			t.Fatal(err)
		}
		d, err := DeleteRange(ctx, tw, &pb.DeleteRangeRequest{Key: []byte("d"), PrevKv: true})
		if err != nil {
			t.Fatal(err)
		}
		r, err := Range(ctx, tw, &pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte{0}})
		if err != nil {
			t.Fatal(err)
		}
		tw.End()
		for _, rev := range []int64{p1.Header.Revision, p2.Header.Revision, d.Header.Revision, r.Header.Revision} {
			if rev != before+1 {
				t.Errorf("revision in txn %d, want %d", rev, before+1)
			}
		}
		if d.Deleted != 1 || len(d.PrevKvs) != 1 || string(d.PrevKvs[0].Key) != "d" {
			t.Errorf("delete = %v", d)
		}
		// Like etcd, reads in a write txn see its earlier writes: a=1 and c
		// at the txn's revision, d deleted.
		if got := keysOf(r.Kvs); !slices.Equal(got, []string{"a", "c"}) || r.Count != 2 ||
			string(r.Kvs[0].Value) != "1" || r.Kvs[0].ModRevision != before+1 || r.Kvs[0].Version != 2 || r.Kvs[0].Lease != 100 ||
			string(r.Kvs[1].Value) != "1" || r.Kvs[1].ModRevision != before+1 || r.Kvs[1].CreateRevision != before+1 {
			t.Errorf("kvs in txn = %v, want a=1 and c=1 at revision %d", r.Kvs, before+1)
		}
		if get(t, s, "d") != nil || get(t, s, "c") == nil {
			t.Errorf("after txn: d = %v, c = %v", get(t, s, "d"), get(t, s, "c"))
		}
		if kv := get(t, s, "a"); string(kv.Value) != "1" || kv.Lease != 100 || kv.Version != 2 {
			t.Errorf("a = %v after txn, want 1, lease 100, version 2", kv)
		}
		if storeRev(s) != before+1 || get(t, s, "b") != nil {
			t.Errorf("store at %d (want %d), b = %v", storeRev(s), before+1, get(t, s, "b"))
		}
	})
}

func TestDeleteRange(t *testing.T) {
	tests := []struct {
		name        string
		key, end    string
		prevKV      bool
		wantDeleted []string
	}{
		{"single key", "b", "", false, []string{"b"}},
		{"single key prev kv", "b", "", true, []string{"b"}},
		{"missing key", "zz", "", true, nil},
		{"deleted key", "gone", "", true, nil},
		{"interval", "a", "c", true, []string{"a", "b"}},
		{"prefix", "foo/", "foo0", true, []string{"foo/1", "foo/2"}},
		{"from key", "c", "\x00", true, []string{"c", "foo/1", "foo/2"}},
		{"all", "\x00", "\x00", true, []string{"a", "b", "c", "foo/1", "foo/2"}},
		{"empty interval", "c", "a", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, s testStore) {
				for _, k := range []string{"a", "b", "c", "foo/1", "foo/2", "gone"} {
					mustPut(t, s, k, "v-"+k, 0)
				}
				mustDelete(t, s, "gone", "")
				before := storeRev(s)
				resp, err := ApplyDeleteRange(context.Background(), s, &pb.DeleteRangeRequest{Key: []byte(tt.key), RangeEnd: []byte(tt.end), PrevKv: tt.prevKV})
				if err != nil {
					t.Fatal(err)
				}
				if resp.Deleted != int64(len(tt.wantDeleted)) {
					t.Errorf("deleted = %d, want %d", resp.Deleted, len(tt.wantDeleted))
				}
				wantRev := before
				if len(tt.wantDeleted) > 0 {
					wantRev++
				}
				if resp.Header.GetRevision() != wantRev || storeRev(s) != wantRev {
					t.Errorf("header revision %d, store %d, want %d", resp.Header.GetRevision(), storeRev(s), wantRev)
				}
				if tt.prevKV {
					if got := keysOf(resp.PrevKvs); !slices.Equal(got, append([]string{}, tt.wantDeleted...)) {
						t.Errorf("prev kvs = %q, want %q", got, tt.wantDeleted)
					}
					for _, kv := range resp.PrevKvs {
						if string(kv.Value) != "v-"+string(kv.Key) {
							t.Errorf("prev kv %v", kv)
						}
					}
				} else if len(resp.PrevKvs) != 0 {
					t.Errorf("prev kvs without prev_kv: %v", resp.PrevKvs)
				}
				for _, k := range tt.wantDeleted {
					if kv := get(t, s, k); kv != nil {
						t.Errorf("%q still there: %v", k, kv)
					}
				}
			})
		})
	}
}
