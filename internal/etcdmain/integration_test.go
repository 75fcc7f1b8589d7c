package etcdmain_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
)

func TestCompaction(t *testing.T) {
	m := startMember(t)
	r1 := putAll(t, m, "c/k", "v1", "c/k", "v2", "c/k", "v3", "c/k", "v4", "c/k", "v5")
	r5 := r1 + 4
	kv := pb.NewKVClient(m.cli.ActiveConnection())

	_, err := m.cli.Compact(m.ctx(), r5+1)
	wantClientErr(t, "compact a future revision", err, rpctypes.ErrFutureRev)
	_, err = kv.Compact(m.ctx(), &pb.CompactionRequest{Revision: r5 + 100})
	wantStatus(t, "raw compact a future revision", err, rpctypes.ErrGRPCFutureRev)

	cresp, err := m.cli.Compact(m.ctx(), r1+2)
	if err != nil {
		t.Fatalf("compact at %d: %v", r1+2, err)
	}
	if cresp.Header == nil || cresp.Header.Revision != r5 {
		t.Errorf("compact response header %v, want revision %d (compaction makes none)", cresp.Header, r5)
	}

	_, err = m.cli.Get(m.ctx(), "c/k", clientv3.WithRev(r1+1))
	wantClientErr(t, "read below the compacted revision", err, rpctypes.ErrCompacted)
	_, err = kv.Range(m.ctx(), &pb.RangeRequest{Key: []byte("c/k"), Revision: r1})
	wantStatus(t, "raw read below the compacted revision", err, rpctypes.ErrGRPCCompacted)
	g, err := m.cli.Get(m.ctx(), "c/k", clientv3.WithRev(r1+2))
	if err != nil {
		t.Fatalf("read at the compacted revision: %v", err)
	}
	if len(g.Kvs) != 1 || string(g.Kvs[0].Value) != "v3" {
		t.Errorf("c/k at the compacted revision: %v, want v3", g.Kvs)
	}
	_, err = m.cli.Get(m.ctx(), "c/k", clientv3.WithRev(r5+1))
	wantClientErr(t, "read a future revision", err, rpctypes.ErrFutureRev)
	_, err = kv.Range(m.ctx(), &pb.RangeRequest{Key: []byte("c/k"), Revision: r5 + 1})
	wantStatus(t, "raw read a future revision", err, rpctypes.ErrGRPCFutureRev)
	_, err = m.cli.Txn(m.ctx()).Then(clientv3.OpGet("c/k", clientv3.WithRev(r1))).Commit()
	wantClientErr(t, "txn read below the compacted revision", err, rpctypes.ErrCompacted)
	// A txn that fails its checks writes nothing, even its puts before the
	// failing read.
	_, err = m.cli.Txn(m.ctx()).Then(clientv3.OpPut("c/w", "x"), clientv3.OpGet("c/k", clientv3.WithRev(r5+1))).Commit()
	wantClientErr(t, "txn read of a future revision", err, rpctypes.ErrFutureRev)
	if g, err := m.cli.Get(m.ctx(), "c/w"); err != nil || len(g.Kvs) != 0 || g.Header.Revision != r5 {
		t.Errorf("a failed txn wrote: %v %v", g, err)
	}

	_, err = m.cli.Compact(m.ctx(), r1+2)
	wantClientErr(t, "compact the compacted revision again", err, rpctypes.ErrCompacted)
	_, err = m.cli.Compact(m.ctx(), r1)
	wantClientErr(t, "compact below the compacted revision", err, rpctypes.ErrCompacted)

	if _, err := m.cli.Compact(m.ctx(), r5, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("physical compact at %d: %v", r5, err)
	}
	h, err := m.cli.HashKV(m.ctx(), m.clientURL, 0)
	if err != nil {
		t.Fatalf("hashkv: %v", err)
	}
	if h.CompactRevision != r5 || h.HashRevision != r5 {
		t.Errorf("hashkv after physical compaction: compact revision %d hash revision %d, want %d %d", h.CompactRevision, h.HashRevision, r5, r5)
	}
	_, err = m.cli.HashKV(m.ctx(), m.clientURL, r1+3)
	wantClientErr(t, "hashkv below the compacted revision", err, rpctypes.ErrCompacted)
	_, err = m.cli.Get(m.ctx(), "c/k", clientv3.WithRev(r5-1))
	wantClientErr(t, "read below the physically compacted revision", err, rpctypes.ErrCompacted)
	g, err = m.cli.Get(m.ctx(), "c/k")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if len(g.Kvs) != 1 || string(g.Kvs[0].Value) != "v5" || g.Kvs[0].Version != 5 || g.Kvs[0].CreateRevision != r1 {
		t.Errorf("c/k after compaction: %v, want v5 version 5 created at %d", g.Kvs, r1)
	}
	// Writes carry on from the revision before the compaction.
	p, err := m.cli.Put(m.ctx(), "c/k", "v6")
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if p.Header.Revision != r5+1 {
		t.Errorf("put after compaction at %d, want %d", p.Header.Revision, r5+1)
	}
	// The compaction survives a restart.
	m.restart()
	_, err = m.cli.Get(m.ctx(), "c/k", clientv3.WithRev(r5-1))
	wantClientErr(t, "read below the compacted revision after a restart", err, rpctypes.ErrCompacted)
}

