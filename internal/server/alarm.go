package server

import (
	"context"
	"fmt"
	"sync"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/humanize"
	"github.com/etcdgo/etcd/internal/schema"
)

// maintenance is the server's state for alarms, the space quota and the
// corruption checks.
type maintenance struct {
	alarms alarmStore
	// quotaLogOnce logs the quota in effect once, as etcd does.
	quotaLogOnce sync.Once
}

// alarmStore holds the active alarms by type and member, as the "alarm"
// bucket does. The apply goroutine changes it; anyone reads it.
type alarmStore struct {
	mu    sync.RWMutex
	types map[pb.AlarmType]map[uint64]*pb.AlarmMember
}

// reset replaces the alarms with ms.
func (a *alarmStore) reset(ms []*pb.AlarmMember) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.types = map[pb.AlarmType]map[uint64]*pb.AlarmMember{}
	for _, m := range ms {
		a.addLocked(m)
	}
}

// addLocked adds m unless its member already has that alarm; it returns
// the alarm in the store and whether it was added.
func (a *alarmStore) addLocked(m *pb.AlarmMember) (*pb.AlarmMember, bool) {
	if a.types == nil {
		a.types = map[pb.AlarmType]map[uint64]*pb.AlarmMember{}
	}
	t := a.types[m.GetAlarm()]
	if t == nil {
		t = map[uint64]*pb.AlarmMember{}
		a.types[m.GetAlarm()] = t
	}
	if old := t[m.GetMemberID()]; old != nil {
		return old, false
	}
	t[m.GetMemberID()] = m
	return m, true
}

func (a *alarmStore) activate(id uint64, at pb.AlarmType) (*pb.AlarmMember, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.addLocked(&pb.AlarmMember{MemberID: id, Alarm: at})
}

func (a *alarmStore) deactivate(id uint64, at pb.AlarmType) *pb.AlarmMember {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.types[at][id]
	if m != nil {
		delete(a.types[at], id)
	}
	return m
}

// get returns the alarms of type at, or all of them for NONE.
func (a *alarmStore) get(at pb.AlarmType) []*pb.AlarmMember {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []*pb.AlarmMember
	for t, ms := range a.types {
		if at != pb.AlarmType_NONE && t != at {
			continue
		}
		for _, m := range ms {
			out = append(out, m)
		}
	}
	return out
}

// active reports whether some member has an alarm of type at.
func (a *alarmStore) active(at pb.AlarmType) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.types[at]) > 0
}

// alarmKey is the alarm bucket's key of an alarm: the marshaled
// AlarmMember (the value is empty), as etcd stores it.
func alarmKey(m *pb.AlarmMember) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("marshal alarm member: %v", err))
	}
	return b
}

// restoreAlarms loads the alarms from the backend: at start and after the
// backend was replaced by a leader's snapshot.
func (s *Server) restoreAlarms() error {
	var ms []*pb.AlarmMember
	tx := s.be.ReadTx()
	err := tx.UnsafeForEach(schema.Alarm, func(k, _ []byte) error {
		m := &pb.AlarmMember{}
		if err := proto.Unmarshal(k, m); err != nil {
			return err
		}
		ms = append(ms, m)
		return nil
	})
	tx.Release()
	if err != nil {
		return fmt.Errorf("read alarms: %w", err)
	}
	s.maint.alarms.reset(ms)
	return nil
}

// Alarms returns the active alarms of every member.
func (s *Server) Alarms() []*pb.AlarmMember { return s.maint.alarms.get(pb.AlarmType_NONE) }

// Alarm answers Maintenance.Alarm: listing, raising or clearing alarms all
// go through raft, as in etcd, so every member sees the same alarms.
func (s *Server) Alarm(ctx context.Context, r *pb.AlarmRequest) (*pb.AlarmResponse, error) {
	req := &pb.AlarmRequest{Action: r.GetAction(), MemberID: r.GetMemberID(), Alarm: r.GetAlarm()}
	res, err := s.proposeAndResult(ctx, &pb.InternalRaftRequest{Alarm: req})
	if err != nil {
		return nil, err
	}
	resp, _ := res.(*pb.AlarmResponse)
	if resp == nil {
		resp = &pb.AlarmResponse{}
	}
	resp.Header = s.Header()
	return resp, nil
}

