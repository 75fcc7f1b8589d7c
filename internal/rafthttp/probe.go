package rafthttp

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// pathProbing is where etcd members probe each other's round trip time.
const pathProbing = "/raft/probing"

// defaultProbeInterval is etcd's: the read timeout less a second.
const defaultProbeInterval = 4 * time.Second

// frameHeader is the length word before each message on a stream.
const frameHeader = 8

// observers are the Config's optional callbacks, never nil.
type observers struct {
	sent, received func(peer uint64, n int)
	rtt            func(peer uint64, d time.Duration)
	probeInterval  time.Duration
}

func newObservers(cfg Config) observers {
	o := observers{sent: cfg.OnSent, received: cfg.OnReceived, rtt: cfg.OnRTT,
		probeInterval: orDuration(cfg.ProbeInterval, defaultProbeInterval)}
	if o.sent == nil {
		o.sent = func(uint64, int) {}
	}
	if o.received == nil {
		o.received = func(uint64, int) {}
	}
	return o
}

// serveProbing answers a probe as etcd's prober handler does.
func serveProbing(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		OK  bool
		Now time.Time
	}{true, time.Now()})
}

// probeLoop measures the round trip time to the peer every probe interval
// while an RTT observer is set, until the peer stops.
func (p *peer) probeLoop() {
	if p.t.obs.rtt == nil {
		return
	}
	tick := time.NewTicker(p.t.obs.probeInterval)
	defer tick.Stop()
	for {
		p.probe()
		select {
		case <-tick.C:
		case <-p.ctx.Done():
			return
		}
	}
}

// probe GETs the peer's /raft/probing once; only a complete answer counts.
func (p *peer) probe() {
	ctx, cancel := context.WithTimeout(p.ctx, p.t.obs.probeInterval)
	defer cancel()
	u := p.pick()
	u.Path = pathProbing
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return
	}
	start := time.Now()
	resp, err := p.t.postRT.RoundTrip(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if err != nil || resp.StatusCode != http.StatusOK {
		return
	}
	p.t.obs.rtt(p.id, time.Since(start))
}
