package v1http

import (
	"context"
	"net/http"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// serveKeys serves /v1/keys/K: GET reads or lists, POST and PUT set,
// DELETE deletes.
func (h *Handler) serveKeys(w http.ResponseWriter, r *http.Request, p string) {
	if !allow(w, r, http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete) {
		return
	}
	if !h.parseForm(w, r) {
		return
	}
	key, trailing := normKey(p)
	ctx := r.Context()
	var (
		v   any
		err error
	)
	switch r.Method {
	case http.MethodGet:
		v, err = h.get(ctx, key, trailing)
	case http.MethodDelete:
		v, err = h.delete(ctx, key)
	default:
		var res *Response
		res, err = h.setFromForm(ctx, r, key, false)
		v = res
	}
	if err != nil {
		h.writeError(w, err)
		return
	}
	writeJSON(w, v)
}

// get answers a key's value, or the listing of a directory (a key with
// keys under it, the root, or any key asked with a trailing slash).
func (h *Handler) get(ctx context.Context, key string, trailing bool) (any, error) {
	if key != "/" && !trailing {
		rr, err := h.srv.Range(ctx, &pb.RangeRequest{Key: []byte(key)})
		if err != nil {
			return nil, err
		}
		if len(rr.Kvs) > 0 {
			res := &Response{Action: actionGet, Key: key, Value: string(rr.Kvs[0].Value), Index: rr.Header.GetRevision()}
			h.fillLease(ctx, res, rr.Kvs[0].Lease)
			return res, nil
		}
	}
	return h.list(ctx, key)
}

// list answers the children of dir one level deep, in key order; a child
// with keys under it is shown as a directory.
func (h *Handler) list(ctx context.Context, dir string) ([]*Response, error) {
	prefix := []byte(childPrefix(dir))
	rr, err := h.srv.Range(ctx, &pb.RangeRequest{Key: prefix, RangeEnd: prefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	if len(rr.Kvs) == 0 {
		return nil, h.newError(ecodeKeyNotFound, dir)
	}
	rev := rr.Header.GetRevision()
	out := make([]*Response, 0, len(rr.Kvs))
	seenDir := make(map[string]bool)
	for _, kv := range rr.Kvs {
		rest := string(kv.Key[len(prefix):])
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			child := string(prefix) + rest[:i]
			if !seenDir[child] {
				seenDir[child] = true
				out = append(out, &Response{Action: actionGet, Key: child, Dir: true, Index: rev})
			}
			continue
		}
		res := &Response{Action: actionGet, Key: string(kv.Key), Value: string(kv.Value), Index: rev}
		h.fillLease(ctx, res, kv.Lease)
		out = append(out, res)
	}
	return out, nil
}

// fillLease sets expiration and ttl of a key attached to lease id from the
// lease's time to live; a lease already gone leaves them out.
func (h *Handler) fillLease(ctx context.Context, res *Response, id int64) {
	if id == 0 {
		return
	}
	tr, err := h.srv.LeaseTimeToLive(ctx, &pb.LeaseTimeToLiveRequest{ID: id})
	if err != nil || tr.TTL < 0 {
		return
	}
	res.setExpiry(time.Now().Add(time.Duration(tr.TTL) * time.Second))
	res.TTL = tr.TTL
}

// delete deletes one key; a directory is refused (102).
func (h *Handler) delete(ctx context.Context, key string) (*Response, error) {
	if key == "/" {
		return nil, h.newError(ecodeNotFile, key)
	}
	dr, err := h.srv.DeleteRange(ctx, &pb.DeleteRangeRequest{Key: []byte(key), PrevKv: true})
	if err != nil {
		return nil, err
	}
	if dr.Deleted == 0 {
		prefix := []byte(childPrefix(key))
		rr, err := h.srv.Range(ctx, &pb.RangeRequest{Key: prefix, RangeEnd: prefixEnd(prefix), CountOnly: true})
		if err != nil {
			return nil, err
		}
		if rr.Count > 0 {
			return nil, h.newError(ecodeNotFile, key)
		}
		return nil, h.newError(ecodeKeyNotFound, key)
	}
	res := &Response{Action: actionDelete, Key: key, Index: dr.Header.GetRevision()}
	if len(dr.PrevKvs) > 0 {
		res.PrevValue = string(dr.PrevKvs[0].Value)
		h.dropLease(ctx, dr.PrevKvs[0], 0)
	}
	return res, nil
}

// dropLease revokes the lease prev was attached to when it is not keep and
// no key is attached to it any more: a v1 TTL is a lease of its own, and
// it should not outlive its key. Best effort.
func (h *Handler) dropLease(ctx context.Context, prev *mvccpb.KeyValue, keep int64) {
	if prev == nil || prev.Lease == 0 || prev.Lease == keep {
		return
	}
	tr, err := h.srv.LeaseTimeToLive(ctx, &pb.LeaseTimeToLiveRequest{ID: prev.Lease, Keys: true})
	if err != nil || len(tr.Keys) > 0 {
		return
	}
	h.srv.LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: prev.Lease})
}
