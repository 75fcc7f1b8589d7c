package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// runKVSequence covers puts, ranges with every option, deletes, txns, old
// revisions and compaction.
func runKVSequence(d *differ) {
	diffKVRequests(d)
	diffRangeHistory(d)
	diffCompaction(d)
}

// diffKVRequests is the request part of runKVSequence, before the history
// is read back.
func diffKVRequests(d *differ) {
	diffEmptyStore(d)
	diffPuts(d)
	diffRanges(d)
	diffDeletes(d)
	diffTxns(d)
}

// runRandomSequence sends a seeded pseudo-random mix of requests, then
// reads the history back and compacts.
func runRandomSequence(d *differ) {
	diffRandomRequests(d)
	diffRangeHistory(d)
	diffCompaction(d)
}

// diffRandomRequests is the request part of runRandomSequence.
func diffRandomRequests(d *differ) {
	d.do("put before random", clientv3.OpPut("foo", "bar"))
	diffRandom(d, rand.New(rand.NewPCG(7, 11)), 500)
}

func diffEmptyStore(d *differ) {
	d.do("get on empty store", clientv3.OpGet("a"))
	d.do("prefix get on empty store", clientv3.OpGet("", clientv3.WithPrefix()))
	d.do("from-key get on empty store", clientv3.OpGet("\x00", clientv3.WithFromKey()))
	d.do("count on empty store", clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithCountOnly()))
	d.do("delete on empty store", clientv3.OpDelete("a"))
	d.do("get empty key", clientv3.OpGet(""))
	d.do("put empty key", clientv3.OpPut("", "v"))
	d.do("delete empty key", clientv3.OpDelete(""))
}

func diffPuts(d *differ) {
	for _, kv := range [][2]string{
		{"a", "1"}, {"b", "2"}, {"c", "3"}, {"foo", "bar"},
		{"foo/1", "x1"}, {"foo/2", "x2"}, {"foo/3", "x3"}, {"foo/4", "x4"}, {"foo/5", "x5"},
		{"\x00nul", "binary key"}, {"\xff\xfe", "high bytes"}, {"empty", ""},
		{"big", strings.Repeat("0123456789abcdef", 4096)},
		{"unicode/κλειδί", "τιμή"}, {"foo0", "between foo and foo/"},
	} {
		d.do("put "+printable(kv[0]), clientv3.OpPut(kv[0], kv[1]))
	}
	d.do("overwrite with prev kv", clientv3.OpPut("foo", "bar2", clientv3.WithPrevKV()))
	d.do("overwrite again with prev kv", clientv3.OpPut("foo", "bar3", clientv3.WithPrevKV()))
	d.do("put new key with prev kv", clientv3.OpPut("fresh", "f", clientv3.WithPrevKV()))
	d.do("ignore value on existing key", clientv3.OpPut("foo", "", clientv3.WithIgnoreValue(), clientv3.WithPrevKV()))
	d.do("ignore value on missing key", clientv3.OpPut("missing", "", clientv3.WithIgnoreValue()))
	d.do("ignore lease on key without lease", clientv3.OpPut("a", "1b", clientv3.WithIgnoreLease()))
	d.do("put same value twice", clientv3.OpPut("b", "2"))
	d.do("put with missing lease", clientv3.OpPut("leased", "x", clientv3.WithLease(0x7fff0001)))
	d.do("value then ignore value mixed", clientv3.OpPut("c", "3b", clientv3.WithIgnoreValue()))
}

