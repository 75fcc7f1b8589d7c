package robustness

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"
)

// state is the model of the key space: each key's value and revisions, the
// live leases and the store's revision. It is small (numKeys keys) and
// copied on every step, so steps are pure.
type state struct {
	Rev    int64
	KVs    [numKeys]kv // ModRev 0: absent
	Leases []int64     // sorted, live lease IDs
}

func initState() state {
	s := state{Rev: 1} // a new etcd store is at revision 1
	for i := range s.KVs {
		s.KVs[i].Key = i
	}
	return s
}

func (s state) hasLease(id int64) bool {
	_, ok := slices.BinarySearch(s.Leases, id)
	return ok
}

// put writes key at revision s.Rev+1.
func (s state) put(key int, value string, lease int64) state {
	s.Rev++
	old := s.KVs[key]
	n := kv{Key: key, Value: value, ModRev: s.Rev, Lease: lease, CreateRev: old.CreateRev, Version: old.Version + 1}
	if old.ModRev == 0 {
		n.CreateRev, n.Version = s.Rev, 1
	}
	s.KVs[key] = n
	return s
}

func (s state) del(key int) state {
	s.Rev++
	s.KVs[key] = kv{Key: key}
	return s
}

// revoke drops lease id and deletes its keys in one revision (none if it
// had no keys).
func (s state) revoke(id int64) state {
	i, _ := slices.BinarySearch(s.Leases, id)
	s.Leases = slices.Delete(slices.Clone(s.Leases), i, i+1)
	bumped := false
	for k := range s.KVs {
		if s.KVs[k].ModRev != 0 && s.KVs[k].Lease == id {
			if !bumped {
				s.Rev++
				bumped = true
			}
			s.KVs[k] = kv{Key: k}
		}
	}
	return s
}

func (s state) grant(id int64) state {
	ls := slices.Clone(s.Leases)
	i, _ := slices.BinarySearch(ls, id)
	s.Leases = slices.Insert(ls, i, id)
	return s
}

// rangeKVs returns the present keys in [from, to).
func (s state) rangeKVs(from, to int) []kv {
	var out []kv
	for k := from; k < to && k < numKeys; k++ {
		if s.KVs[k].ModRev != 0 {
			out = append(out, s.KVs[k])
		}
	}
	return out
}

// step is the sequential specification: whether op could run on s with
// this response, and the state after it.
func step(s state, req request, resp response) (bool, state) {
	switch req.Kind {
	case opGet:
		return resp.Rev == s.Rev && slices.Equal(resp.KVs, s.rangeKVs(req.Key, req.End)), s

	case opPut, opPutLease:
		leaseOK := req.Lease == 0 || s.hasLease(req.Lease)
		switch {
		case resp.Unknown:
			if !leaseOK {
				return true, s
			}
			return true, s.put(req.Key, req.Value, req.Lease)
		case resp.LeaseNotFound:
			return !leaseOK, s
		case !leaseOK || resp.Rev != s.Rev+1:
			return false, s
		case req.PrevKV && !resp.RevOnly && !samePrev(resp.Prev, s.KVs[req.Key]):
			return false, s
		}
		return true, s.put(req.Key, req.Value, req.Lease)

	case opDelete:
		present := s.KVs[req.Key].ModRev != 0
		if resp.Unknown {
			if present {
				return true, s.del(req.Key)
			}
			return true, s
		}
		if present {
			return resp.Deleted == 1 && resp.Rev == s.Rev+1, s.del(req.Key)
		}
		return resp.Deleted == 0 && resp.Rev == s.Rev, s

	case opTxnCAS:
		cond := s.KVs[req.Key].ModRev == req.Expect
		switch {
		case resp.Unknown:
			if cond {
				return true, s.put(req.Key, req.Value, 0)
			}
			return true, s
		case resp.RevOnly || resp.Succeeded:
			if !cond || resp.Rev != s.Rev+1 {
				return false, s
			}
			return true, s.put(req.Key, req.Value, 0)
		}
		return !cond && resp.Rev == s.Rev && slices.Equal(resp.KVs, s.rangeKVs(req.Key, req.Key+1)), s

	case opLeaseGrant:
		if resp.Unknown || s.hasLease(resp.LeaseID) {
			return resp.Unknown, s
		}
		return true, s.grant(resp.LeaseID)

	case opLeaseRevoke:
		live := s.hasLease(req.Lease)
		switch {
		case resp.Unknown:
			if live {
				return true, s.revoke(req.Lease)
			}
			return true, s
		case resp.LeaseNotFound:
			return !live, s
		case !live:
			return false, s
		}
		return true, s.revoke(req.Lease)
	}
	return false, s
}

