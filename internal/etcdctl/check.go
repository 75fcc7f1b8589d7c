package etcdctl

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// checkFlags are the flags of check perf.
type checkFlags struct {
	load        string
	prefix      string
	autoCompact bool
	autoDefrag  bool
}

// checkPerfDuration is how long check perf writes (60 s, as etcdctl;
// tests shorten it).
var checkPerfDuration = 60 * time.Second

// perfLoad is a check perf workload: a write rate over some clients.
type perfLoad struct {
	limit   int
	clients int
}

var perfLoads = map[string]perfLoad{
	"s":  {limit: 150, clients: 50},
	"m":  {limit: 1000, clients: 200},
	"l":  {limit: 8000, clients: 500},
	"xl": {limit: 15000, clients: 1000},
}

var perfLoadAliases = map[string]string{
	"s": "s", "small": "s",
	"m": "m", "medium": "m",
	"l": "l", "large": "l",
	"xl": "xl", "xLarge": "xl",
}

func (a *app) checkCommand() *cobra.Command {
	cc := &cobra.Command{
		Use:     "check <subcommand>",
		Short:   "commands for checking properties of the etcd cluster. Use `etcdctl check --help` to see subcommands",
		Long:    "commands for checking properties of the etcd cluster",
		GroupID: groupUtility,
	}
	perf := &cobra.Command{
		Use:   "perf [options]",
		Short: "Check the performance of the etcd cluster",
		Run:   a.run(a.checkPerf),
	}
	f := &a.check
	perf.Flags().StringVar(&f.load, "load", "s", "The performance check's workload model. Accepted workloads: s(small), m(medium), l(large), xl(xLarge). Different workload models use different configurations in terms of number of clients and expected throughput.")
	perf.Flags().StringVar(&f.prefix, "prefix", "/etcdctl-check-perf/", "The prefix for writing the performance check's keys.")
	perf.Flags().BoolVar(&f.autoCompact, "auto-compact", false, "Compact storage with last revision after test is finished.")
	perf.Flags().BoolVar(&f.autoDefrag, "auto-defrag", false, "Defragment storage after test is finished.")
	cc.AddCommand(perf)
	return cc
}

// perfStats summarises the latencies of a check perf run.
type perfStats struct {
	rps             float64
	slowest, stddev float64 // seconds
	errors          map[string]int
}

// checkPerf writes 1 KiB values under --prefix at the workload's rate for
// checkPerfDuration and judges throughput, slowest request and stddev as
// etcdctl does. Unlike etcdctl it shows no progress bar.
func (a *app) checkPerf(cmd *cobra.Command, _ []string) error {
	f := &a.check
	model, ok := perfLoadAliases[f.load]
	if !ok {
		return failf(ExitBadFeature, "unknown load option %v", f.load)
	}
	load := perfLoads[model]
	spec, err := a.clientConfig(cmd)
	if err != nil {
		return err
	}
	clients := make([]*clientv3.Client, load.clients)
	for i := range clients {
		if clients[i], err = a.newClient(spec); err != nil {
			for _, c := range clients[:i] {
				c.Close()
			}
			return err
		}
	}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(a.ctx, checkPerfDuration)
	defer cancel()

	gctx, gcancel := context.WithTimeout(ctx, a.global.commandTimeout)
	resp, err := clients[0].Get(gctx, f.prefix, clientv3.WithPrefix(), clientv3.WithLimit(1))
	gcancel()
	if err != nil {
		return fail(ExitError, err)
	}
	if len(resp.Kvs) > 0 {
		return failf(ExitInvalidInput, "prefix %q has keys. Delete with 'etcdctl del --prefix %s' first", f.prefix, f.prefix)
	}

	stats := runPerf(ctx, clients, load.limit, f.prefix)
	a.perfCleanup(clients[0])
	if f.autoDefrag {
		for _, ep := range clients[0].Endpoints() {
			if err := a.defragOne(clients[0], ep); err != nil {
				return err
			}
		}
	}
	w := a.io.Stdout
	ok = true
	if len(stats.errors) != 0 {
		fmt.Fprintln(w, "FAIL: too many errors")
		for k, v := range stats.errors {
			fmt.Fprintf(w, "FAIL: ERROR(%v) -> %d\n", k, v)
		}
		ok = false
	}
	if stats.rps/float64(load.limit) <= 0.9 {
		fmt.Fprintf(w, "FAIL: Throughput too low: %d writes/s\n", int(stats.rps)+1)
		ok = false
	} else {
		fmt.Fprintf(w, "PASS: Throughput is %d writes/s\n", int(stats.rps)+1)
	}
	if stats.slowest > 0.5 {
		fmt.Fprintf(w, "Slowest request took too long: %fs\n", stats.slowest)
		ok = false
	} else {
		fmt.Fprintf(w, "PASS: Slowest request took %fs\n", stats.slowest)
	}
	if stats.stddev > 0.1 {
		fmt.Fprintf(w, "Stddev too high: %fs\n", stats.stddev)
		ok = false
	} else {
		fmt.Fprintf(w, "PASS: Stddev is %fs\n", stats.stddev)
	}
	if !ok {
		fmt.Fprintln(w, "FAIL")
		return exitQuietly(ExitError)
	}
	fmt.Fprintln(w, "PASS")
	return nil
}

