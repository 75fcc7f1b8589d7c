package etcdctl

import (
	"encoding/json"
	"fmt"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// printJSON prints v with encoding/json on one line. The gRPC messages'
// struct tags give etcdctl's field names (snake case, omitempty), 64-bit
// integers print as numbers and bytes as base64.
func (p *printer) printJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(p.ew, "%v\n", err)
		return
	}
	fmt.Fprintln(p.w, string(b))
}

// printPB prints the wire bytes of a gRPC message; other values (the
// client's lease and watch structs) cannot be printed as protobuf.
func (p *printer) printPB(v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return failf(ExitBadFeature, "marshal unsupported for type %T (%v)", v, v)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		fmt.Fprintf(p.ew, "%v\n", err)
		return nil
	}
	_, _ = io.WriteString(p.w, string(b))
	return nil
}

// txnResponseJSON is a TxnResponse shaped for encoding/json: the oneof of
// each response is an object with the one set member.
type txnResponseJSON struct {
	Header    *pb.ResponseHeader `json:"header,omitempty"`
	Succeeded bool               `json:"succeeded,omitempty"`
	Responses []responseOpJSON   `json:"responses,omitempty"`
}

type responseOpJSON struct {
	Response responseOpUnionJSON `json:"Response"`
}

type responseOpUnionJSON struct {
	ResponseRange       *pb.RangeResponse       `json:"response_range,omitempty"`
	ResponsePut         *pb.PutResponse         `json:"response_put,omitempty"`
	ResponseDeleteRange *pb.DeleteRangeResponse `json:"response_delete_range,omitempty"`
	ResponseTxn         *txnResponseJSON        `json:"response_txn,omitempty"`
}

func txnJSON(r *pb.TxnResponse) txnResponseJSON {
	out := txnResponseJSON{Header: r.GetHeader(), Succeeded: r.GetSucceeded()}
	for _, op := range r.GetResponses() {
		var u responseOpUnionJSON
		switch v := op.GetResponse().(type) {
		case *pb.ResponseOp_ResponseRange:
			u.ResponseRange = v.ResponseRange
		case *pb.ResponseOp_ResponsePut:
			u.ResponsePut = v.ResponsePut
		case *pb.ResponseOp_ResponseDeleteRange:
			u.ResponseDeleteRange = v.ResponseDeleteRange
		case *pb.ResponseOp_ResponseTxn:
			t := txnJSON(v.ResponseTxn)
			u.ResponseTxn = &t
		}
		out.Responses = append(out.Responses, responseOpJSON{Response: u})
	}
	return out
}

// hexHeader and hexMember print IDs as hex strings (json with --hex).
type hexHeader struct {
	ClusterID string `json:"cluster_id"`
	MemberID  string `json:"member_id"`
	Revision  int64  `json:"revision,omitempty"`
	RaftTerm  uint64 `json:"raft_term,omitempty"`
}

type hexMember struct {
	ID         string   `json:"ID"`
	Name       string   `json:"name,omitempty"`
	PeerURLs   []string `json:"peerURLs,omitempty"`
	ClientURLs []string `json:"clientURLs,omitempty"`
	IsLearner  bool     `json:"isLearner,omitempty"`
}

func toHexHeader(h *pb.ResponseHeader) *hexHeader {
	if h == nil {
		return nil
	}
	return &hexHeader{
		ClusterID: fmt.Sprintf("%x", h.GetClusterId()),
		MemberID:  fmt.Sprintf("%x", h.GetMemberId()),
		Revision:  h.GetRevision(),
		RaftTerm:  h.GetRaftTerm(),
	}
}

func toHexMember(m *pb.Member) *hexMember {
	if m == nil {
		return nil
	}
	return &hexMember{
		ID:         fmt.Sprintf("%x", m.GetID()),
		Name:       m.GetName(),
		PeerURLs:   m.GetPeerURLs(),
		ClientURLs: m.GetClientURLs(),
		IsLearner:  m.GetIsLearner(),
	}
}

func toHexMembers(ms []*pb.Member) []*hexMember {
	out := make([]*hexMember, len(ms))
	for i, m := range ms {
		out[i] = toHexMember(m)
	}
	return out
}

// memberJSON prints a membership response in JSON; with --hex its IDs
// are hex strings.
func (p *printer) memberJSON(v any) {
	if !p.hex {
		switch r := v.(type) {
		case *clientv3.MemberAddResponse:
			p.printJSON((*pb.MemberAddResponse)(r))
		case *clientv3.MemberRemoveResponse:
			p.printJSON((*pb.MemberRemoveResponse)(r))
		case *clientv3.MemberUpdateResponse:
			p.printJSON((*pb.MemberUpdateResponse)(r))
		case *clientv3.MemberPromoteResponse:
			p.printJSON((*pb.MemberPromoteResponse)(r))
		case *clientv3.MemberListResponse:
			p.printJSON((*pb.MemberListResponse)(r))
		}
		return
	}
	type withMembers struct {
		Header  *hexHeader   `json:"header"`
		Members []*hexMember `json:"members"`
	}
	switch r := v.(type) {
	case *clientv3.MemberAddResponse:
		p.printJSON(&struct {
			Header  *hexHeader   `json:"header"`
			Member  *hexMember   `json:"member"`
			Members []*hexMember `json:"members"`
		}{toHexHeader(r.Header), toHexMember(r.Member), toHexMembers(r.Members)})
	case *clientv3.MemberRemoveResponse:
		p.printJSON(&withMembers{toHexHeader(r.Header), toHexMembers(r.Members)})
	case *clientv3.MemberUpdateResponse:
		p.printJSON(&withMembers{toHexHeader(r.Header), toHexMembers(r.Members)})
	case *clientv3.MemberPromoteResponse:
		p.printJSON(&withMembers{toHexHeader(r.Header), toHexMembers(r.Members)})
	case *clientv3.MemberListResponse:
		p.printJSON(&withMembers{toHexHeader(r.Header), toHexMembers(r.Members)})
	}
}
