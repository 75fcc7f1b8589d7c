package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/etcdgo/etcd/tests/framework"
)

// maxDiffs stops a differential run once this many steps have differed:
// after a divergence every later revision differs too.
const maxDiffs = 30

// differ sends the same requests to the reference etcd and to ours and
// compares the responses field by field, ignoring cluster_id, member_id
// and raft_term.
type differ struct {
	t     *testing.T
	ref   *clientv3.Client
	ours  *clientv3.Client
	steps int
	diffs int
	last  time.Time // when the previous step finished
	// refErrors counts steps where the reference returned an error.
	refErrors int
}

func newDiffer(t *testing.T, ref, ours *clientv3.Client) *differ {
	return &differ{t: t, ref: ref, ours: ours}
}

func opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 15*time.Second)
}

// do runs op on both servers and compares; it returns the reference
// response.
func (d *differ) do(name string, op clientv3.Op) clientv3.OpResponse {
	d.t.Helper()
	ctx, cancel := opCtx()
	defer cancel()
	ra, ea := d.ref.Do(ctx, op)
	rb, eb := d.ours.Do(ctx, op)
	d.compare(name, opMessage(ra), ea, opMessage(rb), eb)
	return ra
}

// sortSpec describes the sort of a range request, for comparing responses
// whose order among equal sort values is unspecified.
type sortSpec struct {
	target clientv3.SortTarget
	order  clientv3.SortOrder
	limit  int64
}

// doSorted is do for a sorted range request. etcd sorts with an unstable
// sort, so keys with equal sort values may come in any order, and when a
// limit cuts through such a group, any of its keys may be returned. Both
// responses are put in (sort value, key) order before comparing, the group
// cut by the limit is compared by size only, and ours is checked to be
// sorted as requested.
func (d *differ) doSorted(name string, op clientv3.Op, spec sortSpec) clientv3.OpResponse {
	d.t.Helper()
	ctx, cancel := opCtx()
	defer cancel()
	ra, ea := d.ref.Do(ctx, op)
	rb, eb := d.ours.Do(ctx, op)
	var ma, mb proto.Message
	if ea == nil && eb == nil && ra.Get() != nil && rb.Get() != nil {
		a := proto.Clone((*pb.RangeResponse)(ra.Get())).(*pb.RangeResponse)
		b := proto.Clone((*pb.RangeResponse)(rb.Get())).(*pb.RangeResponse)
		if err := checkSorted(b.Kvs, spec); err != nil {
			d.t.Errorf("step %d %s: %v", d.steps+1, name, err)
			d.diffs++
		}
		canonicalSort(a, b, spec)
		ma, mb = a, b
	} else {
		ma, mb = opMessage(ra), opMessage(rb)
	}
	d.compare(name, ma, ea, mb, eb)
	return ra
}

// effectiveOrder is the order etcd applies: a non-key target with no order
// sorts ascending.
func effectiveOrder(spec sortSpec) clientv3.SortOrder {
	if spec.order == clientv3.SortNone && spec.target != clientv3.SortByKey {
		return clientv3.SortAscend
	}
	return spec.order
}

func sortValue(kv *mvccpb.KeyValue, target clientv3.SortTarget) (int64, []byte) {
	switch target {
	case clientv3.SortByVersion:
		return kv.Version, nil
	case clientv3.SortByCreateRevision:
		return kv.CreateRevision, nil
	case clientv3.SortByModRevision:
		return kv.ModRevision, nil
	case clientv3.SortByValue:
		return 0, kv.Value
	default:
		return 0, kv.Key
	}
}