func TestRequestErrors(t *testing.T) {
	m := startMember(t, "--max-txn-ops", "4", "--max-request-bytes", "4096")
	kv := pb.NewKVClient(m.cli.ActiveConnection())

	t.Run("empty key", func(t *testing.T) {
		_, err := m.cli.Put(m.ctx(), "", "v")
		wantClientErr(t, "put", err, rpctypes.ErrEmptyKey)
		_, err = kv.Put(m.ctx(), &pb.PutRequest{Value: []byte("v")})
		wantStatus(t, "raw put", err, rpctypes.ErrGRPCEmptyKey)
		_, err = kv.Range(m.ctx(), &pb.RangeRequest{})
		wantStatus(t, "raw range", err, rpctypes.ErrGRPCEmptyKey)
		_, err = kv.DeleteRange(m.ctx(), &pb.DeleteRangeRequest{})
		wantStatus(t, "raw delete", err, rpctypes.ErrGRPCEmptyKey)
		_, err = m.cli.Txn(m.ctx()).Then(clientv3.OpPut("", "v")).Commit()
		wantClientErr(t, "put in a txn", err, rpctypes.ErrEmptyKey)
		_, err = kv.Txn(m.ctx(), &pb.TxnRequest{Compare: []*pb.Compare{{Target: pb.Compare_VERSION, Result: pb.Compare_EQUAL}}})
		wantStatus(t, "compare of an empty key", err, rpctypes.ErrGRPCEmptyKey)
	})
	t.Run("too many operations", func(t *testing.T) {
		ops := func(n int) []clientv3.Op {
			var out []clientv3.Op
			for i := 0; i < n; i++ {
				out = append(out, clientv3.OpPut(fmt.Sprintf("ops/%d", i), "v"))
			}
			return out
		}
		if _, err := m.cli.Txn(m.ctx()).Then(ops(4)...).Commit(); err != nil {
			t.Errorf("txn of 4 ops with --max-txn-ops 4: %v", err)
		}
		_, err := m.cli.Txn(m.ctx()).Then(ops(5)...).Commit()
		wantClientErr(t, "5 success ops", err, rpctypes.ErrTooManyOps)
		_, err = m.cli.Txn(m.ctx()).Else(ops(5)...).Commit()
		wantClientErr(t, "5 failure ops", err, rpctypes.ErrTooManyOps)
		var cmps []clientv3.Cmp
		for i := 0; i < 5; i++ {
			cmps = append(cmps, clientv3.Compare(clientv3.Version("ops/0"), ">", 0))
		}
		_, err = m.cli.Txn(m.ctx()).If(cmps...).Commit()
		wantClientErr(t, "5 compares", err, rpctypes.ErrTooManyOps)
		_, err = kv.Txn(m.ctx(), &pb.TxnRequest{Success: []*pb.RequestOp{
			{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("a")}}},
			{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("b")}}},
			{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("c")}}},
			{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("d")}}},
			{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("e")}}},
		}})
		wantStatus(t, "raw 5 ranges", err, rpctypes.ErrGRPCTooManyOps)
		// As etcd: a nested txn may use what its parent leaves of the
		// budget (4 - 2 here).
		nested := func(n int) clientv3.Op { return clientv3.OpTxn(nil, ops(n), nil) }
		if _, err := m.cli.Txn(m.ctx()).Then(clientv3.OpGet("x"), nested(2)).Commit(); err != nil {
			t.Errorf("2 ops with a nested txn of 2: %v", err)
		}
		_, err = m.cli.Txn(m.ctx()).Then(clientv3.OpGet("x"), nested(3)).Commit()
		wantClientErr(t, "2 ops with a nested txn of 3", err, rpctypes.ErrTooManyOps)
		g, err := m.cli.Get(m.ctx(), "ops/4")
		if err != nil || len(g.Kvs) != 0 {
			t.Errorf("a refused txn wrote: %v %v", g, err)
		}
	})
	t.Run("duplicate key", func(t *testing.T) {
		_, err := m.cli.Txn(m.ctx()).Then(clientv3.OpPut("dup", "1"), clientv3.OpPut("dup", "2")).Commit()
		wantClientErr(t, "two puts", err, rpctypes.ErrDuplicateKey)
		_, err = kv.Txn(m.ctx(), &pb.TxnRequest{Success: []*pb.RequestOp{
			{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("dup"), Value: []byte("1")}}},
			{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte("du"), RangeEnd: []byte("dv")}}},
		}})
		wantStatus(t, "a put inside a deleted range", err, rpctypes.ErrGRPCDuplicateKey)
		_, err = m.cli.Txn(m.ctx()).Then(
			clientv3.OpPut("dup", "1"),
			clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpPut("dup", "2")}, nil),
		).Commit()
		wantClientErr(t, "a put and a nested put", err, rpctypes.ErrDuplicateKey)
		// Not duplicates: a put and a read of the key; the same key in two
		// branches; two deletes of the same range.
		if _, err := m.cli.Txn(m.ctx()).Then(clientv3.OpPut("dup", "1"), clientv3.OpGet("dup")).Commit(); err != nil {
			t.Errorf("put and get of one key: %v", err)
		}
		if _, err := m.cli.Txn(m.ctx()).Then(clientv3.OpPut("dup", "1")).Else(clientv3.OpPut("dup", "2")).Commit(); err != nil {
			t.Errorf("a put in each branch: %v", err)
		}
		if _, err := m.cli.Txn(m.ctx()).Then(clientv3.OpDelete("dup"), clientv3.OpDelete("dup")).Commit(); err != nil {
			t.Errorf("two deletes: %v", err)
		}
	})
	t.Run("request too large", func(t *testing.T) {
		big := strings.Repeat("x", 10*1024)
		_, err := m.cli.Put(m.ctx(), "big", big)
		wantClientErr(t, "10 KiB put", err, rpctypes.ErrRequestTooLarge)
		_, err = kv.Put(m.ctx(), &pb.PutRequest{Key: []byte("big"), Value: []byte(big)})
		wantStatus(t, "raw 10 KiB put", err, rpctypes.ErrGRPCRequestTooLarge)
		_, err = m.cli.Txn(m.ctx()).Then(clientv3.OpPut("big", big)).Commit()
		wantClientErr(t, "10 KiB put in a txn", err, rpctypes.ErrRequestTooLarge)
		if _, err := m.cli.Put(m.ctx(), "small", strings.Repeat("x", 1024)); err != nil {
			t.Errorf("1 KiB put with --max-request-bytes 4096: %v", err)
		}
		g, err := m.cli.Get(m.ctx(), "big")
		if err != nil || len(g.Kvs) != 0 {
			t.Errorf("a refused put wrote: %v %v", g, err)
		}
	})
}

