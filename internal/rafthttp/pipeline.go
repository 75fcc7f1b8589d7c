package rafthttp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// pipelineLoop posts queued messages to the peer's /raft, one at a time;
// pipelineWorkers of them run per peer.
func (p *peer) pipelineLoop() {
	for {
		select {
		case m := <-p.pipec:
			err := p.post(m)
			if err == nil {
				p.pipelineOK()
				continue
			}
			if p.ctx.Err() != nil {
				return
			}
			p.t.raft.ReportUnreachable(p.id)
			if errorIsRemoved(err) {
				p.t.reportRemoved(p.id)
			}
			p.pipelineFailed(err)
		case <-p.ctx.Done():
			return
		}
	}
}

func (p *peer) post(m *raftpb.Message) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return fmt.Errorf("marshal raft message: %w", err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.t.pipelineTimeout)
	defer cancel()
	u := p.pick()
	u.Path = pathRaft
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("make pipeline request: %w", err)
	}
	p.t.setHeaders(req.Header)
	req.Header.Set("Content-Type", "application/protobuf")
	resp, err := p.t.postRT.RoundTrip(req)
	if err != nil {
		p.failed(u)
		return fmt.Errorf("post raft message to %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	err = responseError(resp)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if err == nil {
		p.t.obs.sent(p.id, len(b))
	}
	return err
}

func (p *peer) pipelineOK() {
	p.mu.Lock()
	p.pipeError = false
	p.dropping = false
	p.mu.Unlock()
}

// pipelineFailed logs the first failure of a series at warn level.
func (p *peer) pipelineFailed(err error) {
	p.mu.Lock()
	quiet := p.pipeError
	p.pipeError = true
	p.mu.Unlock()
	level := slog.LevelWarn
	if quiet {
		level = slog.LevelDebug
	}
	p.lg.Log(p.ctx, level, "failed to send raft message over pipeline", slog.Any("error", err))
}
