package etcdmain

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

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
