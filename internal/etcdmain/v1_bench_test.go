package etcdmain

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// v1BenchClients are the concurrencies of the v1-versus-v3 benchmarks.
var v1BenchClients = []int{1, 64}

// runV1Clients runs b.N v1 requests spread over clients goroutines, each
// with its own keep-alive HTTP connection; req builds the i-th request.
func runV1Clients(b *testing.B, clients int, req func(i int64) (*http.Request, error)) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	var next atomic.Int64
	errc := make(chan error, clients)
	b.ResetTimer()
	for range clients {
		go func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					errc <- nil
					return
				}
				r, err := req(i)
				if err != nil {
					errc <- err
					return
				}
				resp, err := hc.Do(r)
				if err != nil {
					errc <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errc <- fmt.Errorf("%s %s: %s", r.Method, r.URL, resp.Status)
					return
				}
			}
		}()
	}
	for range clients {
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkV1Set measures POST /v1/keys/K value=V (8-byte keys, 256-byte
// values) against one member, beside the same puts through the v3 API
// (one gRPC connection per client, as the v1 clients have one HTTP
// connection each).
func BenchmarkV1Set(b *testing.B) {
	body := url.Values{"value": {benchValue}}.Encode()
	for _, n := range v1BenchClients {
		b.Run(fmt.Sprintf("api=v1/clients=%d", n), func(b *testing.B) {
			u := benchMember(b)
			runV1Clients(b, n, func(i int64) (*http.Request, error) {
				r, err := http.NewRequest(http.MethodPost, u+"/v1/keys/"+benchKey(i), strings.NewReader(body))
				if err == nil {
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				return r, err
			})
		})
		b.Run(fmt.Sprintf("api=v3/clients=%d", n), func(b *testing.B) {
			u := benchMember(b)
			runClients(b, u, n, n, func(c *clientv3.Client, i int64) error {
				_, err := c.Put(context.Background(), "/"+benchKey(i), benchValue)
				return err
			})
		})
	}
}

// BenchmarkV1Get measures GET /v1/keys/foo (a linearizable read) beside
// the same linearizable v3 Get.
func BenchmarkV1Get(b *testing.B) {
	for _, n := range v1BenchClients {
		b.Run(fmt.Sprintf("api=v1/clients=%d", n), func(b *testing.B) {
			u := benchMember(b)
			if _, err := benchClient(b, u).Put(context.Background(), "/foo", benchValue); err != nil {
				b.Fatal(err)
			}
			runV1Clients(b, n, func(int64) (*http.Request, error) {
				return http.NewRequest(http.MethodGet, u+"/v1/keys/foo", nil)
			})
		})
		b.Run(fmt.Sprintf("api=v3/clients=%d", n), func(b *testing.B) {
			u := benchMember(b)
			if _, err := benchClient(b, u).Put(context.Background(), "/foo", benchValue); err != nil {
				b.Fatal(err)
			}
			runClients(b, u, n, n, func(c *clientv3.Client, _ int64) error {
				_, err := c.Get(context.Background(), "/foo")
				return err
			})
		})
	}
}

// BenchmarkV1WaitingWatches opens b.N long-polling GET /v1/watch requests
// that wait for a change, and reports the heap and goroutine stacks they
// hold per watch once all are waiting. Client and member share the process, so the figure
// includes the client's side of each request: an upper bound.
func BenchmarkV1WaitingWatches(b *testing.B) {
	u := benchMember(b)
	c := benchClient(b, u)
	if _, err := c.Put(context.Background(), "/w/seed", "x"); err != nil {
		b.Fatal(err)
	}
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 1}
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(context.Background())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	done := make(chan struct{}, b.N)
	b.ResetTimer()
	for i := range b.N {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/v1/watch/w/%d", u, i), nil)
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			defer func() { done <- struct{}{} }()
			if resp, err := hc.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	// Wait until the member holds every watch: a goroutine count that no
	// longer grows.
	last := -1
	for n := runtime.NumGoroutine(); n != last; n = runtime.NumGoroutine() {
		last = n
		time.Sleep(200 * time.Millisecond)
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/float64(b.N), "heap-B/watch")
	b.ReportMetric(float64(int64(after.StackInuse)-int64(before.StackInuse))/float64(b.N), "stack-B/watch")
	b.ReportMetric(float64(last)/float64(b.N), "goroutines/watch")
	cancel()
	for range b.N {
		<-done
	}
}
