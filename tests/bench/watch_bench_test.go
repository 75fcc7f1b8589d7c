package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/tests/framework"
)

// openWatchers opens perStream watchers on each of streams clients (one
// gRPC watch stream per client: watchers sharing a context share a stream)
// and waits until the server has created all of them. key(s, w) gives the
// key (or prefix) of watcher w on stream s.
func openWatchers(b *testing.B, ctx context.Context, m *framework.Member, streams, perStream int, key func(s, w int) string, opts ...clientv3.OpOption) []clientv3.WatchChan {
	b.Helper()
	var chans []clientv3.WatchChan
	for s := 0; s < streams; s++ {
		c := m.Client(b)
		for w := 0; w < perStream; w++ {
			wc := c.Watch(ctx, key(s, w), append([]clientv3.OpOption{clientv3.WithCreatedNotify()}, opts...)...)
			select {
			case resp, ok := <-wc:
				if !ok || !resp.Created {
					b.Fatalf("watch %d/%d: not created (%v)", s, w, resp.Err())
				}
			case <-time.After(10 * time.Second):
				b.Fatalf("watch %d/%d: no created notification", s, w)
			}
			chans = append(chans, wc)
		}
	}
	return chans
}

// BenchmarkWatchFanout: 1,000 watchers on one shared prefix, 100 on each of
// 10 streams (10 client connections), receive 1,000 puts made by 10
// concurrent putters: 1,000,000 events per iteration. Reports events/s
// from the first put to the last event.
func BenchmarkWatchFanout(b *testing.B) {
	const streams, perStream, puts, putters = 10, 100, 1000, 10
	for _, impl := range implementations(b) {
		b.Run(fmt.Sprintf("%s/watchers=%d/streams=%d/puts=%d", impl.name, streams*perStream, streams, puts), func(b *testing.B) {
			m := framework.StartMember(b, framework.MemberConfig{Bin: impl.bin, Name: "bench"})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			chans := openWatchers(b, ctx, m, streams, perStream, func(int, int) string { return "w/" }, clientv3.WithPrefix())
			pc := m.Client(b)
			want := int64(b.N) * puts * streams * perStream
			var got atomic.Int64
			done := make(chan struct{})
			var wg sync.WaitGroup
			for _, wc := range chans {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for resp := range wc {
						if resp.Err() != nil {
							return
						}
						if got.Add(int64(len(resp.Events))) == want {
							close(done)
						}
					}
				}()
			}
			b.ResetTimer()
			var next atomic.Int64
			errc := make(chan error, putters)
			for p := 0; p < putters; p++ {
				go func() {
					for {
						i := next.Add(1)
						if i > int64(b.N)*puts {
							errc <- nil
							return
						}
						_, err := pc.Put(ctx, fmt.Sprintf("w/%08d", i%puts), value)
						if err != nil {
							errc <- err
							return
						}
					}
				}()
			}
			for p := 0; p < putters; p++ {
				if err := <-errc; err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-done:
			case <-time.After(2 * time.Minute):
				b.Fatalf("received %d of %d events", got.Load(), want)
			}
			b.StopTimer()
			b.ReportMetric(float64(want)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(int64(b.N)*puts)/b.Elapsed().Seconds(), "puts/s")
			if kb, err := peakRSSKiB(m.PID()); err == nil {
				b.ReportMetric(float64(kb)/1024, "peak-RSS-MiB")
			}
			cancel()
			wg.Wait()
		})
	}
}

// BenchmarkWatchLatency: 100 watchers on distinct keys (10 streams of 10)
// while one client puts to those keys round-robin at about 100 puts/s, 500
// puts per iteration. Reports the put-to-event latency, average and p99,
// measured from the put's response (ack) and from the put's start. Events
// may arrive before the put's response, so ack-to-event can be negative.
func BenchmarkWatchLatency(b *testing.B) {
	const streams, perStream, puts, rate = 10, 10, 500, 100
	watched := streams * perStream
	for _, impl := range implementations(b) {
		b.Run(fmt.Sprintf("%s/watchers=%d/rate=%d", impl.name, watched, rate), func(b *testing.B) {
			m := framework.StartMember(b, framework.MemberConfig{Bin: impl.bin, Name: "bench"})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			lkey := func(i int) string { return fmt.Sprintf("l/%04d", i%watched) }
			chans := openWatchers(b, ctx, m, streams, perStream, func(s, w int) string { return lkey(s*perStream + w) })
			pc := m.Client(b)
			// Warm the put path (connection, leader lease) before measuring.
			if _, err := pc.Put(ctx, "warm", value); err != nil {
				b.Fatal(err)
			}

			var mu sync.Mutex
			arrived := map[int64]time.Time{} // mod revision -> event arrival
			total := b.N * puts
			done := make(chan struct{})
			var wg sync.WaitGroup
			for _, wc := range chans {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for resp := range wc {
						now := time.Now()
						if resp.Err() != nil {
							return
						}
						mu.Lock()
						for _, ev := range resp.Events {
							arrived[ev.Kv.ModRevision] = now
						}
						if len(arrived) == total {
							close(done)
						}
						mu.Unlock()
					}
				}()
			}

			type putTimes struct {
				rev        int64
				start, ack time.Time
			}
			sent := make([]putTimes, 0, total)
			tick := time.NewTicker(time.Second / rate)
			defer tick.Stop()
			b.ResetTimer()
			for i := 0; i < total; i++ {
				<-tick.C
				start := time.Now()
				resp, err := pc.Put(ctx, lkey(i), value)
				ack := time.Now()
				if err != nil {
					b.Fatal(err)
				}
				sent = append(sent, putTimes{resp.Header.Revision, start, ack})
			}
			select {
			case <-done:
			case <-time.After(time.Minute):
				mu.Lock()
				n := len(arrived)
				mu.Unlock()
				b.Fatalf("received %d of %d events", n, total)
			}
			b.StopTimer()
			mu.Lock()
			var fromAck, fromStart []time.Duration
			for _, p := range sent {
				at, ok := arrived[p.rev]
				if !ok {
					mu.Unlock()
					b.Fatalf("no event for revision %d", p.rev)
				}
				fromAck = append(fromAck, at.Sub(p.ack))
				fromStart = append(fromStart, at.Sub(p.start))
			}
			mu.Unlock()
			avg, p99 := latencyStats(fromAck)
			b.ReportMetric(avg, "ack-to-event-avg-ms")
			b.ReportMetric(p99, "ack-to-event-p99-ms")
			avg, p99 = latencyStats(fromStart)
			b.ReportMetric(avg, "start-to-event-avg-ms")
			b.ReportMetric(p99, "start-to-event-p99-ms")
			cancel()
			wg.Wait()
		})
	}
}

// latencyStats returns the average and the 99th percentile of ds in
// milliseconds.
func latencyStats(ds []time.Duration) (avg, p99 float64) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	idx := (len(s)*99+99)/100 - 1
	return ms(sum / time.Duration(len(s))), ms(s[idx])
}
