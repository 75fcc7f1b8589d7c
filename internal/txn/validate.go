package txn

import (
	"sort"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// CheckRange validates a RangeRequest as etcd's gRPC layer does: the key
// must not be empty and the sort order and target must be known values.
func CheckRange(r *pb.RangeRequest) error {
	if len(r.GetKey()) == 0 {
		return rpctypes.ErrGRPCEmptyKey
	}
	if _, ok := pb.RangeRequest_SortOrder_name[int32(r.GetSortOrder())]; !ok {
		return rpctypes.ErrGRPCInvalidSortOption
	}
	if _, ok := pb.RangeRequest_SortTarget_name[int32(r.GetSortTarget())]; !ok {
		return rpctypes.ErrGRPCInvalidSortOption
	}
	return nil
}

// CheckPut validates a PutRequest: the key must not be empty, ignore_value
// forbids a value and ignore_lease forbids a lease.
func CheckPut(r *pb.PutRequest) error {
	if len(r.GetKey()) == 0 {
		return rpctypes.ErrGRPCEmptyKey
	}
	if r.GetIgnoreValue() && len(r.GetValue()) != 0 {
		return rpctypes.ErrGRPCValueProvided
	}
	if r.GetIgnoreLease() && r.GetLease() != 0 {
		return rpctypes.ErrGRPCLeaseProvided
	}
	return nil
}

// CheckDeleteRange validates a DeleteRangeRequest: the key must not be empty.
func CheckDeleteRange(r *pb.DeleteRangeRequest) error {
	if len(r.GetKey()) == 0 {
		return rpctypes.ErrGRPCEmptyKey
	}
	return nil
}

// CheckTxn validates a TxnRequest: at most maxTxnOps compares, success ops
// and failure ops each (nested txns get what their parent left), no empty
// compare key, every op valid (an empty op gives ErrGRPCKeyNotFound, as in
// etcd), and no key written twice by one branch: a put may not repeat another
// put's key nor fall inside a delete range, including across nested txns
// (the then and else branches of one nested txn exclude each other, so they
// may touch the same keys).
//
// Unlike etcd (issues 22445 and 16380), a "\x00" (from-key) delete range
// counts as unbounded, and a put of an earlier nested txn is checked against
// the deletes of a later one.
func CheckTxn(r *pb.TxnRequest, maxTxnOps int) error {
	if err := checkTxnRequest(r, maxTxnOps); err != nil {
		return err
	}
	if _, _, err := checkIntervals(r.GetSuccess()); err != nil {
		return err
	}
	if _, _, err := checkIntervals(r.GetFailure()); err != nil {
		return err
	}
	return nil
}

func checkTxnRequest(r *pb.TxnRequest, maxTxnOps int) error {
	opc := max(len(r.GetCompare()), len(r.GetSuccess()), len(r.GetFailure()))
	if opc > maxTxnOps {
		return rpctypes.ErrGRPCTooManyOps
	}
	for _, c := range r.GetCompare() {
		if len(c.GetKey()) == 0 {
			return rpctypes.ErrGRPCEmptyKey
		}
	}
	for _, u := range r.GetSuccess() {
		if err := checkRequestOp(u, maxTxnOps-opc); err != nil {
			return err
		}
	}
	for _, u := range r.GetFailure() {
		if err := checkRequestOp(u, maxTxnOps-opc); err != nil {
			return err
		}
	}
	return nil
}

func checkRequestOp(u *pb.RequestOp, maxTxnOps int) error {
	switch uv := u.GetRequest().(type) {
	case *pb.RequestOp_RequestRange:
		return CheckRange(uv.RequestRange)
	case *pb.RequestOp_RequestPut:
		return CheckPut(uv.RequestPut)
	case *pb.RequestOp_RequestDeleteRange:
		return CheckDeleteRange(uv.RequestDeleteRange)
	case *pb.RequestOp_RequestTxn:
		return checkTxnRequest(uv.RequestTxn, maxTxnOps)
	default:
		// An empty op is refused the way etcd refuses it.
		return rpctypes.ErrGRPCKeyNotFound
	}
}

// IsTxnReadOnly reports whether every op of both branches is a Range (a
// nested txn makes the txn a write txn, as in etcd).
func IsTxnReadOnly(r *pb.TxnRequest) bool {
	for _, u := range r.GetSuccess() {
		if u.GetRequestRange() == nil {
			return false
		}
	}
	for _, u := range r.GetFailure() {
		if u.GetRequestRange() == nil {
			return false
		}
	}
	return true
}

// keyInterval is the key range [begin, end), or [begin, +inf) if unbounded.
type keyInterval struct {
	begin, end string
	unbounded  bool
}

func deleteInterval(r *pb.DeleteRangeRequest) keyInterval {
	key, end := string(r.GetKey()), r.GetRangeEnd()
	switch {
	case len(end) == 0:
		return keyInterval{begin: key, end: key + "\x00"}
	case isFromKey(end):
		return keyInterval{begin: key, unbounded: true}
	}
	return keyInterval{begin: key, end: string(end)}
}

func (iv keyInterval) empty() bool { return !iv.unbounded && iv.end <= iv.begin }

// endsAfter reports whether iv's end lies after k (iv contains k if it also
// begins at or before k).
func (iv keyInterval) endsAfter(k string) bool { return iv.unbounded || k < iv.end }

// endsLaterThan reports whether iv ends after o.
func (iv keyInterval) endsLaterThan(o keyInterval) bool {
	if o.unbounded {
		return false
	}
	return iv.unbounded || iv.end > o.end
}

// Owners of puts and deletes at one level of checkIntervals: ops of the level
// itself, or the index (>= 0) of the nested txn they come from.
const (
	ownerLevelDelete = -1
	ownerLevelPut    = -2
)

type ownedInterval struct {
	keyInterval
	owner int
}

// checkIntervals returns the keys put and the ranges deleted by reqs (and
// their nested txns), or ErrGRPCDuplicateKey if a key is put twice or put
// and deleted. Ops of the two branches of one nested txn never conflict with
// each other.
//
// The returned map's values are internal owners; callers use its keys.
func checkIntervals(reqs []*pb.RequestOp) (map[string]int, []keyInterval, error) {
	var dels []ownedInterval
	for _, req := range reqs {
		if d := req.GetRequestDeleteRange(); d != nil {
			if iv := deleteInterval(d); !iv.empty() {
				dels = append(dels, ownedInterval{iv, ownerLevelDelete})
			}
		}
	}

	puts := make(map[string]int)
	addPut := func(k string, owner int) error {
		if o, ok := puts[k]; ok && (o != owner || owner == ownerLevelPut) {
			return rpctypes.ErrGRPCDuplicateKey
		}
		puts[k] = owner
		return nil
	}
	for i, req := range reqs {
		t := req.GetRequestTxn()
		if t == nil {
			continue
		}
		for _, branch := range [][]*pb.RequestOp{t.GetSuccess(), t.GetFailure()} {
			bputs, bdels, err := checkIntervals(branch)
			if err != nil {
				return nil, nil, err
			}
			for k := range bputs {
				if err := addPut(k, i); err != nil {
					return nil, nil, err
				}
			}
			for _, iv := range bdels {
				dels = append(dels, ownedInterval{iv, i})
			}
		}
	}
	for _, req := range reqs {
		if p := req.GetRequestPut(); p != nil {
			if err := addPut(string(p.GetKey()), ownerLevelPut); err != nil {
				return nil, nil, err
			}
		}
	}

	if err := checkPutsOutsideDeletes(puts, dels); err != nil {
		return nil, nil, err
	}
	ivs := make([]keyInterval, len(dels))
	for i := range dels {
		ivs[i] = dels[i].keyInterval
	}
	return puts, ivs, nil
}

// checkPutsOutsideDeletes fails if a put lies inside a delete of another
// owner. Deletes are sorted by begin; for each prefix it keeps the interval
// ending last and the one ending last among the other owners, so each put is
// checked in O(log n).
func checkPutsOutsideDeletes(puts map[string]int, dels []ownedInterval) error {
	if len(dels) == 0 || len(puts) == 0 {
		return nil
	}
	sort.Slice(dels, func(i, j int) bool { return dels[i].begin < dels[j].begin })
	type best struct {
		iv  ownedInterval
		set bool
	}
	first := make([]best, len(dels))  // ending last in dels[:i+1]
	second := make([]best, len(dels)) // ending last among owners != first's
	var b1, b2 best
	for i, d := range dels {
		switch {
		case !b1.set || d.endsLaterThan(b1.iv.keyInterval):
			if b1.set && d.owner != b1.iv.owner {
				b2 = b1
			}
			b1 = best{d, true}
		case d.owner != b1.iv.owner && (!b2.set || d.endsLaterThan(b2.iv.keyInterval)):
			b2 = best{d, true}
		}
		first[i], second[i] = b1, b2
	}
	for k, owner := range puts {
		n := sort.Search(len(dels), func(i int) bool { return dels[i].begin > k })
		if n == 0 {
			continue
		}
		c := first[n-1]
		if c.iv.owner == owner {
			c = second[n-1]
		}
		if c.set && c.iv.endsAfter(k) {
			return rpctypes.ErrGRPCDuplicateKey
		}
	}
	return nil
}
