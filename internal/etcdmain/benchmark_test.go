package etcdmain

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/internal/config"
)

// benchFreeURL returns an http URL on a free 127.0.0.1 port.
func benchFreeURL(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}

// benchMember starts a member in-process and returns its client URL.
func benchMember(b *testing.B) string {
	b.Helper()
	curl, purl := benchFreeURL(b), benchFreeURL(b)
	cfg, err := config.Parse([]string{
		"--name", "bench", "--data-dir", b.TempDir(),
		"--listen-client-urls", curl, "--advertise-client-urls", curl,
		"--listen-peer-urls", purl, "--initial-advertise-peer-urls", purl,
		"--initial-cluster", "bench=" + purl, "--log-level", "error",
	}, func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	b.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Error("member did not stop")
		}
	})
	c := benchClient(b, curl)
	deadline := time.Now().Add(20 * time.Second)
	for {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
		_, err := c.Get(cctx, "ready")
		ccancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("member not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return curl
}

func benchClient(b *testing.B, url string) *clientv3.Client {
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{strings.TrimPrefix(url, "http://")}, DialTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// runClients runs b.N operations spread over clients goroutines that share
// conns connections, as etcd's benchmark tool does.
func runClients(b *testing.B, url string, clients, conns int, op func(c *clientv3.Client, i int64) error) {
	cs := make([]*clientv3.Client, conns)
	for i := range cs {
		cs[i] = benchClient(b, url)
	}
	var next atomic.Int64
	errc := make(chan error, clients)
	b.ResetTimer()
	for g := 0; g < clients; g++ {
		go func(c *clientv3.Client) {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					errc <- nil
					return
				}
				if err := op(c, i); err != nil {
					errc <- err
					return
				}
			}
		}(cs[g%conns])
	}
	for g := 0; g < clients; g++ {
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

var benchValue = strings.Repeat("v", 256)

func benchKey(i int64) string { return fmt.Sprintf("%08d", i%100000) }

// BenchmarkMemberPut measures whole-member puts (8-byte keys, 256-byte
// values) through the official client: 1 client, and 256 clients over 16
// connections as in etcd's performance docs.
func BenchmarkMemberPut(b *testing.B) {
	for _, tc := range []struct{ clients, conns int }{{1, 1}, {256, 16}} {
		b.Run(fmt.Sprintf("clients=%d/conns=%d", tc.clients, tc.conns), func(b *testing.B) {
			url := benchMember(b)
			runClients(b, url, tc.clients, tc.conns, func(c *clientv3.Client, i int64) error {
				_, err := c.Put(context.Background(), benchKey(i), benchValue)
				return err
			})
		})
	}
}

// BenchmarkMemberGet measures linearizable and serializable gets of one key
// with 1 client and 256 clients over 16 connections.
func BenchmarkMemberGet(b *testing.B) {
	for _, tc := range []struct {
		clients, conns int
		serializable   bool
	}{{1, 1, false}, {256, 16, false}, {256, 16, true}} {
		b.Run(fmt.Sprintf("clients=%d/conns=%d/serializable=%v", tc.clients, tc.conns, tc.serializable), func(b *testing.B) {
			url := benchMember(b)
			if _, err := benchClient(b, url).Put(context.Background(), "foo", benchValue); err != nil {
				b.Fatal(err)
			}
			var opts []clientv3.OpOption
			if tc.serializable {
				opts = append(opts, clientv3.WithSerializable())
			}
			runClients(b, url, tc.clients, tc.conns, func(c *clientv3.Client, i int64) error {
				_, err := c.Get(context.Background(), "foo", opts...)
				return err
			})
		})
	}
}
