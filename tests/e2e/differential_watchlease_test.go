// Differential checks of Watch and Lease against the official etcd v3.7.3:
// lease grant/attach/revoke sequences, and watches replaying the whole
// history (also from below a compaction), compared response by response.

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestDifferentialWatchLeaseAgainstEtcd compares leases and the history
// replayed through watches, including a watch from a compacted revision,
// with the official etcd.
func TestDifferentialWatchLeaseAgainstEtcd(t *testing.T) {
	runDifferential(t, []diffSequence{
		{"kv-watch", runKVWatchSequence},
		{"leases", runLeaseSequence},
		{"random-watch", runRandomWatchSequence},
	})
}

// runKVWatchSequence is runKVSequence with the history also replayed
// through watches, and a watch opened below the compacted revision.
func runKVWatchSequence(d *differ) {
	diffKVRequests(d)
	diffWatchHistory(d, "foo")
	diffCompaction(d)
	diffCompactedWatch(d)
}

// runLeaseSequence covers leases granted with explicit IDs, keys attached to
// them, and revocation.
func runLeaseSequence(d *differ) {
	d.do("put before leases", clientv3.OpPut("foo", "bar"))
	diffLeases(d)
	diffRangeHistory(d)
	diffWatchHistory(d, "foo")
}

// runRandomWatchSequence is runRandomSequence with the history also
// replayed through watches.
func runRandomWatchSequence(d *differ) {
	diffRandomRequests(d)
	diffWatchHistory(d, "foo")
	diffCompaction(d)
	diffCompactedWatch(d)
}

// diffCompactedWatch opens a watch from revision 2, below the compaction
// diffCompaction made, and expects both servers to cancel it with the same
// compact revision.
func diffCompactedWatch(d *differ) {
	d.watchAll("watch from compacted revision", "", d.rev(), clientv3.WithPrefix(), clientv3.WithRev(2))
}

func diffLeases(d *differ) {
	const id = 0x1001
	grant := func(name string, req *pb.LeaseGrantRequest) {
		d.call(name, func(ctx context.Context, c *clientv3.Client) (proto.Message, error) {
			return pb.NewLeaseClient(c.ActiveConnection()).LeaseGrant(ctx, req)
		})
	}
	grant("lease grant with id", &pb.LeaseGrantRequest{ID: id, TTL: 300})
	grant("lease grant duplicate id", &pb.LeaseGrantRequest{ID: id, TTL: 300})
	grant("lease grant second", &pb.LeaseGrantRequest{ID: id + 1, TTL: 600})
	d.do("put with lease", clientv3.OpPut("leased/1", "a", clientv3.WithLease(id)))
	d.do("put with lease 2", clientv3.OpPut("leased/2", "b", clientv3.WithLease(id)))
	d.do("put with other lease", clientv3.OpPut("leased/3", "c", clientv3.WithLease(id+1)))
	d.do("ignore lease keeps lease", clientv3.OpPut("leased/1", "a2", clientv3.WithIgnoreLease(), clientv3.WithPrevKV()))
	d.do("move key to other lease", clientv3.OpPut("leased/2", "b2", clientv3.WithLease(id+1)))
	d.do("detach lease", clientv3.OpPut("leased/3", "c2"))
	d.do("get leased", clientv3.OpGet("leased/", clientv3.WithPrefix()))
	d.do("txn lease compare", clientv3.OpTxn(
		[]clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue("leased/1"), "=", clientv3.LeaseID(id))},
		[]clientv3.Op{clientv3.OpGet("leased/1")}, []clientv3.Op{clientv3.OpGet("leased/2")}))
	d.call("lease time to live keys", func(ctx context.Context, c *clientv3.Client) (proto.Message, error) {
		r, err := pb.NewLeaseClient(c.ActiveConnection()).LeaseTimeToLive(ctx, &pb.LeaseTimeToLiveRequest{ID: id, Keys: true})
		if r != nil {
			r.TTL = 0 // counts down in real time
		}
		return r, err
	})
	d.call("lease time to live missing", func(ctx context.Context, c *clientv3.Client) (proto.Message, error) {
		r, err := pb.NewLeaseClient(c.ActiveConnection()).LeaseTimeToLive(ctx, &pb.LeaseTimeToLiveRequest{ID: 0x7777})
		return r, err
	})
	d.call("lease leases", func(ctx context.Context, c *clientv3.Client) (proto.Message, error) {
		return pb.NewLeaseClient(c.ActiveConnection()).LeaseLeases(ctx, &pb.LeaseLeasesRequest{})
	})
	d.call("lease revoke", func(ctx context.Context, c *clientv3.Client) (proto.Message, error) {
		return pb.NewLeaseClient(c.ActiveConnection()).LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: id})
	})
	d.call("lease revoke again", func(ctx context.Context, c *clientv3.Client) (proto.Message, error) {
		return pb.NewLeaseClient(c.ActiveConnection()).LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: id})
	})
	d.do("get after revoke", clientv3.OpGet("leased/", clientv3.WithPrefix()))
	d.do("put with revoked lease", clientv3.OpPut("leased/4", "d", clientv3.WithLease(id)))
	d.call("lease revoke second", func(ctx context.Context, c *clientv3.Client) (proto.Message, error) {
		return pb.NewLeaseClient(c.ActiveConnection()).LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: id + 1})
	})
	d.do("get after second revoke", clientv3.OpGet("leased/", clientv3.WithPrefix()))
}

