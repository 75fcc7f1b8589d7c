package etcdctl

import (
	"encoding/hex"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// printKV prints a key and its value on two lines (only the value with
// valueOnly), as \x-escaped hex with --hex.
func (p *printer) printKV(kv *mvccpb.KeyValue) {
	k, v := string(kv.GetKey()), string(kv.GetValue())
	if p.hex {
		k, v = hexEscape(kv.GetKey()), hexEscape(kv.GetValue())
	}
	if !p.valueOnly {
		fmt.Fprintln(p.w, k)
	}
	fmt.Fprintln(p.w, v)
}

// hexEscape writes every byte of b as \xNN.
func hexEscape(b []byte) string {
	h := hex.EncodeToString(b)
	out := make([]byte, 0, len(h)*2)
	for i := 0; i < len(h); i += 2 {
		out = append(out, '\\', 'x', h[i], h[i+1])
	}
	return string(out)
}

func (p *printer) simpleGet(r *pb.RangeResponse) {
	for _, kv := range r.GetKvs() {
		p.printKV(kv)
	}
}

func (p *printer) simplePut(r *pb.PutResponse) {
	fmt.Fprintln(p.w, "OK")
	if r.GetPrevKv() != nil {
		p.printKV(r.GetPrevKv())
	}
}

func (p *printer) simpleDel(r *pb.DeleteRangeResponse) {
	fmt.Fprintln(p.w, r.GetDeleted())
	for _, kv := range r.GetPrevKvs() {
		p.printKV(kv)
	}
}

func (p *printer) simpleTxn(r *pb.TxnResponse) {
	if r.GetSucceeded() {
		fmt.Fprintln(p.w, "SUCCESS")
	} else {
		fmt.Fprintln(p.w, "FAILURE")
	}
	for _, op := range r.GetResponses() {
		fmt.Fprintln(p.w, "")
		switch v := op.GetResponse().(type) {
		case *pb.ResponseOp_ResponseDeleteRange:
			p.simpleDel(v.ResponseDeleteRange)
		case *pb.ResponseOp_ResponsePut:
			p.simplePut(v.ResponsePut)
		case *pb.ResponseOp_ResponseRange:
			p.simpleGet(v.ResponseRange)
		default:
			fmt.Fprintf(p.w, "unexpected response %+v\n", op)
		}
	}
}

func (p *printer) simpleWatch(r *clientv3.WatchResponse) {
	for _, ev := range r.Events {
		fmt.Fprintln(p.w, ev.GetType())
		if ev.GetPrevKv() != nil {
			p.printKV(ev.GetPrevKv())
		}
		p.printKV(ev.GetKv())
	}
}

func (p *printer) simpleTimeToLive(r *clientv3.LeaseTimeToLiveResponse, keys bool) {
	if r.GrantedTTL == 0 && r.TTL == -1 {
		fmt.Fprintf(p.w, "lease %016x already expired\n", r.ID)
		return
	}
	txt := fmt.Sprintf("lease %016x granted with TTL(%ds), remaining(%ds)", r.ID, r.GrantedTTL, r.TTL)
	if keys {
		ks := make([]string, len(r.Keys))
		for i, k := range r.Keys {
			ks[i] = string(k)
		}
		txt += fmt.Sprintf(", attached keys(%v)", ks)
	}
	fmt.Fprintln(p.w, txt)
}

// fields format

// id prints a member or cluster ID field: decimal, or hex with --hex.
func (p *printer) id(label string, id uint64) {
	if p.hex {
		fmt.Fprintf(p.w, "%s %x\n", label, id)
	} else {
		fmt.Fprintln(p.w, label, id)
	}
}

// leaseID prints a lease ID field: decimal, or 16 hex digits with --hex.
func (p *printer) leaseID(id clientv3.LeaseID) {
	if p.hex {
		fmt.Fprintf(p.w, "\"ID\" : %016x\n", int64(id))
	} else {
		fmt.Fprintln(p.w, `"ID" :`, int64(id))
	}
}

func (p *printer) hdr(h *pb.ResponseHeader) {
	p.id(`"ClusterID" :`, h.GetClusterId())
	p.id(`"MemberID" :`, h.GetMemberId())
	// Only key-value responses carry a revision.
	if h.GetRevision() > 0 {
		fmt.Fprintln(p.w, `"Revision" :`, h.GetRevision())
	}
	fmt.Fprintln(p.w, `"RaftTerm" :`, h.GetRaftTerm())
}

func (p *printer) fieldsKV(pfx string, kv *mvccpb.KeyValue) {
	fmt.Fprintf(p.w, "\"%sKey\" : %q\n", pfx, string(kv.GetKey()))
	fmt.Fprintf(p.w, "\"%sCreateRevision\" : %d\n", pfx, kv.GetCreateRevision())
	fmt.Fprintf(p.w, "\"%sModRevision\" : %d\n", pfx, kv.GetModRevision())
	fmt.Fprintf(p.w, "\"%sVersion\" : %d\n", pfx, kv.GetVersion())
	fmt.Fprintf(p.w, "\"%sValue\" : %q\n", pfx, string(kv.GetValue()))
	if p.hex {
		fmt.Fprintf(p.w, "\"%sLease\" : %016x\n", pfx, kv.GetLease())
	} else {
		fmt.Fprintf(p.w, "\"%sLease\" : %d\n", pfx, kv.GetLease())
	}
}

func (p *printer) fieldsGet(r *pb.RangeResponse) {
	p.hdr(r.GetHeader())
	for _, kv := range r.GetKvs() {
		p.fieldsKV("", kv)
	}
	fmt.Fprintln(p.w, `"More" :`, r.GetMore())
	fmt.Fprintln(p.w, `"Count" :`, r.GetCount())
}

func (p *printer) fieldsPut(r *pb.PutResponse) {
	p.hdr(r.GetHeader())
	if r.GetPrevKv() != nil {
		p.fieldsKV("Prev", r.GetPrevKv())
	}
}

func (p *printer) fieldsDel(r *pb.DeleteRangeResponse) {
	p.hdr(r.GetHeader())
	fmt.Fprintln(p.w, `"Deleted" :`, r.GetDeleted())
	for _, kv := range r.GetPrevKvs() {
		p.fieldsKV("Prev", kv)
	}
}

func (p *printer) fieldsTxn(r *pb.TxnResponse) {
	p.hdr(r.GetHeader())
	fmt.Fprintln(p.w, `"Succeeded" :`, r.GetSucceeded())
	for _, op := range r.GetResponses() {
		switch v := op.GetResponse().(type) {
		case *pb.ResponseOp_ResponseDeleteRange:
			p.fieldsDel(v.ResponseDeleteRange)
		case *pb.ResponseOp_ResponsePut:
			p.fieldsPut(v.ResponsePut)
		case *pb.ResponseOp_ResponseRange:
			p.fieldsGet(v.ResponseRange)
		default:
			fmt.Fprintf(p.w, "\"Unknown\" : %q\n", fmt.Sprintf("%+v", v))
		}
	}
}

func (p *printer) fieldsWatch(r *clientv3.WatchResponse) {
	if r == nil {
		return
	}
	p.hdr(r.Header)
	for _, ev := range r.Events {
		fmt.Fprintln(p.w, `"Type" :`, ev.GetType())
		if ev.GetPrevKv() != nil {
			p.fieldsKV("Prev", ev.GetPrevKv())
		}
		p.fieldsKV("", ev.GetKv())
	}
}
