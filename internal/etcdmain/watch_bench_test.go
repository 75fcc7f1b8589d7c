package etcdmain

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"
)

// BenchmarkWatchFanout: 1,000 watchers of one prefix over 10 streams (100
// each), b.N puts (run with -benchtime=1000x); reports delivered events/s.
func BenchmarkWatchFanout(b *testing.B) {
	url := benchMember(b)
	c := benchClient(b, url)
	const streams, perStream = 10, 100
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var chans []clientv3.WatchChan
	for i := range streams {
		// The client shares a stream between contexts with the same
		// metadata.
		sctx := metadata.AppendToOutgoingContext(ctx, "stream", fmt.Sprint(i))
		for range perStream {
			chans = append(chans, c.Watch(sctx, "fan/", clientv3.WithPrefix()))
		}
	}
	time.Sleep(500 * time.Millisecond)
	var wg sync.WaitGroup
	n := b.N
	b.ResetTimer()
	start := time.Now()
	for _, wch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := 0
			for got < n {
				wr, ok := <-wch
				if !ok || wr.Err() != nil {
					b.Errorf("watch ended after %d events: %v", got, wr.Err())
					return
				}
				got += len(wr.Events)
			}
		}()
	}
	for i := range n {
		if _, err := c.Put(ctx, fmt.Sprintf("fan/%d", i%100), "v"); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	el := time.Since(start)
	b.ReportMetric(float64(n*len(chans))/el.Seconds(), "events/s")
}

// BenchmarkWatchLatency: 100 watchers of one key on one stream; for each of
// b.N sequential puts, the time from issuing the put to each watcher's
// event. Reports the average and p99.
func BenchmarkWatchLatency(b *testing.B) {
	url := benchMember(b)
	c := benchClient(b, url)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const watchers = 100
	var chans []clientv3.WatchChan
	for range watchers {
		chans = append(chans, c.Watch(ctx, "lat"))
	}
	time.Sleep(500 * time.Millisecond)
	lats := make([]time.Duration, 0, b.N*watchers)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := c.Put(ctx, "lat", "v"); err != nil {
			b.Fatal(err)
		}
		for _, wch := range chans {
			wr := <-wch
			if wr.Err() != nil || len(wr.Events) != 1 {
				b.Fatalf("response %+v", wr)
			}
			lats = append(lats, time.Since(start))
		}
	}
	b.StopTimer()
	slices.Sort(lats)
	var sum time.Duration
	for _, l := range lats {
		sum += l
	}
	b.ReportMetric(float64(sum.Microseconds())/float64(len(lats)), "avg-µs")
	b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds()), "p99-µs")
}
