package etcdctl

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Output formats of --write-out.
const (
	formatSimple   = "simple"
	formatFields   = "fields"
	formatJSON     = "json"
	formatProtobuf = "protobuf"
	formatTable    = "table"
)

// printer prints command results in one --write-out format. Each method
// switches on the format; a format that cannot print a result returns an
// ExitBadFeature error, as etcdctl does.
type printer struct {
	format string
	hex    bool
	// valueOnly prints only values in the simple format (get
	// --print-value-only).
	valueOnly bool
	w, ew     io.Writer
}

// newPrinter returns the printer of format, or nil for an unknown format.
func newPrinter(format string, hex bool, w, ew io.Writer) *printer {
	switch format {
	case formatSimple, formatFields, formatJSON, formatProtobuf, formatTable:
		return &printer{format: format, hex: hex, w: w, ew: ew}
	}
	return nil
}

// unsupported is the error of a format that cannot print a result.
func (p *printer) unsupported() error {
	return fail(ExitBadFeature, errors.New(p.format+" not supported as output format"))
}

// rpc prints a gRPC response in the json or protobuf format, the two
// formats that print any response whole; others are unsupported.
func (p *printer) rpc(v any) error {
	switch p.format {
	case formatJSON:
		p.printJSON(v)
		return nil
	case formatProtobuf:
		return p.printPB(v)
	}
	return p.unsupported()
}

func (p *printer) Get(r *clientv3.GetResponse) error {
	resp := (*pb.RangeResponse)(r)
	switch p.format {
	case formatSimple:
		p.simpleGet(resp)
	case formatFields:
		p.fieldsGet(resp)
	default:
		return p.rpc(resp)
	}
	return nil
}

func (p *printer) Put(r *clientv3.PutResponse) error {
	resp := (*pb.PutResponse)(r)
	switch p.format {
	case formatSimple:
		p.simplePut(resp)
	case formatFields:
		p.fieldsPut(resp)
	default:
		return p.rpc(resp)
	}
	return nil
}

func (p *printer) Del(r *clientv3.DeleteResponse) error {
	resp := (*pb.DeleteRangeResponse)(r)
	switch p.format {
	case formatSimple:
		p.simpleDel(resp)
	case formatFields:
		p.fieldsDel(resp)
	default:
		return p.rpc(resp)
	}
	return nil
}

func (p *printer) Txn(r *clientv3.TxnResponse) error {
	resp := (*pb.TxnResponse)(r)
	switch p.format {
	case formatSimple:
		p.simpleTxn(resp)
	case formatFields:
		p.fieldsTxn(resp)
	case formatJSON:
		p.printJSON(txnJSON(resp))
	default:
		return p.rpc(resp)
	}
	return nil
}

func (p *printer) Watch(r *clientv3.WatchResponse) error {
	switch p.format {
	case formatSimple:
		p.simpleWatch(r)
	case formatFields:
		p.fieldsWatch(r)
	case formatProtobuf:
		wr := &pb.WatchResponse{}
		if r != nil {
			wr = &pb.WatchResponse{
				Header:          r.Header,
				Events:          r.Events,
				CompactRevision: r.CompactRevision,
				Canceled:        r.Canceled,
				Created:         r.Created,
			}
		}
		return p.printPB(wr)
	default:
		return p.rpc(r)
	}
	return nil
}

func (p *printer) Grant(r *clientv3.LeaseGrantResponse) error {
	switch p.format {
	case formatSimple:
		fmt.Fprintf(p.w, "lease %016x granted with TTL(%ds)\n", r.ID, r.TTL)
	case formatFields:
		p.hdr(r.ResponseHeader)
		p.leaseID(r.ID)
		fmt.Fprintln(p.w, `"TTL" :`, r.TTL)
	default:
		return p.rpc(r)
	}
	return nil
}

func (p *printer) Revoke(id clientv3.LeaseID, r *clientv3.LeaseRevokeResponse) error {
	switch p.format {
	case formatSimple:
		fmt.Fprintf(p.w, "lease %016x revoked\n", id)
	case formatFields:
		p.hdr((*pb.LeaseRevokeResponse)(r).GetHeader())
	default:
		return p.rpc(r)
	}
	return nil
}

func (p *printer) KeepAlive(r *clientv3.LeaseKeepAliveResponse) error {
	switch p.format {
	case formatSimple:
		fmt.Fprintf(p.w, "lease %016x keepalived with TTL(%d)\n", r.ID, r.TTL)
	case formatFields:
		p.hdr(r.ResponseHeader)
		p.leaseID(r.ID)
		fmt.Fprintln(p.w, `"TTL" :`, r.TTL)
	default:
		return p.rpc(r)
	}
	return nil
}

func (p *printer) TimeToLive(r *clientv3.LeaseTimeToLiveResponse, keys bool) error {
	switch p.format {
	case formatSimple:
		p.simpleTimeToLive(r, keys)
	case formatFields:
		p.hdr(r.ResponseHeader)
		p.leaseID(r.ID)
		fmt.Fprintln(p.w, `"TTL" :`, r.TTL)
		fmt.Fprintln(p.w, `"GrantedTTL" :`, r.GrantedTTL)
		for _, k := range r.Keys {
			fmt.Fprintf(p.w, "\"Key\" : %q\n", string(k))
		}
	default:
		return p.rpc(r)
	}
	return nil
}

func (p *printer) Leases(r *clientv3.LeaseLeasesResponse) error {
	switch p.format {
	case formatSimple:
		fmt.Fprintf(p.w, "found %d leases\n", len(r.Leases))
		for _, l := range r.Leases {
			fmt.Fprintf(p.w, "%016x\n", l.ID)
		}
	case formatFields:
		p.hdr(r.ResponseHeader)
		for _, l := range r.Leases {
			p.leaseID(l.ID)
		}
	default:
		return p.rpc(r)
	}
	return nil
}

func (p *printer) Alarm(r *clientv3.AlarmResponse) error {
	resp := (*pb.AlarmResponse)(r)
	switch p.format {
	case formatSimple:
		for _, e := range resp.GetAlarms() {
			fmt.Fprintf(p.w, "%+v\n", e)
		}
	case formatFields:
		p.hdr(resp.GetHeader())
		for _, a := range resp.GetAlarms() {
			p.id(`"MemberID" :`, a.GetMemberID())
			fmt.Fprintln(p.w, `"AlarmType" :`, a.GetAlarm())
			fmt.Fprintln(p.w)
		}
	default:
		return p.rpc(resp)
	}
	return nil
}

func (p *printer) MoveLeader(leader, target uint64, r *clientv3.MoveLeaderResponse) error {
	switch p.format {
	case formatSimple:
		fmt.Fprintf(p.w, "Leadership transferred from %x to %x\n", leader, target)
	case formatJSON, formatProtobuf:
		return p.rpc((*pb.MoveLeaderResponse)(r))
	default:
		return p.unsupported()
	}
	return nil
}

// boolString is strconv.FormatBool.
func boolString(b bool) string { return strconv.FormatBool(b) }

// joinRow joins a table row for the simple format.
func joinRow(row []string) string { return strings.Join(row, ", ") }