func samePrev(prev *kv, cur kv) bool {
	if cur.ModRev == 0 {
		return prev == nil
	}
	return prev != nil && *prev == cur
}

func stateEqual(a, b state) bool {
	return a.Rev == b.Rev && a.KVs == b.KVs && slices.Equal(a.Leases, b.Leases)
}

func stateHash(s state) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|", s.Rev)
	for _, k := range s.KVs {
		fmt.Fprintf(h, "%s,%d,%d;", k.Value, k.ModRev, k.Lease)
	}
	for _, l := range s.Leases {
		fmt.Fprintf(h, "%d,", l)
	}
	return h.Sum64()
}

// kvModel is the porcupine model of etcd's key space with revisions.
var kvModel = porcupine.Model{
	Init: func() any { return initState() },
	Step: func(st, in, out any) (bool, any) {
		ok, n := step(st.(state), in.(request), out.(response))
		return ok, n
	},
	Equal: func(a, b any) bool { return stateEqual(a.(state), b.(state)) },
	Hash:  func(st any) uint64 { return stateHash(st.(state)) },
	DescribeOperation: func(in, out any) string {
		return describeOp(in.(request), out.(response))
	},
	DescribeState: func(st any) string { return describeState(st.(state)) },
}

func describeOp(req request, resp response) string {
	var b strings.Builder
	switch req.Kind {
	case opGet, opStaleGet:
		fmt.Fprintf(&b, "%s(k%d..k%d)", req.Kind, req.Key, req.End-1)
	case opPut, opPutLease:
		fmt.Fprintf(&b, "%s(k%d, %s", req.Kind, req.Key, req.Value)
		if req.Lease != 0 {
			fmt.Fprintf(&b, ", lease %x", req.Lease)
		}
		b.WriteString(")")
	case opDelete:
		fmt.Fprintf(&b, "delete(k%d)", req.Key)
	case opTxnCAS:
		fmt.Fprintf(&b, "txn(if mod(k%d)==%d then put %s)", req.Key, req.Expect, req.Value)
	case opLeaseGrant:
		b.WriteString("lease-grant()")
	case opLeaseRevoke:
		fmt.Fprintf(&b, "lease-revoke(%x)", req.Lease)
	}
	b.WriteString(" -> ")
	switch {
	case resp.Unknown:
		b.WriteString("unknown")
		return b.String()
	case resp.RevOnly:
		fmt.Fprintf(&b, "happened (seen by watch) rev %d", resp.Rev)
		return b.String()
	case resp.LeaseNotFound:
		b.WriteString("lease not found")
		return b.String()
	}
	switch req.Kind {
	case opGet, opStaleGet:
		fmt.Fprintf(&b, "rev %d %s", resp.Rev, describeKVs(resp.KVs))
	case opPut, opPutLease:
		fmt.Fprintf(&b, "rev %d", resp.Rev)
		if req.PrevKV {
			if resp.Prev == nil {
				b.WriteString(" prev none")
			} else {
				fmt.Fprintf(&b, " prev %s", describeKVs([]kv{*resp.Prev}))
			}
		}
	case opDelete:
		fmt.Fprintf(&b, "rev %d deleted %d", resp.Rev, resp.Deleted)
	case opTxnCAS:
		fmt.Fprintf(&b, "rev %d succeeded %v", resp.Rev, resp.Succeeded)
		if !resp.Succeeded {
			b.WriteString(" " + describeKVs(resp.KVs))
		}
	case opLeaseGrant:
		fmt.Fprintf(&b, "id %x", resp.LeaseID)
	case opLeaseRevoke:
		b.WriteString("ok")
	}
	return b.String()
}

func describeKVs(kvs []kv) string {
	parts := make([]string, 0, len(kvs))
	for _, k := range kvs {
		s := fmt.Sprintf("k%d=%s@%d(c%d,v%d)", k.Key, k.Value, k.ModRev, k.CreateRev, k.Version)
		if k.Lease != 0 {
			s += fmt.Sprintf("[lease %x]", k.Lease)
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func describeState(s state) string {
	return fmt.Sprintf("rev %d %s leases %d", s.Rev, describeKVs(s.rangeKVs(0, numKeys)), len(s.Leases))
}