func TestMaintenanceAndCluster(t *testing.T) {
	m := startMember(t)
	p, err := m.cli.Put(m.ctx(), "k", "v")
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	hdr := p.Header
	if hdr.ClusterId == 0 || hdr.MemberId == 0 || hdr.Revision == 0 || hdr.RaftTerm == 0 {
		t.Errorf("put header %v: every field must be set", hdr)
	}

	st, err := m.cli.Status(m.ctx(), m.clientURL)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if st.StorageVersion != "3.7.0" {
		t.Errorf("status storage version %q, want 3.7.0", st.StorageVersion)
	}
	if st.Version != "3.7.3" {
		t.Errorf("status version %q, want 3.7.3", st.Version)
	}
	if st.DbSize <= 0 || st.DbSizeInUse <= 0 || st.DbSizeInUse > st.DbSize {
		t.Errorf("status db size %d in use %d, want 0 < in use <= size", st.DbSize, st.DbSizeInUse)
	}
	if st.Leader != hdr.MemberId {
		t.Errorf("status leader %x, want this member %x", st.Leader, hdr.MemberId)
	}
	if st.RaftIndex == 0 || st.RaftAppliedIndex == 0 || st.RaftTerm != hdr.RaftTerm {
		t.Errorf("status raft index %d applied %d term %d, want non-zero indexes and term %d", st.RaftIndex, st.RaftAppliedIndex, st.RaftTerm, hdr.RaftTerm)
	}
	if st.IsLearner {
		t.Errorf("status: a lone member is a learner")
	}
	if st.DbSizeQuota != 2<<30 {
		t.Errorf("status db size quota %d, want the default %d", st.DbSizeQuota, 2<<30)
	}
	if h := st.Header; h.ClusterId != hdr.ClusterId || h.MemberId != hdr.MemberId || h.Revision != hdr.Revision || h.RaftTerm != hdr.RaftTerm {
		t.Errorf("status header %v, want the put's %v", h, hdr)
	}
	// Every write is one raft entry: the indexes follow the writes, and a
	// quiet member has applied all it committed.
	if _, err := m.cli.Put(m.ctx(), "k2", "v"); err != nil {
		t.Fatalf("put: %v", err)
	}
	st2, err := m.cli.Status(m.ctx(), m.clientURL)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if st2.RaftIndex != st.RaftIndex+1 || st2.RaftAppliedIndex != st2.RaftIndex {
		t.Errorf("after one more put: raft index %d applied %d, want %d %d", st2.RaftIndex, st2.RaftAppliedIndex, st.RaftIndex+1, st.RaftIndex+1)
	}
	if st2.Header.Revision != hdr.Revision+1 {
		t.Errorf("status revision %d, want %d", st2.Header.Revision, hdr.Revision+1)
	}

	ml, err := m.cli.MemberList(m.ctx())
	if err != nil {
		t.Fatalf("member list: %v", err)
	}
	if len(ml.Members) != 1 {
		t.Fatalf("member list: %d members, want 1", len(ml.Members))
	}
	mem := ml.Members[0]
	if mem.ID != hdr.MemberId || mem.Name != m.name || mem.IsLearner ||
		len(mem.PeerURLs) != 1 || mem.PeerURLs[0] != m.peerURL ||
		len(mem.ClientURLs) != 1 || mem.ClientURLs[0] != m.clientURL {
		t.Errorf("member %v, want ID %x name %s peer %s client %s", mem, hdr.MemberId, m.name, m.peerURL, m.clientURL)
	}
	if h := ml.Header; h.ClusterId != hdr.ClusterId || h.MemberId != hdr.MemberId || h.RaftTerm != hdr.RaftTerm {
		t.Errorf("member list header %v, want the put's identity %v", h, hdr)
	}
	g, err := m.cli.Get(m.ctx(), "k", clientv3.WithSerializable())
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if h := g.Header; h.ClusterId != hdr.ClusterId || h.MemberId != hdr.MemberId || h.RaftTerm != hdr.RaftTerm || h.Revision != hdr.Revision+1 {
		t.Errorf("get header %v, want identity of %v at revision %d", h, hdr, hdr.Revision+1)
	}

	t.Run("snapshot and defragment", func(t *testing.T) {
		rc, err := m.cli.Snapshot(m.ctx())
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read snapshot: %v", err)
		}
		// As etcd: the bbolt file followed by its SHA-256.
		if len(data) <= sha256.Size {
			t.Fatalf("snapshot of %d bytes", len(data))
		}
		body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
		if h := sha256.Sum256(body); !bytes.Equal(h[:], sum) {
			t.Errorf("snapshot does not end with the SHA-256 of its body")
		}
		if _, err := m.cli.Defragment(m.ctx(), m.clientURL); err != nil {
			t.Fatalf("defragment: %v", err)
		}
		g, err := m.cli.Get(m.ctx(), "k")
		if err != nil || len(g.Kvs) != 1 || string(g.Kvs[0].Value) != "v" {
			t.Errorf("get after defragment: %v %v", g, err)
		}
		if _, err := m.cli.Put(m.ctx(), "after-defrag", "v"); err != nil {
			t.Errorf("put after defragment: %v", err)
		}
	})
	t.Run("hashkv", func(t *testing.T) {
		g, err := m.cli.Get(m.ctx(), "k")
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		h1, err := m.cli.HashKV(m.ctx(), m.clientURL, 0)
		if err != nil {
			t.Fatalf("hashkv: %v", err)
		}
		if h1.Hash == 0 || h1.HashRevision != g.Header.Revision {
			t.Errorf("hashkv: hash %x at %d, want a hash at %d", h1.Hash, h1.HashRevision, g.Header.Revision)
		}
		h2, err := m.cli.HashKV(m.ctx(), m.clientURL, 0)
		if err != nil {
			t.Fatalf("hashkv: %v", err)
		}
		if h2.Hash != h1.Hash {
			t.Errorf("hashkv changed without a write: %x then %x", h1.Hash, h2.Hash)
		}
		if _, err := m.cli.Put(m.ctx(), "k3", "v"); err != nil {
			t.Fatalf("put: %v", err)
		}
		h3, err := m.cli.HashKV(m.ctx(), m.clientURL, 0)
		if err != nil {
			t.Fatalf("hashkv: %v", err)
		}
		if h3.Hash == h1.Hash || h3.HashRevision != h1.HashRevision+1 {
			t.Errorf("hashkv after a write: %x at %d, was %x at %d", h3.Hash, h3.HashRevision, h1.Hash, h1.HashRevision)
		}
		// The hash at an old revision does not change with later writes.
		h4, err := m.cli.HashKV(m.ctx(), m.clientURL, h1.HashRevision)
		if err != nil {
			t.Fatalf("hashkv: %v", err)
		}
		if h4.Hash != h1.Hash || h4.HashRevision != h1.HashRevision {
			t.Errorf("hashkv at %d: %x at %d, want %x", h1.HashRevision, h4.Hash, h4.HashRevision, h1.Hash)
		}
		_, err = m.cli.HashKV(m.ctx(), m.clientURL, h3.HashRevision+10)
		wantClientErr(t, "hashkv at a future revision", err, rpctypes.ErrFutureRev)
	})
}

