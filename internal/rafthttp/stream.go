package rafthttp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// flushAfter bounds how many messages are batched before a flush.
const flushAfter = 512

// writeStream runs the writer of the stream the peer attached: it drains the
// peer's queue into the response body, flushing when the queue runs empty
// (or after flushAfter messages), and writes link heartbeats while idle. It
// returns when the connection fails, the peer attaches a newer stream, or
// the peer or the transport stops.
func (p *peer) writeStream(ctx context.Context, w http.ResponseWriter) {
	s := &outStream{done: make(chan struct{})}
	if !p.attach(s) {
		http.Error(w, "peer removed", http.StatusServiceUnavailable)
		return
	}
	defer p.detach(s)
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		p.lg.Warn("failed to start stream to peer", slog.Any("error", err))
		return
	}
	p.lg.Info("established stream writer to peer")

	bw := bufio.NewWriterSize(w, 64*1024)
	var buf []byte
	batched := 0
	hb := time.NewTicker(p.t.readTimeout / 3)
	defer hb.Stop()
	write := func(m *raftpb.Message) error {
		_ = rc.SetWriteDeadline(time.Now().Add(p.t.writeTimeout))
		var err error
		if buf, err = appendFrame(buf[:0], m); err != nil {
			return err
		}
		_, err = bw.Write(buf)
		return err
	}
	flush := func() error {
		batched = 0
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	for {
		var err error
		select {
		case m := <-p.msgc:
			if err = write(m); err == nil {
				p.t.obs.sent(p.id, len(buf)-frameHeader)
				batched++
				if len(p.msgc) == 0 || batched >= flushAfter {
					err = flush()
				}
			}
			if err != nil {
				p.t.raft.ReportUnreachable(p.id)
			} else {
				p.sent()
			}
		case <-hb.C:
			if err = write(linkHeartbeat); err == nil {
				err = flush()
			}
		case <-s.done:
			p.lg.Info("closed stream writer to peer (replaced or peer stopped)")
			return
		case <-ctx.Done():
			p.lg.Info("closed stream writer to peer", slog.Any("reason", context.Cause(ctx)))
			return
		}
		if err != nil {
			p.lg.Warn("lost stream writer to peer", slog.Any("error", err))
			return
		}
		if len(buf) > 1024*1024 {
			buf = nil // do not keep a large message's buffer around
		}
	}
}

// writeMsgAppHeartbeats serves etcd's msgappv2 stream with link heartbeats
// only, so that an etcd peer sends everything on the message stream.
func (p *peer) writeMsgAppHeartbeats(ctx context.Context, w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	hb := time.NewTicker(p.t.readTimeout / 3)
	defer hb.Stop()
	for {
		select {
		case <-hb.C:
			_ = rc.SetWriteDeadline(time.Now().Add(p.t.writeTimeout))
			if _, err := w.Write(msgAppV2Heartbeat); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		case <-ctx.Done():
			return
		case <-p.ctx.Done():
			return
		}
	}
}

// readLoop keeps a stream from the peer open: it dials, decodes messages
// into the receive queues, and dials again with backoff when the stream
// breaks, until the peer stops.
func (p *peer) readLoop() {
	bo := newBackoff()
	quiet := false
	for p.ctx.Err() == nil {
		err := p.readStream()
		p.setReaderUp(false)
		if p.ctx.Err() != nil {
			return
		}
		if errors.Is(err, errStreamWasUp) {
			bo.reset()
			quiet = false
		}
		if errorIsRemoved(err) {
			p.t.reportRemoved(p.id)
		}
		level := slog.LevelWarn
		if quiet {
			level = slog.LevelDebug
		}
		p.lg.Log(p.ctx, level, "stream reader from peer failed; retrying", slog.Any("error", err))
		quiet = true
		if !sleep(p.ctx, bo.next()) {
			return
		}
	}
}

var errStreamWasUp = errors.New("stream closed")

// readStream dials the peer and reads one stream until it breaks. An error
// wrapping errStreamWasUp means the stream was established first.
func (p *peer) readStream() error {
	ctx, cancel := context.WithCancelCause(p.ctx)
	defer cancel(nil)
	u := p.pick()
	u.Path = pathStreamMessage + idString(p.t.id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("make stream request: %w", err)
	}
	p.t.setHeaders(req.Header)
	req.Header.Set(hdrTo, idString(p.id))
	resp, err := p.t.streamRT.RoundTrip(req)
	if err != nil {
		p.failed(u)
		return fmt.Errorf("dial stream to %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	if err := responseError(resp); err != nil {
		p.failed(u)
		if !errorIsRemoved(err) {
			p.lg.Warn("peer refused our stream", slog.String("url", u.String()), slog.Any("error", err))
		}
		return err
	}
	p.setReaderUp(true)
	p.lg.Info("established stream reader from peer")

	// The watchdog closes a stream that stays silent for the read timeout.
	errSilent := fmt.Errorf("no message or heartbeat for %v", p.t.readTimeout)
	watchdog := time.AfterFunc(p.t.readTimeout, func() { cancel(errSilent) })
	defer watchdog.Stop()
	var scratch bytes.Buffer
	recvDrop, removedDrop := false, false
	for {
		m, err := readFrame(resp.Body, p.t.maxMsg, &scratch)
		if err != nil {
			if c := context.Cause(ctx); c != nil {
				err = c
			}
			return fmt.Errorf("%w: %w", errStreamWasUp, err)
		}
		watchdog.Reset(p.t.readTimeout)
		if scratch.Cap() > 1024*1024 {
			scratch = bytes.Buffer{}
		}
		if isLinkHeartbeat(m) {
			continue
		}
		p.t.obs.received(m.GetFrom(), scratch.Len())
		if p.t.raft.IsIDRemoved(m.GetFrom()) {
			if !removedDrop {
				p.lg.Warn("dropped raft message from removed member", slog.String("from", idString(m.GetFrom())))
			}
			removedDrop = true
			continue
		}
		c := p.recvc
		if m.GetType() == raftpb.MessageType_MsgProp {
			c = p.propc
		}
		select {
		case c <- m:
			recvDrop = false
		default:
			if !recvDrop {
				p.lg.Warn("dropped received raft message: receive queue is full", slog.String("type", m.GetType().String()))
			}
			recvDrop = true
		}
	}
}
