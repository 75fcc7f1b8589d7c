package txn

import (
	"context"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// TestKeysOnlyDropsLeaseUnlessSortedByValue: etcd v3.7 serves keys_only
// ranges from its key index, which knows no leases, except when it must
// read values to sort by them.
func TestKeysOnlyDropsLeaseUnlessSortedByValue(t *testing.T) {
	forEachStore(t, func(t *testing.T, s testStore) {
		mustPut(t, s, "a", "1", 100)
		for _, tc := range []struct {
			target    pb.RangeRequest_SortTarget
			wantLease int64
		}{
			{pb.RangeRequest_KEY, 0},
			{pb.RangeRequest_MOD, 0},
			{pb.RangeRequest_VALUE, 100},
		} {
			rt := s.Read()
			resp, err := Range(context.Background(), rt, &pb.RangeRequest{Key: []byte("a"), KeysOnly: true, SortTarget: tc.target})
			rt.End()
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Kvs) != 1 || resp.Kvs[0].Value != nil || resp.Kvs[0].Lease != tc.wantLease {
				t.Errorf("keys_only sorted by %v: %v, want no value and lease %d", tc.target, resp.Kvs, tc.wantLease)
			}
		}
	})
}