func TestUnimplementedServices(t *testing.T) {
	m := startMember(t)

	_, err := m.cli.AuthStatus(m.ctx())
	wantCode(t, "auth status", err, codes.Unimplemented)
	// Watch is served: see watch_test.go.
}

func TestHTTPEndpoints(t *testing.T) {
	m := startMember(t)
	get := func(path string) (int, map[string]string) {
		t.Helper()
		c := &http.Client{Timeout: callTimeout}
		resp, err := c.Get(m.clientURL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body := map[string]string{}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("GET %s: decode: %v", path, err)
		}
		return resp.StatusCode, body
	}
	code, body := get("/health")
	if code != http.StatusOK || body["health"] != "true" {
		t.Errorf("/health: %d %v, want 200 health true", code, body)
	}
	code, body = get("/version")
	if code != http.StatusOK || body["etcdserver"] != "3.7.3" || body["etcdcluster"] != "3.7.0" || body["storage"] != "3.7.0" {
		t.Errorf("/version: %d %v, want 200 etcdserver 3.7.3 etcdcluster 3.7.0 storage 3.7.0 (as etcd v3.7.3 reports once the cluster version is set)", code, body)
	}
	resp, err := http.Post(m.clientURL+"/version", "text/plain", nil)
	if err != nil {
		t.Fatalf("POST /version: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /version: %d, want 405", resp.StatusCode)
	}
}

