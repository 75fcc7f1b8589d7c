package rafthttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-semver/semver"
	"go.etcd.io/etcd/api/v3/version"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Handler returns the handler of the peer endpoints (/raft, /raft/stream/...,
// /raft/snapshot); mount it on the peer listener.
func (t *Transport) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(pathRaft, t.guard(t.servePipeline))
	mux.HandleFunc(pathStream, t.guard(t.serveStream))
	mux.HandleFunc(pathSnapshot, t.guard(t.serveSnapshot))
	mux.HandleFunc(pathProbing, serveProbing)
	return mux
}

// guard counts the request as running (Stop waits for it), refuses requests
// after Stop, and cuts the connection's reads and writes short on Stop.
func (t *Transport) guard(h func(ctx context.Context, w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t.mu.Lock()
		if t.stopped {
			t.mu.Unlock()
			http.Error(w, "transport stopped", http.StatusServiceUnavailable)
			return
		}
		t.handlers.Add(1)
		t.mu.Unlock()
		defer t.handlers.Done()

		rc := http.NewResponseController(w)
		stop := context.AfterFunc(t.ctx, func() {
			now := time.Now()
			_ = rc.SetReadDeadline(now)
			_ = rc.SetWriteDeadline(now)
		})
		defer stop()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stopCancel := context.AfterFunc(t.ctx, cancel)
		defer stopCancel()

		w.Header().Set(hdrClusterID, idString(t.cid))
		w.Header().Set(hdrVersion, version.Version)
		if !t.checkRequest(w, r) {
			return
		}
		h(ctx, w, r)
	}
}

// checkRequest refuses requests of another cluster or of an incompatible
// version with 412, as etcd does.
func (t *Transport) checkRequest(w http.ResponseWriter, r *http.Request) bool {
	from := r.Header.Get(hdrFrom)
	if err := checkVersion(r.Header); err != nil {
		t.lg.Warn("rejected peer request: incompatible version",
			slog.String("remote-peer-id", from),
			slog.String("remote-peer-server-version", r.Header.Get(hdrVersion)),
			slog.String("remote-peer-minimum-cluster-version", r.Header.Get(hdrMinCluster)),
			slog.String("local-member-server-version", version.Version),
			slog.Any("error", err))
		http.Error(w, ErrIncompatibleVersion.Error(), http.StatusPreconditionFailed)
		return false
	}
	if got := r.Header.Get(hdrClusterID); got != idString(t.cid) {
		t.lg.Warn("rejected peer request: cluster ID mismatch",
			slog.String("remote-peer-id", from),
			slog.String("remote-peer-cluster-id", got),
			slog.String("local-member-cluster-id", idString(t.cid)),
			slog.String("path", r.URL.Path))
		http.Error(w, ErrClusterIDMismatch.Error(), http.StatusPreconditionFailed)
		return false
	}
	return true
}

// checkVersion applies etcd's rule: the remote server must be at least our
// minimum cluster version, and its minimum cluster version at most our
// version (major.minor). A request without version headers passes.
func checkVersion(h http.Header) error {
	local := semver.Must(semver.NewVersion(version.Version))
	localMin := semver.Must(semver.NewVersion(version.MinClusterVersion))
	if s := h.Get(hdrVersion); s != "" {
		v, err := semver.NewVersion(s)
		if err != nil {
			return fmt.Errorf("parse server version: %w", err)
		}
		if majorMinor(v) < majorMinor(localMin) {
			return fmt.Errorf("remote version %s is lower than the minimum cluster version %s", v, localMin)
		}
	}
	if s := h.Get(hdrMinCluster); s != "" {
		v, err := semver.NewVersion(s)
		if err != nil {
			return fmt.Errorf("parse minimum cluster version: %w", err)
		}
		if majorMinor(v) > majorMinor(local) {
			return fmt.Errorf("remote minimum cluster version %s is higher than the local version %s", v, local)
		}
	}
	return nil
}

func majorMinor(v *semver.Version) int64 { return v.Major<<32 | v.Minor }

// setHeaders fills the headers every request to a peer carries.
func (t *Transport) setHeaders(h http.Header) {
	h.Set(hdrFrom, idString(t.id))
	h.Set(hdrVersion, version.Version)
	h.Set(hdrMinCluster, version.MinClusterVersion)
	h.Set(hdrClusterID, idString(t.cid))
	if len(t.urls) > 0 {
		h.Set(hdrPeerURLs, strings.Join(t.urls, ","))
	}
}

