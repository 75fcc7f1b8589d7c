package v1http

import (
	"net/http"
	"strings"
)

// serveMachines answers the client URLs of every member, comma-and-space
// separated.
func (h *Handler) serveMachines(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	ml, err := h.srv.MemberList(r.Context(), false)
	if err != nil {
		h.writeError(w, err)
		return
	}
	var urls []string
	for _, m := range ml.Members {
		urls = append(urls, m.ClientURLs...)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(strings.Join(urls, ", ")))
}

// serveLeader answers the leader's peer URL; with no leader, error 301.
func (h *Handler) serveLeader(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	ml, err := h.srv.MemberList(r.Context(), false)
	if err != nil {
		h.writeError(w, err)
		return
	}
	lead := h.srv.Leader()
	for _, m := range ml.Members {
		if m.ID == lead && lead != 0 && len(m.PeerURLs) > 0 {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte(m.PeerURLs[0]))
			return
		}
	}
	h.writeError(w, h.newError(ecodeLeaderElect, "no leader"))
}