// runPerf issues puts of random 256-byte keys under prefix at limit per
// second, spread over the clients, until ctx ends.
func runPerf(ctx context.Context, clients []*clientv3.Client, limit int, prefix string) perfStats {
	type result struct {
		took time.Duration
		err  error
	}
	requests := make(chan clientv3.Op, len(clients))
	results := make(chan result, len(clients))
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for op := range requests {
				st := time.Now()
				// Requests in flight finish even when the run's time is up.
				_, err := c.Do(context.WithoutCancel(ctx), op)
				results <- result{took: time.Since(st), err: err}
			}
		}()
	}
	go func() {
		defer close(requests)
		tick := time.NewTicker(time.Second / time.Duration(limit))
		defer tick.Stop()
		k, v := make([]byte, 256), string(make([]byte, 1024))
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			binary.PutVarint(k, rand.Int64N(math.MaxInt64))
			select {
			case requests <- clientv3.OpPut(prefix+string(k), v):
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	start := time.Now()
	var lats []float64
	st := perfStats{errors: map[string]int{}}
	for r := range results {
		if r.err != nil {
			st.errors[r.err.Error()]++
			continue
		}
		lats = append(lats, r.took.Seconds())
	}
	total := time.Since(start).Seconds()
	if total > 0 {
		st.rps = float64(len(lats)) / total
	}
	if len(lats) > 0 {
		sort.Float64s(lats)
		st.slowest = lats[len(lats)-1]
		var sum float64
		for _, l := range lats {
			sum += l
		}
		mean := sum / float64(len(lats))
		var sq float64
		for _, l := range lats {
			sq += (l - mean) * (l - mean)
		}
		st.stddev = math.Sqrt(sq / float64(len(lats)))
	}
	return st
}

// perfCleanup deletes the keys check perf wrote and, with --auto-compact,
// compacts at the deletion's revision.
func (a *app) perfCleanup(cli *clientv3.Client) {
	ctx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
	defer cancel()
	resp, err := cli.Delete(ctx, a.check.prefix, clientv3.WithPrefix())
	if err != nil {
		fmt.Fprintf(a.io.Stdout, "FAIL: Cleanup failed during key deletion: ERROR(%v)\n", err)
		return
	}
	if !a.check.autoCompact {
		return
	}
	rev := resp.Header.Revision
	fmt.Fprintf(a.io.Stdout, "Compacting with revision %d\n", rev)
	if _, err := cli.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		fmt.Fprintln(a.io.Stderr, "Error:", err)
		return
	}
	fmt.Fprintf(a.io.Stdout, "Compacted with revision %d\n", rev)
}

func (a *app) defragOne(cli *clientv3.Client, ep string) error {
	fmt.Fprintf(a.io.Stdout, "Defragmenting %q\n", ep)
	ctx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
	defer cancel()
	if _, err := cli.Defragment(ctx, ep); err != nil {
		return fail(ExitError, err)
	}
	fmt.Fprintf(a.io.Stdout, "Defragmented %q\n", ep)
	return nil
}