func diffRanges(d *differ) {
	cur := d.rev()
	gets := []struct {
		name string
		key  string
		opts []clientv3.OpOption
	}{
		{"single", "foo", nil},
		{"missing", "nope", nil},
		{"binary", "\x00nul", nil},
		{"high bytes", "\xff\xfe", nil},
		{"empty value", "empty", nil},
		{"big value", "big", nil},
		{"prefix", "foo/", []clientv3.OpOption{clientv3.WithPrefix()}},
		{"prefix foo", "foo", []clientv3.OpOption{clientv3.WithPrefix()}},
		{"all", "", []clientv3.OpOption{clientv3.WithPrefix()}},
		{"from key", "foo", []clientv3.OpOption{clientv3.WithFromKey()}},
		{"from nul", "\x00", []clientv3.OpOption{clientv3.WithFromKey()}},
		{"range", "a", []clientv3.OpOption{clientv3.WithRange("c")}},
		{"range inverted", "c", []clientv3.OpOption{clientv3.WithRange("a")}},
		{"range to end", "foo/3", []clientv3.OpOption{clientv3.WithRange("\xff\xff")}},
		{"limit", "foo/", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithLimit(2)}},
		{"limit equal count", "foo/", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithLimit(5)}},
		{"limit above count", "foo/", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithLimit(50)}},
		{"count only", "foo/", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithCountOnly()}},
		{"count only with limit", "foo/", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithCountOnly(), clientv3.WithLimit(1)}},
		{"keys only", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithKeysOnly()}},
		{"serializable", "foo", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithSerializable()}},
		{"rev 1", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithRev(1)}},
		{"rev 3", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithRev(3)}},
		{"rev 5 single", "foo", []clientv3.OpOption{clientv3.WithRev(5)}},
		{"rev current", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithRev(cur)}},
		{"rev future", "foo", []clientv3.OpOption{clientv3.WithRev(cur + 1)}},
		{"rev far future", "foo", []clientv3.OpOption{clientv3.WithRev(cur + 1000)}},
		{"min mod rev", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithMinModRev(8)}},
		{"max mod rev", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithMaxModRev(8)}},
		{"min create rev", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithMinCreateRev(6)}},
		{"max create rev", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithMaxCreateRev(6)}},
		{"mod rev window with limit", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithMinModRev(4), clientv3.WithMaxModRev(12), clientv3.WithLimit(3)}},
		{"create rev window count", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithMinCreateRev(3), clientv3.WithMaxCreateRev(9), clientv3.WithCountOnly()}},
		{"keys only at rev", "foo", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithRev(10)}},
		{"serializable limit", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithSerializable(), clientv3.WithLimit(4)}},
	}
	for _, g := range gets {
		d.do("get "+g.name, clientv3.OpGet(g.key, g.opts...))
	}
	targets := []clientv3.SortTarget{clientv3.SortByKey, clientv3.SortByVersion, clientv3.SortByCreateRevision, clientv3.SortByModRevision, clientv3.SortByValue}
	orders := []clientv3.SortOrder{clientv3.SortNone, clientv3.SortAscend, clientv3.SortDescend}
	for _, tg := range targets {
		for _, o := range orders {
			name := fmt.Sprintf("sort %v %v", pb.RangeRequest_SortTarget(tg), pb.RangeRequest_SortOrder(o))
			d.doSorted(name, clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithSort(tg, o)), sortSpec{tg, o, 0})
			d.doSorted(name+" limit 3", clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithSort(tg, o), clientv3.WithLimit(3)), sortSpec{tg, o, 3})
			d.doSorted(name+" limit 8", clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithSort(tg, o), clientv3.WithLimit(8)), sortSpec{tg, o, 8})
			d.doSorted(name+" foo/ keys only at rev", clientv3.OpGet("foo/", clientv3.WithPrefix(), clientv3.WithSort(tg, o), clientv3.WithKeysOnly(), clientv3.WithRev(cur-2)), sortSpec{tg, o, 0})
		}
	}
}

func diffDeletes(d *differ) {
	d.do("delete single with prev kv", clientv3.OpDelete("a", clientv3.WithPrevKV()))
	d.do("delete it again", clientv3.OpDelete("a", clientv3.WithPrevKV()))
	d.do("delete range with prev kv", clientv3.OpDelete("foo/2", clientv3.WithRange("foo/4"), clientv3.WithPrevKV()))
	d.do("delete prefix", clientv3.OpDelete("foo/", clientv3.WithPrefix()))
	d.do("delete prefix nothing left", clientv3.OpDelete("foo/", clientv3.WithPrefix(), clientv3.WithPrevKV()))
	d.do("put for from-key delete", clientv3.OpPut("x1", "1"))
	d.do("put for from-key delete 2", clientv3.OpPut("x2", "2"))
	d.do("delete from key", clientv3.OpDelete("x", clientv3.WithFromKey(), clientv3.WithPrevKV()))
	d.do("recreate deleted key", clientv3.OpPut("a", "reborn", clientv3.WithPrevKV()))
	d.do("get recreated", clientv3.OpGet("a"))
	d.do("get deleted range", clientv3.OpGet("foo/", clientv3.WithPrefix()))
	d.do("delete inverted range", clientv3.OpDelete("z", clientv3.WithRange("a")))
	d.do("delete binary key", clientv3.OpDelete("\x00nul", clientv3.WithPrevKV()))
}

