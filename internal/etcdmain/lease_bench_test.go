package etcdmain

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// BenchmarkMemberLeaseGrant measures lease grants (each one a raft write)
// with 1 client and 256 clients over 16 connections.
func BenchmarkMemberLeaseGrant(b *testing.B) {
	for _, tc := range []struct{ clients, conns int }{{1, 1}, {256, 16}} {
		b.Run(fmt.Sprintf("clients=%d/conns=%d", tc.clients, tc.conns), func(b *testing.B) {
			url := benchMember(b)
			runClients(b, url, tc.clients, tc.conns, func(c *clientv3.Client, _ int64) error {
				_, err := c.Grant(context.Background(), 3600)
				return err
			})
		})
	}
}

// BenchmarkMemberLeaseKeepAlive measures keep-alive round trips, as etcd's
// benchmark tool does: every client holds one keep-alive stream and renews
// its own lease, request after answer.
func BenchmarkMemberLeaseKeepAlive(b *testing.B) {
	for _, tc := range []struct{ clients, conns int }{{1, 1}, {256, 16}} {
		b.Run(fmt.Sprintf("clients=%d/conns=%d", tc.clients, tc.conns), func(b *testing.B) {
			url := benchMember(b)
			cs := make([]*clientv3.Client, tc.conns)
			for i := range cs {
				cs[i] = benchClient(b, url)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			streams := make([]pb.Lease_LeaseKeepAliveClient, tc.clients)
			ids := make([]int64, tc.clients)
			for g := range streams {
				c := cs[g%tc.conns]
				l, err := c.Grant(ctx, 3600)
				if err != nil {
					b.Fatal(err)
				}
				ids[g] = int64(l.ID)
				if streams[g], err = pb.NewLeaseClient(c.ActiveConnection()).LeaseKeepAlive(ctx); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			errc := make(chan error, tc.clients)
			b.ResetTimer()
			for g := range streams {
				go func(st pb.Lease_LeaseKeepAliveClient, id int64) {
					for next.Add(1) <= int64(b.N) {
						if err := st.Send(&pb.LeaseKeepAliveRequest{ID: id}); err != nil {
							errc <- err
							return
						}
						resp, err := st.Recv()
						if err != nil {
							errc <- err
							return
						}
						if resp.GetTTL() != 3600 {
							errc <- fmt.Errorf("keepalive of lease %x answered ttl %d", id, resp.GetTTL())
							return
						}
					}
					errc <- nil
				}(streams[g], ids[g])
			}
			for range streams {
				if err := <-errc; err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}