// applyAlarm applies an AlarmRequest on every member: the alarm set
// changes, and so does the "alarm" bucket.
func (s *Server) applyAlarm(r *pb.AlarmRequest) *applyResult {
	resp := &pb.AlarmResponse{}
	switch r.GetAction() {
	case pb.AlarmRequest_GET:
		resp.Alarms = s.maint.alarms.get(r.GetAlarm())
	case pb.AlarmRequest_ACTIVATE:
		if r.GetAlarm() == pb.AlarmType_NONE {
			break
		}
		m, added := s.maint.alarms.activate(r.GetMemberID(), r.GetAlarm())
		if added {
			tx := s.be.BatchTx()
			tx.Lock()
			tx.UnsafePut(schema.Alarm, alarmKey(m), nil)
			tx.Unlock()
			s.lg.Warn("alarm raised", "alarm", m.GetAlarm().String(), "from", fmt.Sprintf("%x", m.GetMemberID()))
		}
		resp.Alarms = append(resp.Alarms, m)
	case pb.AlarmRequest_DEACTIVATE:
		m := s.maint.alarms.deactivate(r.GetMemberID(), r.GetAlarm())
		if m == nil {
			break
		}
		tx := s.be.BatchTx()
		tx.Lock()
		tx.UnsafeDelete(schema.Alarm, alarmKey(m))
		tx.Unlock()
		s.lg.Warn("alarm disarmed", "alarm", m.GetAlarm().String(), "from", fmt.Sprintf("%x", m.GetMemberID()))
		resp.Alarms = append(resp.Alarms, m)
	default:
		return &applyResult{}
	}
	return &applyResult{resp: resp}
}

// refusedByAlarm is the error etcd's apply path gives a request while an
// alarm is active on the cluster: with CORRUPT nothing that reads or writes
// the keyspace through raft is applied; with NOSPACE nothing that grows it
// (puts, txns with puts, lease grants).
func (s *Server) refusedByAlarm(r *pb.InternalRaftRequest) error {
	if s.maint.alarms.active(pb.AlarmType_CORRUPT) {
		switch {
		case r.Put != nil, r.DeleteRange != nil, r.Txn != nil, r.Compaction != nil,
			r.LeaseGrant != nil, r.LeaseRevoke != nil, r.Range != nil:
			return rpctypes.ErrGRPCCorrupt
		}
	}
	if s.maint.alarms.active(pb.AlarmType_NOSPACE) {
		switch {
		case r.Put != nil, r.LeaseGrant != nil:
			return rpctypes.ErrGRPCNoSpace
		case r.Txn != nil && costTxn(r.Txn) > 0:
			return rpctypes.ErrGRPCNoSpace
		}
	}
	return nil
}

// applyWithAlarms applies a request the way etcd's appliers stack up:
// refused while an alarm forbids it, else applied, with "database space
// exceeded" for a write that did not fit the quota before it was applied
// (it is applied all the same, on every member alike). The first such
// write raises this member's NOSPACE alarm through raft; its proposer is
// answered once the alarm is proposed, so it returns 0 for the waiter ID.
func (s *Server) applyWithAlarms(id uint64, r *pb.InternalRaftRequest) (uint64, *applyResult) {
	if err := s.refusedByAlarm(r); err != nil {
		return id, &applyResult{err: err}
	}
	fits := s.quotaAvailable(r)
	res := s.applyRequest(r)
	if res.err == nil && !fits {
		res.err = rpctypes.ErrGRPCNoSpace
	}
	if res.err != rpctypes.ErrGRPCNoSpace || s.maint.alarms.active(pb.AlarmType_NOSPACE) {
		return id, res
	}
	s.lg.Warn("message exceeded backend quota; raising alarm",
		"quota-size-bytes", s.cfg.QuotaBackendBytes,
		"quota-size", humanize.Bytes(uint64(max(s.cfg.QuotaBackendBytes, 0))),
		"error", "etcdserver: mvcc: database space exceeded")
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.raiseAlarm(s.id, pb.AlarmType_NOSPACE)
		if id != 0 {
			s.w.Trigger(id, res)
		}
	}()
	return 0, nil
}

// raiseAlarm proposes an alarm for member id through raft and waits, within
// a request timeout or until the server stops, until it is applied.
func (s *Server) raiseAlarm(id uint64, at pb.AlarmType) {
	ctx, cancel := context.WithTimeout(context.Background(), s.reqTimeout())
	defer cancel()
	req := &pb.AlarmRequest{MemberID: id, Action: pb.AlarmRequest_ACTIVATE, Alarm: at}
	if _, err := s.propose(ctx, &pb.InternalRaftRequest{Alarm: req}); err != nil {
		s.lg.Warn("failed to raise alarm", "alarm", at.String(), "member-id", fmt.Sprintf("%x", id), "error", err)
	}
}

// statusErrors are the problems Maintenance.Status lists, as etcd does:
// no leader, then the active alarms.
func (s *Server) statusErrors() []string {
	var out []string
	if s.r.Leader() == 0 {
		out = append(out, "etcdserver: no leader")
	}
	for _, a := range s.Alarms() {
		out = append(out, a.String())
	}
	return out
}
