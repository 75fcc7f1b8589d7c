package etcdctl

import (
	"fmt"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/internal/humanize"
)

// epHealth is one endpoint's health, as etcdctl prints it in JSON.
type epHealth struct {
	Ep     string `json:"endpoint"`
	Health bool   `json:"health"`
	Took   string `json:"took"`
	Error  string `json:"error,omitempty"`
}

// epStatus is one endpoint's status, as etcdctl prints it in JSON.
type epStatus struct {
	Ep   string                   `json:"Endpoint"`
	Resp *clientv3.StatusResponse `json:"Status"`
}

// epHashKV is one endpoint's KV hash, as etcdctl prints it in JSON.
type epHashKV struct {
	Ep   string                   `json:"Endpoint"`
	Resp *clientv3.HashKVResponse `json:"HashKV"`
}

func (p *printer) MemberAdd(r *clientv3.MemberAddResponse) error {
	resp := (*pb.MemberAddResponse)(r)
	switch p.format {
	case formatSimple:
		as := " "
		if resp.GetMember().GetIsLearner() {
			as = " as learner "
		}
		fmt.Fprintf(p.w, "Member %16x added%sto cluster %16x\n", resp.GetMember().GetID(), as, resp.GetHeader().GetClusterId())
	case formatJSON:
		p.memberJSON(r)
	default:
		return p.rpc(resp)
	}
	return nil
}

func (p *printer) MemberRemove(id uint64, r *clientv3.MemberRemoveResponse) error {
	resp := (*pb.MemberRemoveResponse)(r)
	switch p.format {
	case formatSimple:
		fmt.Fprintf(p.w, "Member %16x removed from cluster %16x\n", id, resp.GetHeader().GetClusterId())
	case formatJSON:
		p.memberJSON(r)
	default:
		return p.rpc(resp)
	}
	return nil
}

func (p *printer) MemberUpdate(id uint64, r *clientv3.MemberUpdateResponse) error {
	resp := (*pb.MemberUpdateResponse)(r)
	switch p.format {
	case formatSimple:
		fmt.Fprintf(p.w, "Member %16x updated in cluster %16x\n", id, resp.GetHeader().GetClusterId())
	case formatJSON:
		p.memberJSON(r)
	default:
		return p.rpc(resp)
	}
	return nil
}

func (p *printer) MemberPromote(id uint64, r *clientv3.MemberPromoteResponse) error {
	resp := (*pb.MemberPromoteResponse)(r)
	switch p.format {
	case formatSimple:
		fmt.Fprintf(p.w, "Member %16x promoted in cluster %16x\n", id, resp.GetHeader().GetClusterId())
	case formatJSON:
		p.memberJSON(r)
	default:
		return p.rpc(resp)
	}
	return nil
}

func (p *printer) MemberList(r *clientv3.MemberListResponse) error {
	resp := (*pb.MemberListResponse)(r)
	switch p.format {
	case formatSimple:
		_, rows := memberListTable(resp)
		p.simpleRows(rows)
	case formatFields:
		p.hdr(resp.GetHeader())
		for _, m := range resp.GetMembers() {
			p.id(`"ID" :`, m.GetID())
			fmt.Fprintf(p.w, "\"Name\" : %q\n", m.GetName())
			for _, u := range m.GetPeerURLs() {
				fmt.Fprintf(p.w, "\"PeerURL\" : %q\n", u)
			}
			for _, u := range m.GetClientURLs() {
				fmt.Fprintf(p.w, "\"ClientURL\" : %q\n", u)
			}
			fmt.Fprintln(p.w, `"IsLearner" :`, m.GetIsLearner())
			fmt.Fprintln(p.w)
		}
	case formatTable:
		p.table(memberListTable(resp))
	case formatJSON:
		p.memberJSON(r)
	default:
		return p.rpc(resp)
	}
	return nil
}

func (p *printer) EndpointHealth(hs []epHealth) error {
	switch p.format {
	case formatSimple:
		for _, h := range hs {
			if h.Error == "" {
				fmt.Fprintf(p.w, "%s is healthy: successfully committed proposal: took = %v\n", h.Ep, h.Took)
			} else {
				fmt.Fprintf(p.ew, "%s is unhealthy: failed to commit proposal: %v\n", h.Ep, h.Error)
			}
		}
	case formatFields:
		for _, h := range hs {
			fmt.Fprintf(p.w, "\"Endpoint\" : %q\n", h.Ep)
			fmt.Fprintln(p.w, `"Health" :`, h.Health)
			fmt.Fprintln(p.w, `"Took" :`, h.Took)
			fmt.Fprintln(p.w, `"Error" :`, h.Error)
			fmt.Fprintln(p.w)
		}
	case formatTable:
		p.table(endpointHealthTable(hs))
	case formatJSON:
		p.printJSON(hs)
	default:
		return p.unsupported()
	}
	return nil
}