func diffTxns(d *differ) {
	cur := d.rev()
	cmpTxn := func(name string, cmps []clientv3.Cmp, thenOps, elseOps []clientv3.Op) {
		d.do("txn "+name, clientv3.OpTxn(cmps, thenOps, elseOps))
	}
	cmpTxn("value equal", []clientv3.Cmp{clientv3.Compare(clientv3.Value("foo"), "=", "bar3")},
		[]clientv3.Op{clientv3.OpPut("foo", "txn1"), clientv3.OpGet("foo")},
		[]clientv3.Op{clientv3.OpGet("b")})
	cmpTxn("value equal fails", []clientv3.Cmp{clientv3.Compare(clientv3.Value("foo"), "=", "bar3")},
		[]clientv3.Op{clientv3.OpPut("foo", "never")},
		[]clientv3.Op{clientv3.OpGet("foo"), clientv3.OpDelete("b", clientv3.WithPrevKV())})
	cmpTxn("version greater", []clientv3.Cmp{clientv3.Compare(clientv3.Version("foo"), ">", 2)},
		[]clientv3.Op{clientv3.OpPut("t1", "v")}, nil)
	cmpTxn("version less", []clientv3.Cmp{clientv3.Compare(clientv3.Version("foo"), "<", 2)},
		nil, []clientv3.Op{clientv3.OpPut("t2", "v")})
	cmpTxn("create revision equal", []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision("c"), "=", 4)},
		[]clientv3.Op{clientv3.OpGet("c")}, []clientv3.Op{clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithKeysOnly())})
	cmpTxn("mod revision less", []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision("foo"), "<", cur)},
		[]clientv3.Op{clientv3.OpPut("t3", "v", clientv3.WithPrevKV())}, nil)
	cmpTxn("value not equal", []clientv3.Cmp{clientv3.Compare(clientv3.Value("c"), "!=", "zzz")},
		[]clientv3.Op{clientv3.OpPut("c", "3c", clientv3.WithPrevKV())}, nil)
	cmpTxn("value greater and less", []clientv3.Cmp{
		clientv3.Compare(clientv3.Value("c"), ">", "3"),
		clientv3.Compare(clientv3.Value("c"), "<", "4"),
	}, []clientv3.Op{clientv3.OpGet("c")}, []clientv3.Op{clientv3.OpGet("a")})
	cmpTxn("missing key version zero", []clientv3.Cmp{clientv3.Compare(clientv3.Version("absent"), "=", 0)},
		[]clientv3.Op{clientv3.OpPut("absent", "now")}, nil)
	cmpTxn("missing key value compare", []clientv3.Cmp{clientv3.Compare(clientv3.Value("absent2"), "=", "")},
		[]clientv3.Op{clientv3.OpPut("absent2", "then")}, []clientv3.Op{clientv3.OpPut("absent2", "else")})
	cmpTxn("missing key create revision", []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision("absent3"), "=", 0)},
		[]clientv3.Op{clientv3.OpGet("absent3")}, nil)
	cmpTxn("lease compare", []clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue("c"), "=", clientv3.NoLease)},
		[]clientv3.Op{clientv3.OpGet("c")}, nil)
	cmpTxn("prefix compare all match", []clientv3.Cmp{clientv3.Compare(clientv3.Version("t"), ">", 0).WithPrefix()},
		[]clientv3.Op{clientv3.OpGet("t", clientv3.WithPrefix())}, nil)
	cmpTxn("prefix compare one fails", []clientv3.Cmp{clientv3.Compare(clientv3.Value("t"), "=", "v").WithPrefix()},
		[]clientv3.Op{clientv3.OpPut("t4", "v")}, []clientv3.Op{clientv3.OpGet("t", clientv3.WithPrefix(), clientv3.WithCountOnly())})
	cmpTxn("range compare", []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision("a"), ">", 0).WithRange("c")},
		[]clientv3.Op{clientv3.OpGet("a", clientv3.WithRange("c"))}, nil)
	cmpTxn("multiple puts one revision", nil,
		[]clientv3.Op{clientv3.OpPut("m1", "1"), clientv3.OpPut("m2", "2"), clientv3.OpPut("m3", "3", clientv3.WithPrevKV())}, nil)
	d.do("get multi-put keys", clientv3.OpGet("m", clientv3.WithPrefix()))
	cmpTxn("put then read own write", nil,
		[]clientv3.Op{clientv3.OpPut("own", "w"), clientv3.OpGet("own"), clientv3.OpDelete("m1"), clientv3.OpGet("m", clientv3.WithPrefix())}, nil)
	cmpTxn("read only", []clientv3.Cmp{clientv3.Compare(clientv3.Version("own"), "=", 1)},
		[]clientv3.Op{clientv3.OpGet("own"), clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithCountOnly())}, nil)
	cmpTxn("empty", nil, nil, nil)
	cmpTxn("failing with empty else", []clientv3.Cmp{clientv3.Compare(clientv3.Value("own"), "=", "no")}, []clientv3.Op{clientv3.OpPut("own", "x")}, nil)
	cmpTxn("delete with prev kv", nil, []clientv3.Op{clientv3.OpDelete("m", clientv3.WithPrefix(), clientv3.WithPrevKV())}, nil)
	cmpTxn("nested", []clientv3.Cmp{clientv3.Compare(clientv3.Version("own"), ">", 0)},
		[]clientv3.Op{
			clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.Value("own"), "=", "w")},
				[]clientv3.Op{clientv3.OpPut("nested", "yes"), clientv3.OpGet("nested")},
				[]clientv3.Op{clientv3.OpPut("nested", "no")}),
			clientv3.OpGet("own"),
		}, nil)
	cmpTxn("nested failing", nil,
		[]clientv3.Op{clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.Value("own"), "=", "nope")}, nil,
			[]clientv3.Op{clientv3.OpDelete("nested", clientv3.WithPrevKV())})}, nil)
	cmpTxn("duplicate put", nil, []clientv3.Op{clientv3.OpPut("dup", "1"), clientv3.OpPut("dup", "2")}, nil)
	cmpTxn("put and delete same key", nil, []clientv3.Op{clientv3.OpPut("dup", "1"), clientv3.OpDelete("dup")}, nil)
	cmpTxn("put inside deleted range", nil, []clientv3.Op{clientv3.OpDelete("d", clientv3.WithPrefix()), clientv3.OpPut("dup", "1")}, nil)
	cmpTxn("put with missing key ignore value", nil, []clientv3.Op{clientv3.OpPut("nokey-iv", "", clientv3.WithIgnoreValue())}, nil)
	cmpTxn("get at old revision inside txn", nil, []clientv3.Op{clientv3.OpGet("foo", clientv3.WithRev(cur-3))}, nil)
	cmpTxn("get at future revision inside txn", nil, []clientv3.Op{clientv3.OpGet("foo", clientv3.WithRev(cur+100))}, nil)
	d.do("after txns", clientv3.OpGet("", clientv3.WithPrefix()))
}