// responseError turns a peer's answer into nil (2xx) or an error; it reads
// at most a little of the body.
func responseError(resp *http.Response) error {
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	body := strings.TrimSpace(string(b))
	switch resp.StatusCode {
	case http.StatusGone, http.StatusForbidden:
		return ErrMemberRemoved
	case http.StatusPreconditionFailed:
		switch body {
		case ErrClusterIDMismatch.Error():
			return fmt.Errorf("%w (remote cluster ID %s)", ErrClusterIDMismatch, resp.Header.Get(hdrClusterID))
		case ErrIncompatibleVersion.Error():
			return fmt.Errorf("%w (remote version %s)", ErrIncompatibleVersion, resp.Header.Get(hdrVersion))
		}
	}
	return fmt.Errorf("unexpected http status %s: %q", resp.Status, body)
}

// servePipeline receives one message posted to /raft.
func (t *Transport) servePipeline(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != pathRaft {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(t.maxMsg)+1))
	if err != nil {
		t.lg.Warn("failed to read raft message", slog.String("remote-addr", r.RemoteAddr), slog.Any("error", err))
		http.Error(w, "error reading raft message", http.StatusBadRequest)
		return
	}
	if uint64(len(b)) > t.maxMsg {
		http.Error(w, "error reading raft message", http.StatusRequestEntityTooLarge)
		return
	}
	m := &raftpb.Message{}
	if err := proto.Unmarshal(b, m); err != nil {
		t.lg.Warn("failed to unmarshal raft message", slog.String("remote-addr", r.RemoteAddr), slog.Any("error", err))
		http.Error(w, "error unmarshalling raft message", http.StatusBadRequest)
		return
	}
	if t.raft.IsIDRemoved(m.GetFrom()) {
		t.lg.Warn("rejected raft message from removed member", slog.String("remote-peer-id", idString(m.GetFrom())))
		http.Error(w, "cannot process message from removed member", http.StatusForbidden)
		return
	}
	t.obs.received(m.GetFrom(), len(b))
	if err := t.raft.Process(ctx, m); err != nil {
		t.lg.Warn("failed to process raft message", slog.String("remote-peer-id", idString(m.GetFrom())), slog.Any("error", err))
		http.Error(w, "error processing raft message", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// streamPeer checks a stream request and finds the peer it comes from; it
// has answered the request when it returns nil.
func (t *Transport) streamPeer(w http.ResponseWriter, r *http.Request, prefix string) *peer {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return nil
	}
	from, err := parseID(strings.TrimPrefix(r.URL.Path, prefix))
	if err != nil {
		http.Error(w, "invalid from", http.StatusNotFound)
		return nil
	}
	if t.raft.IsIDRemoved(from) {
		t.lg.Warn("rejected stream from removed member", slog.String("remote-peer-id", idString(from)))
		http.Error(w, "removed member", http.StatusGone)
		return nil
	}
	p := t.peer(from)
	if p == nil {
		t.lg.Warn("rejected stream from unknown member", slog.String("remote-peer-id", idString(from)))
		http.Error(w, "error sender not found", http.StatusNotFound)
		return nil
	}
	if to := r.Header.Get(hdrTo); to != idString(t.id) {
		t.lg.Warn("rejected stream: X-Raft-To mismatch", slog.String("remote-peer-id", idString(from)), slog.String("to", to))
		http.Error(w, "to field mismatch", http.StatusPreconditionFailed)
		return nil
	}
	return p
}

func (t *Transport) serveStream(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, pathStreamMessage):
		if p := t.streamPeer(w, r, pathStreamMessage); p != nil {
			p.writeStream(ctx, w)
		}
	case strings.HasPrefix(r.URL.Path, pathStreamMsgApp):
		if p := t.streamPeer(w, r, pathStreamMsgApp); p != nil {
			p.writeMsgAppHeartbeats(ctx, w)
		}
	default:
		http.Error(w, "invalid path", http.StatusNotFound)
	}
}

// errorIsRemoved reports whether err says that we were removed.
func errorIsRemoved(err error) bool { return errors.Is(err, ErrMemberRemoved) }