// cmpSortValue compares two kvs by target only.
func cmpSortValue(a, b *mvccpb.KeyValue, target clientv3.SortTarget) int {
	na, ba := sortValue(a, target)
	nb, bb := sortValue(b, target)
	if c := cmpInt(na, nb); c != 0 {
		return c
	}
	return bytes.Compare(ba, bb)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func checkSorted(kvs []*mvccpb.KeyValue, spec sortSpec) error {
	order := effectiveOrder(spec)
	if order == clientv3.SortNone {
		return nil
	}
	for i := 1; i < len(kvs); i++ {
		c := cmpSortValue(kvs[i-1], kvs[i], spec.target)
		if (order == clientv3.SortAscend && c > 0) || (order == clientv3.SortDescend && c < 0) {
			return fmt.Errorf("kvs not sorted by %v %v: %q before %q", spec.target, order, kvs[i-1].Key, kvs[i].Key)
		}
	}
	return nil
}

// canonicalSort orders both responses' kvs by (sort value, key) and, if the
// reference response was cut by the limit, drops from both the group of kvs
// sharing the last sort value, replacing it by a marker holding its size.
func canonicalSort(a, b *pb.RangeResponse, spec sortSpec) {
	order := effectiveOrder(spec)
	if spec.target == clientv3.SortByKey || order == clientv3.SortNone {
		return
	}
	for _, r := range []*pb.RangeResponse{a, b} {
		slices.SortStableFunc(r.Kvs, func(x, y *mvccpb.KeyValue) int {
			c := cmpSortValue(x, y, spec.target)
			if order == clientv3.SortDescend {
				c = -c
			}
			if c != 0 {
				return c
			}
			return bytes.Compare(x.Key, y.Key)
		})
	}
	if spec.limit <= 0 || !a.More || len(a.Kvs) == 0 {
		return
	}
	last := a.Kvs[len(a.Kvs)-1]
	for _, r := range []*pb.RangeResponse{a, b} {
		kept := r.Kvs[:0:0]
		group := 0
		for _, kv := range r.Kvs {
			if cmpSortValue(kv, last, spec.target) == 0 {
				group++
				continue
			}
			kept = append(kept, kv)
		}
		r.Kvs = append(kept, &mvccpb.KeyValue{Key: []byte(fmt.Sprintf("<%d keys tied at the limit>", group))})
	}
}

// call runs f against both servers (f gets the client) and compares the
// returned messages.
func (d *differ) call(name string, f func(context.Context, *clientv3.Client) (proto.Message, error)) proto.Message {
	d.t.Helper()
	ctx, cancel := opCtx()
	defer cancel()
	ma, ea := f(ctx, d.ref)
	mb, eb := f(ctx, d.ours)
	d.compare(name, ma, ea, mb, eb)
	return ma
}

func (d *differ) compare(name string, ma proto.Message, ea error, mb proto.Message, eb error) {
	d.t.Helper()
	d.steps++
	if !d.last.IsZero() && time.Since(d.last) > 2*time.Second {
		d.t.Logf("step %d %s: slow, %s since the previous step", d.steps, name, time.Since(d.last).Round(time.Millisecond))
	}
	d.last = time.Now()
	if ea != nil {
		d.refErrors++
	}
	if ea != nil && errors.Is(ea, context.DeadlineExceeded) {
		d.t.Fatalf("step %d %s: the reference etcd timed out: %v", d.steps, name, ea)
	}
	bad := false
	switch {
	case ea == nil && eb != nil:
		d.t.Errorf("step %d %s: ours failed with %v; the reference succeeded with %v", d.steps, name, eb, ma)
		bad = true
	case ea != nil && eb == nil:
		d.t.Errorf("step %d %s: ours succeeded with %v; the reference failed with %v", d.steps, name, mb, ea)
		bad = true
	case ea != nil:
		ca, cb := status.Code(ea), status.Code(eb)
		da, db := rpctypes.ErrorDesc(ea), rpctypes.ErrorDesc(eb)
		if ca != cb || da != db {
			d.t.Errorf("step %d %s: error differs\nreference: code %s %q\nours:      code %s %q", d.steps, name, ca, da, cb, db)
			bad = true
		}
	default:
		if diff := cmp.Diff(stripIdentity(ma), stripIdentity(mb), protocmp.Transform()); diff != "" {
			d.t.Errorf("step %d %s: response differs (-reference +ours):\n%s", d.steps, name, diff)
			bad = true
		}
	}
	if bad {
		d.diffs++
		if d.diffs >= maxDiffs {
			d.t.Fatalf("stopping after %d differing steps (of %d)", d.diffs, d.steps)
		}
	}
}

// opMessage returns the protobuf message inside an OpResponse.
func opMessage(r clientv3.OpResponse) proto.Message {
	switch {
	case r.Put() != nil:
		return (*pb.PutResponse)(r.Put())
	case r.Get() != nil:
		return (*pb.RangeResponse)(r.Get())
	case r.Del() != nil:
		return (*pb.DeleteRangeResponse)(r.Del())
	case r.Txn() != nil:
		return (*pb.TxnResponse)(r.Txn())
	}
	return nil
}

// stripIdentity returns a copy of m with cluster_id, member_id and
// raft_term cleared in every ResponseHeader it contains, however nested.
func stripIdentity(m proto.Message) proto.Message {
	if m == nil {
		return nil
	}
	c := proto.Clone(m)
	clearHeaders(c.ProtoReflect())
	return c
}

var headerName = (&pb.ResponseHeader{}).ProtoReflect().Descriptor().FullName()

func clearHeaders(m protoreflect.Message) {
	if m.Descriptor().FullName() == headerName {
		fields := m.Descriptor().Fields()
		for _, n := range []protoreflect.Name{"cluster_id", "member_id", "raft_term"} {
			if f := fields.ByName(n); f != nil {
				m.Clear(f)
			}
		}
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				clearHeaders(l.Get(i).Message())
			}
		case fd.IsMap():
		case fd.Message() != nil:
			clearHeaders(v.Message())
		}
		return true
	})
}

