package txn

import (
	"math/rand/v2"
	"slices"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

func TestCheckRange(t *testing.T) {
	tests := []struct {
		name string
		r    *pb.RangeRequest
		want error
	}{
		{"ok", &pb.RangeRequest{Key: []byte("a")}, nil},
		{"ok sorted", &pb.RangeRequest{Key: []byte("a"), SortOrder: pb.RangeRequest_DESCEND, SortTarget: pb.RangeRequest_VALUE}, nil},
		{"empty key", &pb.RangeRequest{RangeEnd: []byte("b")}, rpctypes.ErrGRPCEmptyKey},
		{"nil request", nil, rpctypes.ErrGRPCEmptyKey},
		{"bad sort order", &pb.RangeRequest{Key: []byte("a"), SortOrder: 3}, rpctypes.ErrGRPCInvalidSortOption},
		{"negative sort order", &pb.RangeRequest{Key: []byte("a"), SortOrder: -1}, rpctypes.ErrGRPCInvalidSortOption},
		{"bad sort target", &pb.RangeRequest{Key: []byte("a"), SortTarget: 5}, rpctypes.ErrGRPCInvalidSortOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, CheckRange(tt.r), tt.want) })
	}
}

func TestCheckPut(t *testing.T) {
	tests := []struct {
		name string
		r    *pb.PutRequest
		want error
	}{
		{"ok", &pb.PutRequest{Key: []byte("a"), Value: []byte("v"), Lease: 5}, nil},
		{"ignore value without value", &pb.PutRequest{Key: []byte("a"), IgnoreValue: true, Lease: 5}, nil},
		{"ignore lease without lease", &pb.PutRequest{Key: []byte("a"), Value: []byte("v"), IgnoreLease: true}, nil},
		{"empty key", &pb.PutRequest{Value: []byte("v")}, rpctypes.ErrGRPCEmptyKey},
		{"ignore value with value", &pb.PutRequest{Key: []byte("a"), Value: []byte("v"), IgnoreValue: true}, rpctypes.ErrGRPCValueProvided},
		{"ignore lease with lease", &pb.PutRequest{Key: []byte("a"), Lease: 1, IgnoreLease: true}, rpctypes.ErrGRPCLeaseProvided},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, CheckPut(tt.r), tt.want) })
	}
}

func TestCheckDeleteRange(t *testing.T) {
	wantErr(t, CheckDeleteRange(&pb.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte{0}}), nil)
	wantErr(t, CheckDeleteRange(&pb.DeleteRangeRequest{RangeEnd: []byte("b")}), rpctypes.ErrGRPCEmptyKey)
}

