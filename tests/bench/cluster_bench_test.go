package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/tests/framework"
)

// leaderOf returns the member that leads ms.
func leaderOf(b *testing.B, ms []*framework.Member) *framework.Member {
	cli := framework.NewClient(b, framework.ClusterEndpoints(ms)...)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range ms {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			st, err := cli.Status(ctx, m.ClientURL)
			cancel()
			if err == nil && st.Leader == st.Header.MemberId {
				return m
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatal("no leader")
	return nil
}

// BenchmarkClusterPut: three members; puts to the leader from 1 client, and
// from 256 clients over 16 connections.
func BenchmarkClusterPut(b *testing.B) {
	for _, impl := range implementations(b) {
		for _, tc := range []struct{ clients, conns int }{{1, 1}, {256, 16}} {
			b.Run(fmt.Sprintf("%s/clients=%d/conns=%d", impl.name, tc.clients, tc.conns), func(b *testing.B) {
				ms := framework.StartCluster(b, impl.bin, 3)
				lead := leaderOf(b, ms)
				runOn(b, []*framework.Member{lead}, ms, tc.clients, tc.conns, func(c *clientv3.Client, i int64) error {
					_, err := c.Put(context.Background(), key(i), value)
					return err
				})
			})
		}
	}
}

// BenchmarkClusterGet: three members; gets of one key from 256 clients over
// 16 connections spread over all members, linearizable and serializable.
func BenchmarkClusterGet(b *testing.B) {
	for _, impl := range implementations(b) {
		for _, serializable := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/clients=256/conns=16/serializable=%v", impl.name, serializable), func(b *testing.B) {
				ms := framework.StartCluster(b, impl.bin, 3)
				if _, err := ms[0].Client(b).Put(context.Background(), "foo", value); err != nil {
					b.Fatal(err)
				}
				var opts []clientv3.OpOption
				if serializable {
					opts = append(opts, clientv3.WithSerializable())
				}
				runOn(b, ms, ms, 256, 16, func(c *clientv3.Client, i int64) error {
					_, err := c.Get(context.Background(), "foo", opts...)
					return err
				})
			})
		}
	}
}
