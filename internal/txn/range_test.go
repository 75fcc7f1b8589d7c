package txn

import (
	"context"
	"slices"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// rangeData writes, from an empty store:
//
//	rev 2 a=1, rev 3 b=3, rev 4 c=2, rev 5 a=4, rev 6 d=0, rev 7 b=5,
//	rev 8 b=6, rev 9 e=9, rev 10 delete e
//
// leaving a{val 4, create 2, mod 5, ver 2} b{6, 3, 8, 3} c{2, 4, 4, 1}
// d{0, 6, 6, 1}.
func rangeData(t *testing.T, s Store) {
	t.Helper()
	if rev := storeRev(s); rev != 1 {
		t.Fatalf("empty store at revision %d, want 1", rev)
	}
	for _, p := range [][2]string{{"a", "1"}, {"b", "3"}, {"c", "2"}, {"a", "4"}, {"d", "0"}, {"b", "5"}, {"b", "6"}, {"e", "9"}} {
		mustPut(t, s, p[0], p[1], 0)
	}
	mustDelete(t, s, "e", "")
	if rev := storeRev(s); rev != 10 {
		t.Fatalf("store at revision %d, want 10", rev)
	}
}

func TestRange(t *testing.T) {
	all := func(r *pb.RangeRequest) *pb.RangeRequest {
		r.Key, r.RangeEnd = []byte("a"), []byte{0}
		return r
	}
	tests := []struct {
		name      string
		r         *pb.RangeRequest
		wantKeys  []string
		wantVals  []string // nil: not checked
		wantCount int64
		wantMore  bool
	}{
		{"single key", &pb.RangeRequest{Key: []byte("b")}, []string{"b"}, []string{"6"}, 1, false},
		{"missing key", &pb.RangeRequest{Key: []byte("zz")}, []string{}, nil, 0, false},
		{"deleted key", &pb.RangeRequest{Key: []byte("e")}, []string{}, nil, 0, false},
		{"interval", &pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte("c")}, []string{"a", "b"}, []string{"4", "6"}, 2, false},
		{"prefix", &pb.RangeRequest{Key: []byte("b"), RangeEnd: []byte("c")}, []string{"b"}, nil, 1, false},
		{"from key", &pb.RangeRequest{Key: []byte("b"), RangeEnd: []byte{0}}, []string{"b", "c", "d"}, nil, 3, false},
		{"all keys", &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}}, []string{"a", "b", "c", "d"}, nil, 4, false},
		{"limit", all(&pb.RangeRequest{Limit: 2}), []string{"a", "b"}, nil, 4, true},
		{"limit equal to count", all(&pb.RangeRequest{Limit: 4}), []string{"a", "b", "c", "d"}, nil, 4, false},
		{"limit above count", all(&pb.RangeRequest{Limit: 10}), []string{"a", "b", "c", "d"}, nil, 4, false},
		{"negative limit", all(&pb.RangeRequest{Limit: -1}), []string{"a", "b", "c", "d"}, nil, 4, false},
		{"old revision", all(&pb.RangeRequest{Revision: 4}), []string{"a", "b", "c"}, []string{"1", "3", "2"}, 3, false},
		{"revision with deleted key", all(&pb.RangeRequest{Revision: 9}), []string{"a", "b", "c", "d", "e"}, []string{"4", "6", "2", "0", "9"}, 5, false},
		{"keys only", all(&pb.RangeRequest{KeysOnly: true}), []string{"a", "b", "c", "d"}, []string{"", "", "", ""}, 4, false},
		{"count only", all(&pb.RangeRequest{CountOnly: true}), []string{}, nil, 4, false},
		{"count only with limit", all(&pb.RangeRequest{CountOnly: true, Limit: 1}), []string{}, nil, 4, false},
		{"sort key ascend", all(&pb.RangeRequest{SortOrder: pb.RangeRequest_ASCEND}), []string{"a", "b", "c", "d"}, nil, 4, false},
		{"sort key descend", all(&pb.RangeRequest{SortOrder: pb.RangeRequest_DESCEND}), []string{"d", "c", "b", "a"}, nil, 4, false},
		{"sort key descend limit", all(&pb.RangeRequest{SortOrder: pb.RangeRequest_DESCEND, Limit: 1}), []string{"d"}, nil, 4, true},
		{"sort value none means ascend", all(&pb.RangeRequest{SortTarget: pb.RangeRequest_VALUE}), []string{"d", "c", "a", "b"}, []string{"0", "2", "4", "6"}, 4, false},
		{"sort value ascend", all(&pb.RangeRequest{SortTarget: pb.RangeRequest_VALUE, SortOrder: pb.RangeRequest_ASCEND}), []string{"d", "c", "a", "b"}, nil, 4, false},
		{"sort value descend", all(&pb.RangeRequest{SortTarget: pb.RangeRequest_VALUE, SortOrder: pb.RangeRequest_DESCEND}), []string{"b", "a", "c", "d"}, nil, 4, false},
		{"sort create descend", all(&pb.RangeRequest{SortTarget: pb.RangeRequest_CREATE, SortOrder: pb.RangeRequest_DESCEND}), []string{"d", "c", "b", "a"}, nil, 4, false},
		{"sort mod ascend", all(&pb.RangeRequest{SortTarget: pb.RangeRequest_MOD, SortOrder: pb.RangeRequest_ASCEND}), []string{"c", "a", "d", "b"}, nil, 4, false},
		{"sort mod none means ascend", all(&pb.RangeRequest{SortTarget: pb.RangeRequest_MOD}), []string{"c", "a", "d", "b"}, nil, 4, false},
		{"sort version descend, ties in key order", all(&pb.RangeRequest{SortTarget: pb.RangeRequest_VERSION, SortOrder: pb.RangeRequest_DESCEND}), []string{"b", "a", "c", "d"}, nil, 4, false},
		{"sort version ascend, ties in key order", all(&pb.RangeRequest{SortTarget: pb.RangeRequest_VERSION, SortOrder: pb.RangeRequest_ASCEND}), []string{"c", "d", "a", "b"}, nil, 4, false},
		{"limit after sort", all(&pb.RangeRequest{SortTarget: pb.RangeRequest_MOD, SortOrder: pb.RangeRequest_ASCEND, Limit: 2}), []string{"c", "a"}, nil, 4, true},
		{"sort at revision", all(&pb.RangeRequest{SortTarget: pb.RangeRequest_VALUE, SortOrder: pb.RangeRequest_DESCEND, Revision: 4}), []string{"b", "c", "a"}, []string{"3", "2", "1"}, 3, false},
		{"min mod revision", all(&pb.RangeRequest{MinModRevision: 5}), []string{"a", "b", "d"}, nil, 4, false},
		{"max mod revision", all(&pb.RangeRequest{MaxModRevision: 5}), []string{"a", "c"}, nil, 4, false},
		{"min create revision", all(&pb.RangeRequest{MinCreateRevision: 3}), []string{"b", "c", "d"}, nil, 4, false},
		{"max create revision", all(&pb.RangeRequest{MaxCreateRevision: 3}), []string{"a", "b"}, nil, 4, false},
		{"mod window", all(&pb.RangeRequest{MinModRevision: 5, MaxModRevision: 6}), []string{"a", "d"}, nil, 4, false},
		{"create and mod filters", all(&pb.RangeRequest{MinCreateRevision: 3, MaxModRevision: 6}), []string{"c", "d"}, nil, 4, false},
		{"limit after filter", all(&pb.RangeRequest{MinModRevision: 5, Limit: 1}), []string{"a"}, nil, 4, true},
		{"filter leaves no more", all(&pb.RangeRequest{MaxModRevision: 4, Limit: 1}), []string{"c"}, nil, 4, false},
		{"filter, sort, limit", all(&pb.RangeRequest{MinModRevision: 5, SortTarget: pb.RangeRequest_VALUE, SortOrder: pb.RangeRequest_DESCEND, Limit: 2}), []string{"b", "a"}, nil, 4, true},
		{"filter at revision", all(&pb.RangeRequest{Revision: 7, MinModRevision: 7}), []string{"b"}, []string{"5"}, 4, false},
	}
	forEachStore(t, func(t *testing.T, s testStore) {
		rangeData(t, s)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req := tt.r
				resp, err := ApplyRange(context.Background(), s, req)
				if err != nil {
					t.Fatal(err)
				}
				if got := keysOf(resp.Kvs); !slices.Equal(got, tt.wantKeys) {
					t.Errorf("keys = %q, want %q", got, tt.wantKeys)
				}
				if tt.wantVals != nil {
					var got []string
					for _, kv := range resp.Kvs {
						got = append(got, string(kv.Value))
					}
					if !slices.Equal(got, tt.wantVals) {
						t.Errorf("values = %q, want %q", got, tt.wantVals)
					}
				}
				if resp.Count != tt.wantCount || resp.More != tt.wantMore {
					t.Errorf("count, more = %d, %v, want %d, %v", resp.Count, resp.More, tt.wantCount, tt.wantMore)
				}
				if resp.Header.GetRevision() != 10 {
					t.Errorf("header revision = %d, want the store's 10", resp.Header.GetRevision())
				}
				if resp.Header.GetClusterId() != 0 || resp.Header.GetMemberId() != 0 || resp.Header.GetRaftTerm() != 0 {
					t.Errorf("header %v fills server fields", resp.Header)
				}
			})
		}
		t.Run("kv fields", func(t *testing.T) {
			resp, err := ApplyRange(context.Background(), s, &pb.RangeRequest{Key: []byte("b")})
			if err != nil {
				t.Fatal(err)
			}
			kv := resp.Kvs[0]
			if kv.CreateRevision != 3 || kv.ModRevision != 8 || kv.Version != 3 || kv.Lease != 0 {
				t.Errorf("b = %v, want create 3 mod 8 version 3", kv)
			}
		})
		t.Run("keys only leaves the store's values alone", func(t *testing.T) {
			if _, err := ApplyRange(context.Background(), s, &pb.RangeRequest{Key: []byte("a"), KeysOnly: true}); err != nil {
				t.Fatal(err)
			}
			if kv := get(t, s, "a"); string(kv.Value) != "4" {
				t.Errorf("a = %q after keys-only read, want 4", kv.Value)
			}
		})
	})
}

func TestRangeRevisionErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		rangeData(t, s)
		s.compact(t, 5)
		tests := []struct {
			name string
			rev  int64
			want error
		}{
			{"current", 0, nil}, // filled in below
			{"future", 1, rpctypes.ErrGRPCFutureRev},
			{"far future", 100, rpctypes.ErrGRPCFutureRev},
			{"compaction revision", 5, nil},
			{"compacted", 4, rpctypes.ErrGRPCCompacted},
			{"long compacted", 1, rpctypes.ErrGRPCCompacted},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rev := tt.rev
				if tt.name == "current" || tt.want == rpctypes.ErrGRPCFutureRev {
					rev += storeRev(s) // the store moves on with each subtest
				}
				req := &pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte{0}, Revision: rev}
				_, err := ApplyRange(context.Background(), s, req)
				wantErr(t, err, tt.want)
				// The same range inside a txn, read-only or not, fails the
				// same way, and a failing write txn writes nothing.
				_, err = Txn(context.Background(), s, nil, &pb.TxnRequest{Success: ops(rangeOp(req))})
				wantErr(t, err, tt.want)
				_, err = Txn(context.Background(), s, nil, &pb.TxnRequest{Success: ops(putOp("zz", "1"), rangeOp(req))})
				wantErr(t, err, tt.want)
				if got := get(t, s, "zz"); (got != nil) != (tt.want == nil) {
					t.Errorf("zz = %v after txn with error %v", got, tt.want)
				}
				mustDelete(t, s, "zz", "")
			})
		}
	})
}

func TestRangeInvalidSortTarget(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		_, err := ApplyRange(context.Background(), s, &pb.RangeRequest{Key: []byte("a"), SortTarget: 9})
		wantErr(t, err, rpctypes.ErrGRPCInvalidSortOption)
		_, err = ApplyRange(context.Background(), s, &pb.RangeRequest{Key: []byte("a"), SortOrder: 9})
		wantErr(t, err, rpctypes.ErrGRPCInvalidSortOption)
	})
}