func TestCheckTxn(t *testing.T) {
	n := func(k int, op func(i int) *pb.RequestOp) []*pb.RequestOp {
		out := make([]*pb.RequestOp, k)
		for i := range out {
			out[i] = op(i)
		}
		return out
	}
	distinctPut := func(i int) *pb.RequestOp { return putOp(string(rune('a'+i)), "v") }
	cmps := func(k int) []*pb.Compare {
		out := make([]*pb.Compare, k)
		for i := range out {
			out[i] = cmpVersion("a", pb.Compare_EQUAL, 0)
		}
		return out
	}
	const max = 4
	tests := []struct {
		name string
		r    *pb.TxnRequest
		want error
	}{
		{"empty", &pb.TxnRequest{}, nil},
		{"max ops", &pb.TxnRequest{Compare: cmps(max), Success: n(max, distinctPut), Failure: n(max, distinctPut)}, nil},
		{"too many compares", &pb.TxnRequest{Compare: cmps(max + 1)}, rpctypes.ErrGRPCTooManyOps},
		{"too many success ops", &pb.TxnRequest{Success: n(max+1, distinctPut)}, rpctypes.ErrGRPCTooManyOps},
		{"too many failure ops", &pb.TxnRequest{Failure: n(max+1, distinctPut)}, rpctypes.ErrGRPCTooManyOps},
		// A nested txn may use what its parent left: 4 - 2 = 2.
		{"nested within budget", &pb.TxnRequest{Success: ops(getOp("x"), txnOp(&pb.TxnRequest{Success: n(2, distinctPut)}))}, nil},
		{"nested too many ops", &pb.TxnRequest{Success: ops(getOp("x"), txnOp(&pb.TxnRequest{Success: n(3, distinctPut)}))}, rpctypes.ErrGRPCTooManyOps},
		{"nested too many compares", &pb.TxnRequest{Failure: ops(getOp("x"), txnOp(&pb.TxnRequest{Compare: cmps(3)}))}, rpctypes.ErrGRPCTooManyOps},
		{"empty compare key", &pb.TxnRequest{Compare: []*pb.Compare{cmpVersion("", pb.Compare_EQUAL, 0)}}, rpctypes.ErrGRPCEmptyKey},
		{"empty op", &pb.TxnRequest{Success: ops(&pb.RequestOp{})}, rpctypes.ErrGRPCKeyNotFound},
		{"nil op", &pb.TxnRequest{Failure: ops(nil)}, rpctypes.ErrGRPCKeyNotFound},
		{"empty range key", &pb.TxnRequest{Success: ops(getOp(""))}, rpctypes.ErrGRPCEmptyKey},
		{"invalid sort option", &pb.TxnRequest{Success: ops(rangeOp(&pb.RangeRequest{Key: []byte("a"), SortTarget: 7}))}, rpctypes.ErrGRPCInvalidSortOption},
		{"empty put key", &pb.TxnRequest{Failure: ops(putOp("", "v"))}, rpctypes.ErrGRPCEmptyKey},
		{"put value with ignore_value", &pb.TxnRequest{Success: ops(putReqOp(&pb.PutRequest{Key: []byte("a"), Value: []byte("v"), IgnoreValue: true}))}, rpctypes.ErrGRPCValueProvided},
		{"put lease with ignore_lease", &pb.TxnRequest{Success: ops(putReqOp(&pb.PutRequest{Key: []byte("a"), Lease: 3, IgnoreLease: true}))}, rpctypes.ErrGRPCLeaseProvided},
		{"empty delete key", &pb.TxnRequest{Success: ops(delOp("", "z"))}, rpctypes.ErrGRPCEmptyKey},
		{"nested empty put key", &pb.TxnRequest{Success: ops(txnOp(&pb.TxnRequest{Failure: ops(putOp("", "v"))}))}, rpctypes.ErrGRPCEmptyKey},

		// Duplicate keys and overlapping intervals.
		{"distinct puts", &pb.TxnRequest{Success: ops(putOp("a", "1"), putOp("b", "2"))}, nil},
		{"duplicate put", &pb.TxnRequest{Success: ops(putOp("a", "1"), putOp("a", "2"))}, rpctypes.ErrGRPCDuplicateKey},
		{"duplicate put in failure", &pb.TxnRequest{Failure: ops(putOp("a", "1"), getOp("a"), putOp("a", "2"))}, rpctypes.ErrGRPCDuplicateKey},
		{"same put in both branches", &pb.TxnRequest{Success: ops(putOp("a", "1")), Failure: ops(putOp("a", "2"))}, nil},
		{"put and delete same key", &pb.TxnRequest{Success: ops(delOp("a", ""), putOp("a", "1"))}, rpctypes.ErrGRPCDuplicateKey},
		{"put then delete same key", &pb.TxnRequest{Success: ops(putOp("a", "1"), delOp("a", ""))}, rpctypes.ErrGRPCDuplicateKey},
		{"put inside delete range", &pb.TxnRequest{Success: ops(delOp("a", "c"), putOp("b", "1"))}, rpctypes.ErrGRPCDuplicateKey},
		{"put at delete range end", &pb.TxnRequest{Success: ops(delOp("a", "c"), putOp("c", "1"))}, nil},
		{"put before delete range", &pb.TxnRequest{Success: ops(delOp("b", "c"), putOp("a", "1"))}, nil},
		{"put inside prefix delete", &pb.TxnRequest{Success: ops(delOp("foo/", "foo0"), putOp("foo/x", "1"))}, rpctypes.ErrGRPCDuplicateKey},
		{"put inside from-key delete", &pb.TxnRequest{Success: ops(delOp("a", "\x00"), putOp("zzz", "1"))}, rpctypes.ErrGRPCDuplicateKey},
		{"put below from-key delete", &pb.TxnRequest{Success: ops(delOp("b", "\x00"), putOp("a", "1"))}, nil},
		{"put inside delete-all", &pb.TxnRequest{Success: ops(delOp("\x00", "\x00"), putOp("a", "1"))}, rpctypes.ErrGRPCDuplicateKey},
		{"empty delete range", &pb.TxnRequest{Success: ops(delOp("c", "a"), putOp("b", "1"))}, nil},
		{"overlapping deletes", &pb.TxnRequest{Success: ops(delOp("a", "c"), delOp("b", "d"), delOp("b", ""))}, nil},
		{"range and put same key", &pb.TxnRequest{Success: ops(getOp("a"), putOp("a", "1"), rangeOp(&pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte{0}}))}, nil},
		{"delete in success, put in failure", &pb.TxnRequest{Success: ops(delOp("a", "z")), Failure: ops(putOp("b", "1"))}, nil},

		// Nested txns.
		{"nested duplicate put", &pb.TxnRequest{Success: ops(txnOp(&pb.TxnRequest{Success: ops(putOp("a", "1"), putOp("a", "2"))}))}, rpctypes.ErrGRPCDuplicateKey},
		{"nested then and else same key", &pb.TxnRequest{Success: ops(txnOp(&pb.TxnRequest{Success: ops(putOp("a", "1")), Failure: ops(putOp("a", "2"))}))}, nil},
		{"nested then delete, else put", &pb.TxnRequest{Success: ops(txnOp(&pb.TxnRequest{Success: ops(delOp("a", "c")), Failure: ops(putOp("b", "2"))}))}, nil},
		{"nested put and outer put", &pb.TxnRequest{Success: ops(putOp("a", "1"), txnOp(&pb.TxnRequest{Success: ops(putOp("a", "2"))}))}, rpctypes.ErrGRPCDuplicateKey},
		{"nested else put and outer put", &pb.TxnRequest{Success: ops(txnOp(&pb.TxnRequest{Failure: ops(putOp("a", "2"))}), putOp("a", "1"))}, rpctypes.ErrGRPCDuplicateKey},
		{"nested put inside outer delete", &pb.TxnRequest{Success: ops(delOp("a", "c"), txnOp(&pb.TxnRequest{Success: ops(putOp("b", "2"))}))}, rpctypes.ErrGRPCDuplicateKey},
		{"outer put inside nested delete", &pb.TxnRequest{Success: ops(putOp("b", "1"), txnOp(&pb.TxnRequest{Failure: ops(delOp("a", "c"))}))}, rpctypes.ErrGRPCDuplicateKey},
		{"two nested txns put same key", &pb.TxnRequest{Success: ops(txnOp(&pb.TxnRequest{Success: ops(putOp("a", "1"))}), txnOp(&pb.TxnRequest{Failure: ops(putOp("a", "2"))}))}, rpctypes.ErrGRPCDuplicateKey},
		{"earlier nested delete, later nested put", &pb.TxnRequest{Success: ops(txnOp(&pb.TxnRequest{Success: ops(delOp("a", "c"))}), txnOp(&pb.TxnRequest{Success: ops(putOp("b", "2"))}))}, rpctypes.ErrGRPCDuplicateKey},
		{"earlier nested put, later nested delete", &pb.TxnRequest{Success: ops(txnOp(&pb.TxnRequest{Success: ops(putOp("b", "2"))}), txnOp(&pb.TxnRequest{Success: ops(delOp("a", "c"))}))}, rpctypes.ErrGRPCDuplicateKey},
		{"two nested txns distinct keys", &pb.TxnRequest{Success: ops(txnOp(&pb.TxnRequest{Success: ops(putOp("a", "1"), delOp("x", "y"))}), txnOp(&pb.TxnRequest{Success: ops(putOp("b", "2"), delOp("c", "d"))}))}, nil},
		{"doubly nested put inside outer delete", &pb.TxnRequest{Failure: ops(delOp("k", "\x00"), txnOp(&pb.TxnRequest{Success: ops(txnOp(&pb.TxnRequest{Failure: ops(putOp("m", "1"))}))}))}, rpctypes.ErrGRPCDuplicateKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, CheckTxn(tt.r, max), tt.want) })
	}
}