func TestRestart(t *testing.T) {
	m := startMember(t)
	for i := 0; i < 20; i++ {
		if _, err := m.cli.Put(m.ctx(), fmt.Sprintf("r/%02d", i), fmt.Sprintf("v%d", i)); err != nil {
			t.Fatalf("put: %v", err)
		}
	}
	if _, err := m.cli.Delete(m.ctx(), "r/00"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := m.cli.Txn(m.ctx()).Then(clientv3.OpPut("r/01", "txn"), clientv3.OpDelete("r/02")).Commit(); err != nil {
		t.Fatalf("txn: %v", err)
	}
	before, err := m.cli.Get(m.ctx(), "r/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	st, err := m.cli.Status(m.ctx(), m.clientURL)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	h, err := m.cli.HashKV(m.ctx(), m.clientURL, 0)
	if err != nil {
		t.Fatalf("hashkv: %v", err)
	}

	for round := 0; round < 2; round++ {
		m.restart()
		after, err := m.cli.Get(m.ctx(), "r/", clientv3.WithPrefix())
		if err != nil {
			t.Fatalf("get after restart: %v", err)
		}
		if after.Header.Revision != before.Header.Revision {
			t.Errorf("restart %d: revision %d, want %d (no entry applied twice, none lost)", round, after.Header.Revision, before.Header.Revision)
		}
		if after.Header.MemberId != before.Header.MemberId || after.Header.ClusterId != before.Header.ClusterId {
			t.Errorf("restart %d: member %x cluster %x, want %x %x", round, after.Header.MemberId, after.Header.ClusterId, before.Header.MemberId, before.Header.ClusterId)
		}
		if len(after.Kvs) != len(before.Kvs) {
			t.Fatalf("restart %d: %d keys, want %d", round, len(after.Kvs), len(before.Kvs))
		}
		for i := range after.Kvs {
			a, b := after.Kvs[i], before.Kvs[i]
			if string(a.Key) != string(b.Key) || string(a.Value) != string(b.Value) || a.Version != b.Version ||
				a.CreateRevision != b.CreateRevision || a.ModRevision != b.ModRevision {
				t.Errorf("restart %d: %v, want %v", round, a, b)
			}
		}
		h2, err := m.cli.HashKV(m.ctx(), m.clientURL, 0)
		if err != nil {
			t.Fatalf("hashkv: %v", err)
		}
		if h2.Hash != h.Hash || h2.HashRevision != h.HashRevision {
			t.Errorf("restart %d: hashkv %x at %d, want %x at %d", round, h2.Hash, h2.HashRevision, h.Hash, h.HashRevision)
		}
		st2, err := m.cli.Status(m.ctx(), m.clientURL)
		if err != nil {
			t.Fatalf("status: %v", err)
		}
		if st2.Leader != st.Leader || st2.RaftTerm <= st.RaftTerm || st2.RaftIndex <= st.RaftIndex {
			t.Errorf("restart %d: leader %x term %d index %d, want leader %x, a later term than %d and an index past %d",
				round, st2.Leader, st2.RaftTerm, st2.RaftIndex, st.Leader, st.RaftTerm, st.RaftIndex)
		}
		ml, err := m.cli.MemberList(m.ctx())
		if err != nil {
			t.Fatalf("member list: %v", err)
		}
		if len(ml.Members) != 1 || ml.Members[0].Name != m.name || ml.Members[0].ClientURLs[0] != m.clientURL {
			t.Errorf("restart %d: members %v", round, ml.Members)
		}
		st = st2
	}
	// The next write takes the next revision.
	p, err := m.cli.Put(m.ctx(), "r/new", "x")
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if p.Header.Revision != before.Header.Revision+1 {
		t.Errorf("first write after restarts at %d, want %d", p.Header.Revision, before.Header.Revision+1)
	}
	if !strings.Contains(m.log(), `"msg":"restarting local member"`) {
		t.Errorf("the log does not say the member restarted")
	}
}

func TestSnapshotAndRestart(t *testing.T) {
	m := startMember(t, "--snapshot-count", "50")
	const n = 300
	var last int64
	for i := 0; i < n; i++ {
		p, err := m.cli.Put(m.ctx(), fmt.Sprintf("s/%03d", i), fmt.Sprintf("v%d", i))
		if err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
		last = p.Header.Revision
	}
	snaps, err := filepath.Glob(filepath.Join(m.dataDir, "member", "snap", "*.snap"))
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) == 0 {
		entries, _ := os.ReadDir(filepath.Join(m.dataDir, "member", "snap"))
		t.Errorf("no *.snap files in member/snap after %d writes with --snapshot-count 50: %v", n, entries)
	}
	if !strings.Contains(m.log(), `"msg":"saved snapshot"`) {
		t.Errorf("the log does not say a snapshot was saved")
	}

	m.restart()
	g, err := m.cli.Get(m.ctx(), "s/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if g.Header.Revision != last {
		t.Errorf("revision after restart %d, want %d", g.Header.Revision, last)
	}
	if len(g.Kvs) != n {
		t.Fatalf("%d keys after restart, want %d", len(g.Kvs), n)
	}
	for i, kv := range g.Kvs {
		if string(kv.Key) != fmt.Sprintf("s/%03d", i) || string(kv.Value) != fmt.Sprintf("v%d", i) || kv.ModRevision != last-int64(n-1-i) {
			t.Errorf("key %d after restart: %v", i, kv)
			break
		}
	}
	// It keeps working and snapshotting after the restart.
	for i := 0; i < 60; i++ {
		if _, err := m.cli.Put(m.ctx(), fmt.Sprintf("t/%03d", i), "v"); err != nil {
			t.Fatalf("put after restart: %v", err)
		}
	}
	m.restart()
	g, err = m.cli.Get(m.ctx(), "", clientv3.WithFromKey(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	if g.Count != n+60 || g.Header.Revision != last+60 {
		t.Errorf("after a second restart: %d keys at %d, want %d at %d", g.Count, g.Header.Revision, n+60, last+60)
	}
}
