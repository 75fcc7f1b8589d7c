package server

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdgo/etcd/internal/humanize"
)

// MaxQuotaBytes is the largest backend quota etcd recommends; a larger one
// is accepted with a warning.
const MaxQuotaBytes = 8 << 30

// Estimated costs of a write against the quota, as etcd counts them.
const (
	// leaseOverhead is the cost of storing a lease.
	leaseOverhead = 64
	// kvOverhead is the cost of storing a key's metadata.
	kvOverhead = 256
)

// quotaBytes is the quota in effect: the configured one, the default for 0,
// and none (-1) for a negative one.
func (s *Server) quotaBytes() int64 {
	switch q := s.cfg.QuotaBackendBytes; {
	case q < 0:
		return -1
	case q == 0:
		return DefaultQuotaBytes
	default:
		return q
	}
}

// logQuota logs the quota in effect once, with etcd's messages.
func (s *Server) logQuota() {
	s.maint.quotaLogOnce.Do(func() {
		const name = "v3-applier"
		q := s.cfg.QuotaBackendBytes
		switch {
		case q < 0:
			s.lg.Info("disabled backend quota", "quota-name", name, "quota-size-bytes", q)
		case q == 0 || q == DefaultQuotaBytes:
			s.lg.Info("enabled backend quota with default value", "quota-name", name,
				"quota-size-bytes", int64(DefaultQuotaBytes), "quota-size", humanize.Bytes(DefaultQuotaBytes))
		default:
			if q > MaxQuotaBytes {
				s.lg.Warn("quota exceeds the maximum value", "quota-name", name,
					"quota-size-bytes", q, "quota-size", humanize.Bytes(uint64(q)),
					"quota-maximum-size-bytes", int64(MaxQuotaBytes), "quota-maximum-size", humanize.Bytes(MaxQuotaBytes))
			}
			s.lg.Info("enabled backend quota", "quota-name", name, "quota-size-bytes", q, "quota-size", humanize.Bytes(uint64(q)))
		}
	})
}

// quotaCost is what a request costs against the quota: 0 for requests that
// do not grow the store.
func quotaCost(r *pb.InternalRaftRequest) int {
	switch {
	case r.Put != nil:
		return costPut(r.Put)
	case r.Txn != nil:
		return costTxn(r.Txn)
	case r.LeaseGrant != nil:
		return leaseOverhead
	default:
		return 0
	}
}

func costPut(r *pb.PutRequest) int { return kvOverhead + len(r.GetKey()) + len(r.GetValue()) }

func costTxnOp(u *pb.RequestOp) int {
	if p := u.GetRequestPut(); p != nil {
		return costPut(p)
	}
	if t := u.GetRequestTxn(); t != nil {
		return costTxn(t)
	}
	return 0
}

// costTxn is the costlier of a txn's two branches.
func costTxn(r *pb.TxnRequest) int {
	var success, failure int
	for _, u := range r.GetSuccess() {
		success += costTxnOp(u)
	}
	for _, u := range r.GetFailure() {
		failure += costTxnOp(u)
	}
	return max(success, failure)
}

// quotaAvailable reports whether r fits the quota: requests that do not
// grow the store always do; the others only if the backend's size plus
// their cost stays below the quota.
func (s *Server) quotaAvailable(r *pb.InternalRaftRequest) bool {
	cost := quotaCost(r)
	if cost == 0 {
		return true
	}
	q := s.quotaBytes()
	if q < 0 {
		return true
	}
	return s.be.Size()+int64(cost) < q
}

// checkQuota refuses, before it is proposed, a write that does not fit the
// quota, and raises this member's NOSPACE alarm through raft first, as
// etcd's quota gRPC servers do.
func (s *Server) checkQuota(ctx context.Context, r *pb.InternalRaftRequest) error {
	if s.quotaAvailable(r) {
		return nil
	}
	if !s.hasAlarm(s.id, pb.AlarmType_NOSPACE) {
		req := &pb.AlarmRequest{MemberID: s.id, Action: pb.AlarmRequest_ACTIVATE, Alarm: pb.AlarmType_NOSPACE}
		s.Alarm(ctx, req)
	}
	return rpctypes.ErrGRPCNoSpace
}

// hasAlarm reports whether member id has an alarm of type at.
func (s *Server) hasAlarm(id uint64, at pb.AlarmType) bool {
	for _, m := range s.maint.alarms.get(at) {
		if m.GetMemberID() == id {
			return true
		}
	}
	return false
}
