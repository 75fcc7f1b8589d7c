package v1http

import (
	"bytes"
	"context"
	"net/http"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdgo/etcd/internal/mvcc"
)

// serveWatch serves /v1/watch/P: GET waits for the next change of P or of
// a key under P/; POST (or GET) with index=N answers the first such change
// at revision >= N, from history at once if there is one. A client that
// hangs up cancels the watch.
func (h *Handler) serveWatch(w http.ResponseWriter, r *http.Request, p string) {
	if !allow(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	if !h.parseForm(w, r) {
		return
	}
	key, _ := normKey(p)
	since, err := h.formInt(r, "index", ecodeIndexNaN)
	if err != nil {
		h.writeError(w, err)
		return
	}
	res, err := h.watch(r.Context(), key, since)
	if err != nil {
		if r.Context().Err() == nil {
			h.writeError(w, err)
		}
		return
	}
	writeJSON(w, res)
}

// watch waits for the first event of key or under key/ at revision >=
// since (0: the next revision).
func (h *Handler) watch(ctx context.Context, key string, since int64) (*Response, error) {
	ws := h.srv.Watchable().NewWatchStream()
	defer ws.Close()
	prefix := []byte(childPrefix(key))
	start, end := []byte(key), prefixEnd(prefix)
	filter := func(ev *mvccpb.Event) bool {
		return string(ev.Kv.Key) != key && !bytes.HasPrefix(ev.Kv.Key, prefix)
	}
	if _, err := ws.Watch(mvcc.AutoWatchID, start, end, since, filter); err != nil {
		return nil, err
	}
	for {
		select {
		case wr, ok := <-ws.Chan():
			if !ok {
				return nil, h.newError(ecodeRaftInternal, "watch closed")
			}
			if wr.CompactRevision != 0 {
				return nil, h.newError(ecodeEventIndexGone, "the requested history has been cleared")
			}
			if len(wr.Events) > 0 {
				return h.eventResponse(ctx, wr.Events[0]), nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-h.stopc:
			return nil, h.newError(ecodeLeaderElect, "the server is shutting down")
		case <-h.srv.StopNotify():
			return nil, h.newError(ecodeLeaderElect, "the server stopped")
		}
	}
}

// eventResponse answers an event as the write that caused it was
// answered: SET with newKey or prevValue (read at the revision before),
// expiration and ttl; DELETE with prevValue.
func (h *Handler) eventResponse(ctx context.Context, ev *mvccpb.Event) *Response {
	kv := ev.Kv
	res := &Response{Action: actionSet, Key: string(kv.Key), Index: kv.ModRevision}
	if ev.Type == mvccpb.Event_DELETE {
		res.Action = actionDelete
	} else {
		res.Value = string(kv.Value)
		h.fillLease(ctx, res, kv.Lease)
	}
	if ev.Type == mvccpb.Event_PUT && kv.Version == 1 {
		res.NewKey = true
		return res
	}
	rr, err := h.srv.Range(ctx, &pb.RangeRequest{Key: kv.Key, Revision: kv.ModRevision - 1, Serializable: true})
	if err == nil && len(rr.Kvs) > 0 {
		res.PrevValue = string(rr.Kvs[0].Value)
	}
	return res
}