// diffRandom sends n pseudo-random requests over a small key space.
func diffRandom(d *differ, rng *rand.Rand, n int) {
	key := func() string { return fmt.Sprintf("r/%02d", rng.IntN(20)) }
	val := func() string { return fmt.Sprintf("v%d", rng.IntN(1000)) }
	for i := range n {
		name := fmt.Sprintf("random %d", i)
		switch x := rng.IntN(100); {
		case x < 40:
			opts := []clientv3.OpOption{}
			if rng.IntN(3) == 0 {
				opts = append(opts, clientv3.WithPrevKV())
			}
			d.do(name+" put", clientv3.OpPut(key(), val(), opts...))
		case x < 50:
			d.do(name+" delete", clientv3.OpDelete(key(), clientv3.WithPrevKV()))
		case x < 55:
			a, b := key(), key()
			d.do(name+" delete range", clientv3.OpDelete(min(a, b), clientv3.WithRange(max(a, b))))
		case x < 80:
			opts, spec := randomGetOpts(rng)
			if spec != nil {
				d.doSorted(name+" sorted get", clientv3.OpGet(key(), opts...), *spec)
			} else {
				d.do(name+" get", clientv3.OpGet(key(), opts...))
			}
		default:
			k := key()
			var c clientv3.Cmp
			switch rng.IntN(4) {
			case 0:
				c = clientv3.Compare(clientv3.Value(k), []string{"=", "!=", ">", "<"}[rng.IntN(4)], val())
			case 1:
				c = clientv3.Compare(clientv3.Version(k), []string{"=", "!=", ">", "<"}[rng.IntN(4)], rng.IntN(4))
			case 2:
				c = clientv3.Compare(clientv3.ModRevision(k), []string{"=", "!=", ">", "<"}[rng.IntN(4)], rng.IntN(200))
			default:
				c = clientv3.Compare(clientv3.CreateRevision(k), []string{"=", "!=", ">", "<"}[rng.IntN(4)], rng.IntN(200))
			}
			if rng.IntN(4) == 0 {
				c = c.WithPrefix()
			}
			d.do(name+" txn", clientv3.OpTxn([]clientv3.Cmp{c},
				[]clientv3.Op{clientv3.OpPut(k, val(), clientv3.WithPrevKV()), clientv3.OpGet("r/", clientv3.WithPrefix(), clientv3.WithCountOnly())},
				[]clientv3.Op{clientv3.OpDelete(key(), clientv3.WithPrevKV()), clientv3.OpGet(k)}))
		}
	}
}

