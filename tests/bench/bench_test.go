// Package bench compares whole-member throughput of our etcd and the official
// etcd v3.7.3, each as its own process, driven by the same client code (the
// official go.etcd.io/etcd/client/v3). Client and server share the machine,
// as in the numbers of docs/benchmarks.md. Run with:
//
//	cd tests && go test -run XXX -bench . -benchtime 5s ./bench/
package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/tests/framework"
)

func TestMain(m *testing.M) { os.Exit(framework.Main(m)) }

var value = strings.Repeat("v", 256)

func key(i int64) string { return fmt.Sprintf("%08d", i%100000) }

// implementations returns the etcd binaries to measure.
func implementations(b *testing.B) []struct{ name, bin string } {
	return []struct{ name, bin string }{
		{"ours", framework.EtcdBinary(b)},
		{"etcd-v3.7.3", framework.Reference(b).Etcd},
	}
}

// run spreads b.N operations over clients goroutines sharing conns
// connections, as etcd's benchmark tool does, and reports ops/s and the
// peak RSS of the member (the largest one's, for several).
func run(b *testing.B, m *framework.Member, clients, conns int, op func(c *clientv3.Client, i int64) error) {
	runOn(b, []*framework.Member{m}, []*framework.Member{m}, clients, conns, op)
}

// runOn is run with the connections spread round-robin over targets; the
// peak RSS reported is the largest of the members of all.
func runOn(b *testing.B, targets, all []*framework.Member, clients, conns int, op func(c *clientv3.Client, i int64) error) {
	cs := make([]*clientv3.Client, conns)
	for i := range cs {
		cs[i] = targets[i%len(targets)].Client(b)
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
	peak := 0
	for _, m := range all {
		if kb, err := peakRSSKiB(m.PID()); err == nil && kb > peak {
			peak = kb
		}
	}
	if peak > 0 {
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
	}
}

// peakRSSKiB reads the high-water mark of a process's resident memory.
func peakRSSKiB(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int
			_, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb)
			return kb, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// BenchmarkPut: 8-byte keys, 256-byte values; 1 client, and 256 clients over
// 16 connections.
func BenchmarkPut(b *testing.B) {
	for _, impl := range implementations(b) {
		for _, tc := range []struct{ clients, conns int }{{1, 1}, {256, 16}} {
			b.Run(fmt.Sprintf("%s/clients=%d/conns=%d", impl.name, tc.clients, tc.conns), func(b *testing.B) {
				m := framework.StartMember(b, framework.MemberConfig{Bin: impl.bin, Name: "bench"})
				run(b, m, tc.clients, tc.conns, func(c *clientv3.Client, i int64) error {
					_, err := c.Put(context.Background(), key(i), value)
					return err
				})
			})
		}
	}
}

// BenchmarkGet: linearizable and serializable gets of one key; 1 client, and
// 256 clients over 16 connections.
func BenchmarkGet(b *testing.B) {
	for _, impl := range implementations(b) {
		for _, tc := range []struct {
			clients, conns int
			serializable   bool
		}{{1, 1, false}, {256, 16, false}, {256, 16, true}} {
			b.Run(fmt.Sprintf("%s/clients=%d/conns=%d/serializable=%v", impl.name, tc.clients, tc.conns, tc.serializable), func(b *testing.B) {
				m := framework.StartMember(b, framework.MemberConfig{Bin: impl.bin, Name: "bench"})
				if _, err := m.Client(b).Put(context.Background(), "foo", value); err != nil {
					b.Fatal(err)
				}
				var opts []clientv3.OpOption
				if tc.serializable {
					opts = append(opts, clientv3.WithSerializable())
				}
				run(b, m, tc.clients, tc.conns, func(c *clientv3.Client, i int64) error {
					_, err := c.Get(context.Background(), "foo", opts...)
					return err
				})
			})
		}
	}
}