func TestIsTxnReadOnly(t *testing.T) {
	tests := []struct {
		name string
		r    *pb.TxnRequest
		want bool
	}{
		{"empty", &pb.TxnRequest{}, true},
		{"ranges only", &pb.TxnRequest{Compare: []*pb.Compare{cmpVersion("a", pb.Compare_EQUAL, 0)}, Success: ops(getOp("a")), Failure: ops(getOp("b"), getOp("c"))}, true},
		{"put in success", &pb.TxnRequest{Success: ops(getOp("a"), putOp("a", "1"))}, false},
		{"delete in failure", &pb.TxnRequest{Failure: ops(delOp("a", ""))}, false},
		{"nested read-only txn", &pb.TxnRequest{Success: ops(txnOp(&pb.TxnRequest{Success: ops(getOp("a"))}))}, false},
	}
	for _, tt := range tests {
		if got := IsTxnReadOnly(tt.r); got != tt.want {
			t.Errorf("%s: IsTxnReadOnly = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestCheckPutsOutsideDeletesMatchesBruteForce compares the O(log n) check
// with checking every put against every delete.
func TestCheckPutsOutsideDeletesMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	key := func() string { return string(rune('a' + rng.IntN(8))) }
	for i := 0; i < 5000; i++ {
		puts := map[string]int{}
		for range rng.IntN(4) {
			puts[key()] = rng.IntN(3) - 2
		}
		var dels []ownedInterval
		for range rng.IntN(5) {
			iv := keyInterval{begin: key()}
			switch rng.IntN(3) {
			case 0:
				iv.unbounded = true
			case 1:
				iv.end = iv.begin + "\x00"
			default:
				iv.end = key()
			}
			if !iv.empty() {
				dels = append(dels, ownedInterval{iv, rng.IntN(3) - 2})
			}
		}
		want := error(nil)
		for k, o := range puts {
			for _, d := range dels {
				if d.owner != o && k >= d.begin && d.endsAfter(k) {
					want = rpctypes.ErrGRPCDuplicateKey
				}
			}
		}
		if got := checkPutsOutsideDeletes(puts, slices.Clone(dels)); got != want { //nolint:errorlint
			t.Fatalf("puts %v dels %v: got %v, want %v", puts, dels, got, want)
		}
	}
}