// rev returns the store revision both servers report (they must agree).
func (d *differ) rev() int64 {
	d.t.Helper()
	r := d.do("current revision", clientv3.OpGet("\x00probe-revision"))
	if r.Get() == nil {
		d.t.Fatalf("reading the current revision from the reference etcd failed")
	}
	return r.Get().Header.Revision
}

// diffSequence is a named run of requests compared by a differ.
type diffSequence struct {
	name string
	run  func(*differ)
}

// TestDifferentialAgainstEtcd runs deterministic sequences of KV, txn,
// range-history and compaction requests through client/v3 against the
// official etcd v3.7.3 and ours, and compares every response. Watch and
// Lease RPCs are left to differential_watchlease_test.go (build tag
// issue3) until our member serves them.
func TestDifferentialAgainstEtcd(t *testing.T) {
	runDifferential(t, []diffSequence{
		{"kv", runKVSequence},
		{"random", runRandomSequence},
	})
}

// runDifferential runs each sequence as a subtest. Each subtest starts a
// fresh pair of servers, so a divergence in one area (which shifts every
// later revision) does not hide the results of the others.
func runDifferential(t *testing.T, seqs []diffSequence) {
	for _, seq := range seqs {
		t.Run(seq.name, func(t *testing.T) {
			d := startDiffPair(t)
			seq.run(d)
			t.Logf("%d steps compared (%d were errors on the reference), %d differed", d.steps, d.refErrors, d.diffs)
			if d.refErrors > d.steps/3 {
				t.Errorf("the reference etcd rejected %d of %d steps; the sequence is not exercising what it should", d.refErrors, d.steps)
			}
		})
	}
}

// startDiffPair starts the official etcd and ours, each a lone member on a
// fresh data directory, and returns a differ between them.
func startDiffPair(t *testing.T) *differ {
	t.Helper()
	d, _, _ := startDiffMembers(t)
	return d
}

// startDiffMembers is startDiffPair that also returns the two members.
func startDiffMembers(t *testing.T) (d *differ, theirs, ours *framework.Member) {
	t.Helper()
	ref := framework.Reference(t)
	theirs = framework.StartMember(t, framework.MemberConfig{Bin: ref.Etcd, Name: "diff"})
	ours = framework.StartMember(t, framework.MemberConfig{Name: "diff"})
	return newDiffer(t, theirs.Client(t), ours.Client(t)), theirs, ours
}
