package v1http

import (
	"context"
	"fmt"
	"net/http"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// testFailed is a failed test-and-set: the key holds current, not prev.
type testFailed struct{ current, prev string }

func (e *testFailed) Error() string { return fmt.Sprintf("Test %s==%s fails", e.current, e.prev) }

// serveTestAndSet serves POST /v1/testAndSet/K prevValue=P value=V: a
// failed test answers 400 with the plain text "Test C==P fails".
func (h *Handler) serveTestAndSet(w http.ResponseWriter, r *http.Request, p string) {
	if !allow(w, r, http.MethodPost, http.MethodPut) {
		return
	}
	if !h.parseForm(w, r) {
		return
	}
	key, _ := normKey(p)
	if r.Form.Get("prevValue") == "" {
		h.writeError(w, h.newError(ecodePrevValueReq, "testAndSet"))
		return
	}
	res, err := h.setFromForm(r.Context(), r, key, true)
	if tf, ok := err.(*testFailed); ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, tf.Error())
		return
	}
	if err != nil {
		h.writeError(w, err)
		return
	}
	writeJSON(w, res)
}

// setFromForm sets key from the form's value, ttl and prevValue. A failed
// prevValue test is a *testFailed for the testAndSet endpoint, error 101
// otherwise.
func (h *Handler) setFromForm(ctx context.Context, r *http.Request, key string, tas bool) (*Response, error) {
	value := r.Form.Get("value")
	if value == "" {
		return nil, h.newError(ecodeValueRequired, "set")
	}
	ttl, err := h.formInt(r, "ttl", ecodeTTLNaN)
	if err != nil {
		return nil, err
	}
	res, err := h.set(ctx, key, value, ttl, r.Form.Get("prevValue"))
	if tf, ok := err.(*testFailed); ok && !tas {
		return nil, h.newError(ecodeTestFailed, fmt.Sprintf("[%s != %s]", tf.prev, tf.current))
	}
	return res, err
}

// set writes key = value in one txn that also checks that key is not a
// directory (102), that no ancestor holds a value (104) and, with prev
// set, that key holds prev (testFailed; 100 when key is missing). A
// positive ttl attaches the key to a new lease of that TTL; otherwise the
// key is permanent (lease 0).
func (h *Handler) set(ctx context.Context, key, value string, ttl int64, prev string) (*Response, error) {
	if key == "/" {
		return nil, h.newError(ecodeNotFile, key)
	}
	var (
		leaseID int64
		expiry  time.Time
	)
	if ttl > 0 {
		start := time.Now()
		lr, err := h.srv.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: ttl})
		if err != nil {
			return nil, err
		}
		leaseID, expiry = lr.ID, start.Add(time.Duration(lr.TTL)*time.Second)
	}
	tr, err := h.srv.Txn(ctx, setTxn(key, value, leaseID, prev))
	if err == nil && !tr.Succeeded {
		err = h.setFailure(key, prev, tr)
	}
	if err != nil {
		if leaseID != 0 {
			h.srv.LeaseRevoke(context.WithoutCancel(ctx), &pb.LeaseRevokeRequest{ID: leaseID})
		}
		return nil, err
	}
	res := &Response{Action: actionSet, Key: key, Value: value, Index: tr.Header.GetRevision()}
	pk := tr.Responses[0].GetResponsePut().GetPrevKv()
	if pk != nil {
		res.PrevValue = string(pk.Value)
		h.dropLease(ctx, pk, leaseID)
	} else {
		res.NewKey = true
	}
	if leaseID != 0 {
		res.setExpiry(expiry)
	}
	return res, nil
}

// setTxn builds the txn of set. Its failure branch reads, in order, each
// ancestor, the count of keys under key, and key itself, so that the
// cause of a failure is known from the same revision.
func setTxn(key, value string, leaseID int64, prev string) *pb.TxnRequest {
	as := ancestors(key)
	prefix := []byte(childPrefix(key))
	var cmps []*pb.Compare
	var fail []*pb.RequestOp
	for _, a := range as {
		cmps = append(cmps, &pb.Compare{Key: []byte(a), Target: pb.Compare_VERSION, Result: pb.Compare_EQUAL,
			TargetUnion: &pb.Compare_Version{Version: 0}})
		fail = append(fail, rangeOp(&pb.RangeRequest{Key: []byte(a)}))
	}
	cmps = append(cmps, &pb.Compare{Key: prefix, RangeEnd: prefixEnd(prefix), Target: pb.Compare_VERSION,
		Result: pb.Compare_EQUAL, TargetUnion: &pb.Compare_Version{Version: 0}})
	fail = append(fail, rangeOp(&pb.RangeRequest{Key: prefix, RangeEnd: prefixEnd(prefix), CountOnly: true}))
	if prev != "" {
		cmps = append(cmps, &pb.Compare{Key: []byte(key), Target: pb.Compare_VALUE, Result: pb.Compare_EQUAL,
			TargetUnion: &pb.Compare_Value{Value: []byte(prev)}})
	}
	fail = append(fail, rangeOp(&pb.RangeRequest{Key: []byte(key)}))
	return &pb.TxnRequest{
		Compare: cmps,
		Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{
			Key: []byte(key), Value: []byte(value), Lease: leaseID, PrevKv: true}}}},
		Failure: fail,
	}
}

func rangeOp(r *pb.RangeRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: r}}
}

// setFailure explains a failed setTxn from its failure branch's reads.
func (h *Handler) setFailure(key, prev string, tr *pb.TxnResponse) error {
	as := ancestors(key)
	rs := tr.Responses
	idx := tr.Header.GetRevision()
	mk := func(code int, cause string) error {
		return &Error{ErrorCode: code, Message: errMessages[code], Cause: cause, Index: idx}
	}
	for i, a := range as {
		if len(rs[i].GetResponseRange().GetKvs()) > 0 {
			return mk(ecodeNotDir, a)
		}
	}
	if rs[len(as)].GetResponseRange().GetCount() > 0 {
		return mk(ecodeNotFile, key)
	}
	kvs := rs[len(as)+1].GetResponseRange().GetKvs()
	if len(kvs) == 0 {
		return mk(ecodeKeyNotFound, key)
	}
	return &testFailed{current: string(kvs[0].Value), prev: prev}
}
