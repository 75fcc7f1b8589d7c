package e2e

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/testing/protocmp"
)

func header(rev int64) *pb.ResponseHeader {
	return &pb.ResponseHeader{ClusterId: 11, MemberId: 22, RaftTerm: 33, Revision: rev}
}

func TestStripIdentityClearsNestedHeaders(t *testing.T) {
	in := &pb.TxnResponse{
		Header:    header(7),
		Succeeded: true,
		Responses: []*pb.ResponseOp{
			{Response: &pb.ResponseOp_ResponseRange{ResponseRange: &pb.RangeResponse{
				Header: header(7),
				Kvs:    []*mvccpb.KeyValue{{Key: []byte("k"), ModRevision: 3}},
			}}},
			{Response: &pb.ResponseOp_ResponseTxn{ResponseTxn: &pb.TxnResponse{
				Header:    header(7),
				Responses: []*pb.ResponseOp{{Response: &pb.ResponseOp_ResponsePut{ResponsePut: &pb.PutResponse{Header: header(7)}}}},
			}}},
		},
	}
	got := stripIdentity(in).(*pb.TxnResponse)
	want := &pb.TxnResponse{
		Header:    &pb.ResponseHeader{Revision: 7},
		Succeeded: true,
		Responses: []*pb.ResponseOp{
			{Response: &pb.ResponseOp_ResponseRange{ResponseRange: &pb.RangeResponse{
				Header: &pb.ResponseHeader{Revision: 7},
				Kvs:    []*mvccpb.KeyValue{{Key: []byte("k"), ModRevision: 3}},
			}}},
			{Response: &pb.ResponseOp_ResponseTxn{ResponseTxn: &pb.TxnResponse{
				Header:    &pb.ResponseHeader{Revision: 7},
				Responses: []*pb.ResponseOp{{Response: &pb.ResponseOp_ResponsePut{ResponsePut: &pb.PutResponse{Header: &pb.ResponseHeader{Revision: 7}}}}},
			}}},
		},
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Fatalf("stripIdentity (-want +got):\n%s", diff)
	}
	if in.Header.MemberId != 22 {
		t.Fatal("stripIdentity modified its input")
	}
	// A revision difference must survive stripping.
	other := stripIdentity(&pb.TxnResponse{Header: header(8)})
	if cmp.Diff(stripIdentity(&pb.TxnResponse{Header: header(7)}), other, protocmp.Transform()) == "" {
		t.Fatal("revisions 7 and 8 compare equal after stripping")
	}
}

func TestNormalizeJSONDropsIdentity(t *testing.T) {
	a := normalizeJSON(`{"header":{"cluster_id":1,"member_id":2,"revision":5,"raft_term":3},"members":[{"ID":9,"name":"x"}]}`)
	b := normalizeJSON(`{"header":{"cluster_id":7,"member_id":8,"revision":5,"raft_term":4},"members":[{"ID":10,"name":"x"}]}`)
	if a != b {
		t.Fatalf("normalized outputs differ:\n%s\n%s", a, b)
	}
	c := normalizeJSON(`{"header":{"cluster_id":7,"member_id":8,"revision":6,"raft_term":4},"members":[{"ID":10,"name":"x"}]}`)
	if a == c {
		t.Fatal("a revision difference was normalized away")
	}
}