func (p *printer) EndpointStatus(ss []epStatus) error {
	switch p.format {
	case formatSimple:
		_, rows := endpointStatusTable(ss)
		p.simpleRows(rows)
	case formatFields:
		for _, s := range ss {
			resp := (*pb.StatusResponse)(s.Resp)
			p.hdr(resp.GetHeader())
			fmt.Fprintf(p.w, "\"Version\" : %q\n", resp.GetVersion())
			fmt.Fprintf(p.w, "\"StorageVersion\" : %q\n", resp.GetStorageVersion())
			fmt.Fprintln(p.w, `"DBSize" :`, resp.GetDbSize())
			fmt.Fprintln(p.w, `"DBSizeInUse" :`, resp.GetDbSizeInUse())
			fmt.Fprintln(p.w, `"DBSizeQuota" :`, resp.GetDbSizeQuota())
			fmt.Fprintln(p.w, `"Leader" :`, resp.GetLeader())
			fmt.Fprintln(p.w, `"IsLearner" :`, resp.GetIsLearner())
			fmt.Fprintln(p.w, `"RaftIndex" :`, resp.GetRaftIndex())
			fmt.Fprintln(p.w, `"RaftAppliedIndex" :`, resp.GetRaftAppliedIndex())
			fmt.Fprintln(p.w, `"Errors" :`, resp.GetErrors())
			fmt.Fprintf(p.w, "\"Endpoint\" : %q\n", s.Ep)
			fmt.Fprintf(p.w, "\"DowngradeTargetVersion\" : %q\n", resp.GetDowngradeInfo().GetTargetVersion())
			fmt.Fprintln(p.w, `"DowngradeEnabled" :`, resp.GetDowngradeInfo().GetEnabled())
			fmt.Fprintln(p.w)
		}
	case formatTable:
		p.table(endpointStatusTable(ss))
	case formatJSON:
		p.printJSON(ss)
	default:
		return p.unsupported()
	}
	return nil
}

func (p *printer) EndpointHashKV(hs []epHashKV) error {
	switch p.format {
	case formatSimple:
		_, rows := endpointHashKVTable(hs)
		p.simpleRows(rows)
	case formatFields:
		for _, h := range hs {
			resp := (*pb.HashKVResponse)(h.Resp)
			p.hdr(resp.GetHeader())
			fmt.Fprintf(p.w, "\"Endpoint\" : %q\n", h.Ep)
			fmt.Fprintln(p.w, `"Hash" :`, resp.GetHash())
			fmt.Fprintln(p.w, `"HashRevision" :`, resp.GetHashRevision())
			fmt.Fprintln(p.w)
		}
	case formatTable:
		p.table(endpointHashKVTable(hs))
	case formatJSON:
		p.printJSON(hs)
	default:
		return p.unsupported()
	}
	return nil
}

func (p *printer) simpleRows(rows [][]string) {
	for _, r := range rows {
		fmt.Fprintln(p.w, joinRow(r))
	}
}

func memberListTable(r *pb.MemberListResponse) (hdr []string, rows [][]string) {
	hdr = []string{"ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"}
	for _, m := range r.GetMembers() {
		status := "started"
		if m.GetName() == "" {
			status = "unstarted"
		}
		rows = append(rows, []string{
			fmt.Sprintf("%x", m.GetID()),
			status,
			m.GetName(),
			strings.Join(m.GetPeerURLs(), ","),
			strings.Join(m.GetClientURLs(), ","),
			boolString(m.GetIsLearner()),
		})
	}
	return hdr, rows
}

func endpointHealthTable(hs []epHealth) (hdr []string, rows [][]string) {
	hdr = []string{"endpoint", "health", "took", "error"}
	for _, h := range hs {
		rows = append(rows, []string{h.Ep, boolString(h.Health), h.Took, h.Error})
	}
	return hdr, rows
}

func endpointStatusTable(ss []epStatus) (hdr []string, rows [][]string) {
	hdr = []string{
		"endpoint", "ID", "version", "storage version", "db size", "in use", "percentage not in use", "quota",
		"is leader", "is learner", "raft term", "raft index", "raft applied index", "errors",
		"downgrade target version", "downgrade enabled",
	}
	for _, s := range ss {
		resp := (*pb.StatusResponse)(s.Resp)
		notInUse := "0%"
		if resp.GetDbSize() != 0 {
			notInUse = fmt.Sprintf("%d%%", int(float64(100-(resp.GetDbSizeInUse()*100/resp.GetDbSize()))))
		}
		rows = append(rows, []string{
			s.Ep,
			fmt.Sprintf("%x", resp.GetHeader().GetMemberId()),
			resp.GetVersion(),
			resp.GetStorageVersion(),
			humanize.Bytes(uint64(resp.GetDbSize())),
			humanize.Bytes(uint64(resp.GetDbSizeInUse())),
			notInUse,
			humanize.Bytes(uint64(resp.GetDbSizeQuota())),
			fmt.Sprint(resp.GetLeader() == resp.GetHeader().GetMemberId()),
			fmt.Sprint(resp.GetIsLearner()),
			fmt.Sprint(resp.GetRaftTerm()),
			fmt.Sprint(resp.GetRaftIndex()),
			fmt.Sprint(resp.GetRaftAppliedIndex()),
			strings.Join(resp.GetErrors(), ", "),
			resp.GetDowngradeInfo().GetTargetVersion(),
			boolString(resp.GetDowngradeInfo().GetEnabled()),
		})
	}
	return hdr, rows
}

func endpointHashKVTable(hs []epHashKV) (hdr []string, rows [][]string) {
	hdr = []string{"endpoint", "hash", "hash_revision"}
	for _, h := range hs {
		resp := (*pb.HashKVResponse)(h.Resp)
		rows = append(rows, []string{h.Ep, fmt.Sprint(resp.GetHash()), fmt.Sprint(resp.GetHashRevision())})
	}
	return hdr, rows
}