// diffWatchHistory replays the whole history through watches before
// anything is compacted.
func diffWatchHistory(d *differ, singleKey string) {
	cur := d.rev()
	d.watchAll("watch everything from rev 1", "", cur, clientv3.WithPrefix(), clientv3.WithRev(1))
	d.watchAll("watch everything with prev kv", "", cur, clientv3.WithPrefix(), clientv3.WithRev(1), clientv3.WithPrevKV())
	d.watchAll("watch single key", singleKey, lastModRev(d, singleKey), clientv3.WithRev(1), clientv3.WithPrevKV())

	// Narrower watches end at the last event they can see, found in the
	// reference's full history.
	all, _, err := collectWatch(d.ref, "", cur, clientv3.WithPrefix(), clientv3.WithRev(1))
	if err != nil {
		d.t.Fatalf("reference watch: %v", err)
	}
	last := func(from int64, match func(*mvccpb.Event) bool) int64 {
		var rev int64
		for _, ev := range all {
			if ev.Kv.ModRevision >= from && match(ev) {
				rev = ev.Kv.ModRevision
			}
		}
		return rev
	}
	isDelete := func(ev *mvccpb.Event) bool { return ev.Type == mvccpb.DELETE }
	isPut := func(ev *mvccpb.Event) bool { return ev.Type == mvccpb.PUT }
	for _, w := range []struct {
		name, key string
		from      int64
		match     func(*mvccpb.Event) bool
		opts      []clientv3.OpOption
	}{
		{"deletes only", "", 1, isDelete, []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithFilterPut(), clientv3.WithPrevKV()}},
		{"puts only", "", 1, isPut, []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithFilterDelete()}},
		{"from mid history", "", cur / 2, func(*mvccpb.Event) bool { return true }, []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithPrevKV()}},
		{"range a..m from rev 3", "a", 3, func(ev *mvccpb.Event) bool { return string(ev.Kv.Key) >= "a" && string(ev.Kv.Key) < "m" }, []clientv3.OpOption{clientv3.WithRange("m")}},
		{"from key m", "m", 1, func(ev *mvccpb.Event) bool { return string(ev.Kv.Key) >= "m" }, []clientv3.OpOption{clientv3.WithFromKey()}},
	} {
		until := last(w.from, w.match)
		if until == 0 {
			continue // nothing in the history for this watch
		}
		d.watchAll("watch "+w.name, w.key, until, append(w.opts, clientv3.WithRev(w.from))...)
	}
}

func lastModRev(d *differ, key string) int64 {
	r := d.do("mod revision of "+key, clientv3.OpGet(key))
	if g := r.Get(); g != nil && len(g.Kvs) == 1 {
		return g.Kvs[0].ModRevision
	}
	d.t.Fatalf("key %q missing on the reference etcd", key)
	return 0
}

// watchAll collects the events of a watch opened with opts on both servers
// until one reaches revision until, and compares them.
func (d *differ) watchAll(name, key string, until int64, opts ...clientv3.OpOption) {
	d.t.Helper()
	ea, ca, erra := collectWatch(d.ref, key, until, opts...)
	eb, cb, errb := collectWatch(d.ours, key, until, opts...)
	d.steps++
	if erra != nil {
		d.t.Fatalf("step %d %s: reference watch: %v", d.steps, name, erra)
	}
	if errb != nil {
		d.t.Errorf("step %d %s: watch: %v", d.steps, name, errb)
		d.diffs++
		return
	}
	if ca != cb {
		d.t.Errorf("step %d %s: compact revision %d, reference %d", d.steps, name, cb, ca)
		d.diffs++
	}
	if diff := cmp.Diff(ea, eb, protocmp.Transform()); diff != "" {
		d.t.Errorf("step %d %s: events differ (-reference +ours):\n%s", d.steps, name, diff)
		d.diffs++
	}
}

// collectWatch returns the events of a watch up to revision until, or the
// compact revision if the watch was cancelled for compaction.
func collectWatch(cli *clientv3.Client, key string, until int64, opts ...clientv3.OpOption) ([]*mvccpb.Event, int64, error) {
	ctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(context.Background()), 15*time.Second)
	defer cancel()
	var events []*mvccpb.Event
	for resp := range cli.Watch(ctx, key, opts...) {
		if resp.CompactRevision != 0 {
			return events, resp.CompactRevision, nil
		}
		if err := resp.Err(); err != nil {
			return events, 0, err
		}
		for _, ev := range resp.Events {
			events = append(events, (*mvccpb.Event)(ev))
		}
		if len(events) > 0 && events[len(events)-1].Kv.ModRevision >= until {
			return events, 0, nil
		}
		if resp.Header.Revision >= until && len(resp.Events) == 0 && !resp.Created {
			return events, 0, nil
		}
	}
	return events, 0, fmt.Errorf("watch ended before revision %d (%d events): %w", until, len(events), ctx.Err())
}