func randomGetOpts(rng *rand.Rand) ([]clientv3.OpOption, *sortSpec) {
	var opts []clientv3.OpOption
	var spec *sortSpec
	limit := int64(-1)
	switch rng.IntN(3) {
	case 0:
		opts = append(opts, clientv3.WithPrefix())
	case 1:
		opts = append(opts, clientv3.WithRange(fmt.Sprintf("r/%02d", rng.IntN(21))))
	}
	if rng.IntN(3) == 0 {
		limit = int64(rng.IntN(4))
		opts = append(opts, clientv3.WithLimit(limit))
	}
	if rng.IntN(3) == 0 {
		s := sortSpec{clientv3.SortTarget(rng.IntN(5)), clientv3.SortOrder(rng.IntN(3)), max(limit, 0)}
		spec = &s
		opts = append(opts, clientv3.WithSort(s.target, s.order))
	}
	if rng.IntN(4) == 0 {
		opts = append(opts, clientv3.WithKeysOnly())
	}
	if rng.IntN(6) == 0 {
		opts = append(opts, clientv3.WithCountOnly())
	}
	if rng.IntN(5) == 0 {
		opts = append(opts, clientv3.WithRev(int64(1+rng.IntN(40))))
	}
	if rng.IntN(6) == 0 {
		opts = append(opts, clientv3.WithMinModRev(int64(rng.IntN(100))))
	}
	if rng.IntN(6) == 0 {
		opts = append(opts, clientv3.WithMaxCreateRev(int64(rng.IntN(100))))
	}
	if rng.IntN(5) == 0 {
		opts = append(opts, clientv3.WithSerializable())
	}
	return opts, spec
}

// diffRangeHistory reads the whole store back at every revision from 1 to
// the current one, before anything is compacted, and counts and lists the
// keys alone at a few revisions.
func diffRangeHistory(d *differ) {
	cur := d.rev()
	for r := int64(1); r <= cur; r++ {
		d.do(fmt.Sprintf("get all at rev %d", r), clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithRev(r)))
	}
	for _, r := range []int64{1, 2, 5, cur / 4, cur / 2, cur - 1, cur} {
		d.do(fmt.Sprintf("count at rev %d", r), clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithRev(r), clientv3.WithCountOnly()))
		d.do(fmt.Sprintf("keys only at rev %d", r), clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithRev(r), clientv3.WithKeysOnly()))
	}
}

// diffCompaction compacts logically at mid history, then physically at the
// current revision, reading around both.
func diffCompaction(d *differ) {
	cur := d.rev()
	mid := cur / 2
	compact := func(name string, rev int64, opts ...clientv3.CompactOption) {
		d.call(name, func(ctx context.Context, c *clientv3.Client) (proto.Message, error) {
			r, err := c.Compact(ctx, rev, opts...)
			return (*pb.CompactionResponse)(r), err
		})
	}
	compact("compact mid", mid)
	d.do("get below compaction", clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithRev(mid-1)))
	d.do("get at compaction", clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithRev(mid)))
	d.do("get above compaction", clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithRev(mid+1)))
	d.do("txn get below compaction", clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpGet("foo", clientv3.WithRev(1))}, nil))
	compact("compact same revision again", mid)
	compact("compact older revision", mid-1)
	compact("compact future revision", cur+100)
	d.do("put after compaction", clientv3.OpPut("after", "compaction"))
	cur = d.rev()
	compact("compact physical at current", cur, clientv3.WithCompactPhysical())
	d.do("get at current after physical compaction", clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithRev(cur)))
	d.do("get below physical compaction", clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithRev(cur-1)))
	d.do("get latest after compaction", clientv3.OpGet("", clientv3.WithPrefix()))
	d.do("put after physical compaction", clientv3.OpPut("after", "physical", clientv3.WithPrevKV()))
	d.do("overwrite keeps create revision", clientv3.OpPut("foo", "final", clientv3.WithPrevKV()))
	d.do("final state", clientv3.OpGet("", clientv3.WithPrefix()))
	d.do("final state sorted by mod desc", clientv3.OpGet("", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortDescend)))
}

func printable(s string) string { return fmt.Sprintf("%q", s) }
