package rafthttp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// snapshotLoop sends the MsgSnaps queued for the peer, one at a time.
func (p *peer) snapshotLoop() {
	for {
		select {
		case m := <-p.snapc:
			start := time.Now()
			n, err := p.sendSnapshot(m)
			if p.ctx.Err() != nil {
				p.t.reportSnapshot(p.id, false)
				return
			}
			idx := m.GetSnapshot().GetMetadata().GetIndex()
			if err != nil {
				p.lg.Warn("failed to send database snapshot", slog.Uint64("snapshot-index", idx), slog.Any("error", err))
				if errorIsRemoved(err) {
					p.t.reportRemoved(p.id)
				}
				p.t.reportSnapshot(p.id, false)
				continue
			}
			p.lg.Info("sent database snapshot", slog.Uint64("snapshot-index", idx),
				slog.Int64("size-bytes", n), slog.Duration("took", time.Since(start)))
			p.t.reportSnapshot(p.id, true)
		case <-p.ctx.Done():
			return
		}
	}
}

// sendSnapshot posts the message and its db to /raft/snapshot, with the
// db's SHA-256 in a trailer; it returns the db's size.
func (p *peer) sendSnapshot(m *raftpb.Message) (int64, error) {
	if p.t.snaps == nil {
		return 0, errors.New("no snapshot store configured")
	}
	idx := m.GetSnapshot().GetMetadata().GetIndex()
	db, size, err := p.t.snaps.Open(idx)
	if err != nil {
		return 0, fmt.Errorf("open db of snapshot %d: %w", idx, err)
	}
	defer db.Close()
	head, err := appendFrame(nil, m)
	if err != nil {
		return 0, err
	}
	p.lg.Info("sending database snapshot", slog.Uint64("snapshot-index", idx), slog.Int64("size-bytes", size))

	u := p.pick()
	u.Path = pathSnapshot
	h := sha256.New()
	ctx, cancel := context.WithCancelCause(p.ctx)
	defer cancel(nil)
	// The watchdog fails a send that stalls: no db read for the stall
	// timeout, or no answer that long after the db was sent.
	stalled := fmt.Errorf("snapshot send made no progress for %v", p.t.snapshotStall)
	watchdog := time.AfterFunc(p.t.snapshotStall, func() { cancel(stalled) })
	defer watchdog.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return 0, fmt.Errorf("make snapshot request: %w", err)
	}
	hr := &hashReader{r: db, h: h, onRead: func() { watchdog.Reset(p.t.snapshotStall) }}
	hr.atEOF = func() { req.Trailer.Set(trailerSnapSHA256, hex.EncodeToString(h.Sum(nil))) }
	req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(head), hr))
	req.ContentLength = -1 // chunked, so that the trailer can follow
	req.Trailer = http.Header{trailerSnapSHA256: nil}
	p.t.setHeaders(req.Header)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := p.t.postRT.RoundTrip(req)
	if err != nil {
		if c := context.Cause(ctx); c != nil {
			err = c
		}
		p.failed(u)
		return hr.n, fmt.Errorf("post snapshot to %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	return hr.n, responseError(resp)
}

// hashReader hashes what it reads and calls atEOF once when r ends.
type hashReader struct {
	r      io.Reader
	h      hash.Hash
	n      int64
	atEOF  func()
	onRead func() // optional, after every read
	eof    bool
}

func (r *hashReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.h.Write(b[:n])
	r.n += int64(n)
	if r.onRead != nil {
		r.onRead()
	}
	if err == io.EOF && !r.eof {
		r.eof = true
		r.atEOF()
	}
	return n, err
}

// serveSnapshot receives a MsgSnap and its db, stores the db, checks the
// checksum when the sender sent one, then hands the message to raft.
func (t *Transport) serveSnapshot(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	var scratch bytes.Buffer
	m, err := readFrame(r.Body, t.maxMsg, &scratch)
	if err != nil {
		t.lg.Warn("failed to decode snapshot message", slog.String("remote-peer-id", r.Header.Get(hdrFrom)), slog.Any("error", err))
		http.Error(w, fmt.Sprintf("failed to decode raft message (%v)", err), http.StatusBadRequest)
		return
	}
	from := idString(m.GetFrom())
	if m.GetType() != raftpb.MessageType_MsgSnap {
		t.lg.Warn("unexpected raft message type on snapshot endpoint", slog.String("remote-peer-id", from), slog.String("type", m.GetType().String()))
		http.Error(w, "wrong raft message type", http.StatusBadRequest)
		return
	}
	if t.raft.IsIDRemoved(m.GetFrom()) {
		t.lg.Warn("rejected snapshot from removed member", slog.String("remote-peer-id", from))
		http.Error(w, "cannot process message from removed member", http.StatusForbidden)
		return
	}
	if t.snaps == nil {
		http.Error(w, "no snapshot store", http.StatusInternalServerError)
		return
	}
	idx := m.GetSnapshot().GetMetadata().GetIndex()
	t.lg.Info("receiving database snapshot", slog.String("remote-peer-id", from), slog.Uint64("snapshot-index", idx))
	start := time.Now()

	_, declared := r.Trailer[trailerSnapSHA256]
	h := sha256.New()
	vr := &hashReader{r: r.Body, h: h}
	var sumErr error
	vr.atEOF = func() {
		if !declared {
			return // etcd sends no checksum
		}
		got := hex.EncodeToString(h.Sum(nil))
		if want := r.Trailer.Get(trailerSnapSHA256); want != got {
			sumErr = fmt.Errorf("%w: sender says %q, received data hashes to %q", ErrChecksumMismatch, want, got)
		}
	}
	path, err := t.snaps.Save(idx, &checkingReader{hr: vr, err: &sumErr})
	if err == nil && !vr.eof {
		err = errors.New("snapshot store did not read the whole db")
	}
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrChecksumMismatch) {
			status = http.StatusBadRequest
		}
		t.lg.Warn("failed to save incoming database snapshot", slog.String("remote-peer-id", from),
			slog.Uint64("snapshot-index", idx), slog.Any("error", err))
		http.Error(w, fmt.Sprintf("failed to save KV snapshot (%v)", err), status)
		return
	}
	t.lg.Info("received and saved database snapshot", slog.String("remote-peer-id", from),
		slog.Uint64("snapshot-index", idx), slog.Int64("size-bytes", vr.n), slog.String("path", path),
		slog.Bool("checksum-verified", declared), slog.Duration("took", time.Since(start)))
	if err := t.raft.Process(ctx, m); err != nil {
		t.lg.Warn("failed to process snapshot message", slog.String("remote-peer-id", from), slog.Any("error", err))
		http.Error(w, fmt.Sprintf("failed to process raft message (%v)", err), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkingReader turns the end of the db into an error when the checksum
// does not match, so that the store never keeps a corrupted db.
type checkingReader struct {
	hr  *hashReader
	err *error
}

func (c *checkingReader) Read(b []byte) (int, error) {
	n, err := c.hr.Read(b)
	if err == io.EOF && *c.err != nil {
		return n, *c.err
	}
	return n, err
}
