package framework

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Direction is one way of a proxied connection.
type Direction int

const (
	// ToTarget is the bytes the connecting side sends to the proxied
	// member: HTTP requests, a pipeline POST's raft message.
	ToTarget Direction = iota
	// FromTarget is the bytes the proxied member sends back: HTTP
	// responses, and the raft messages of the streams peers open to it.
	FromTarget
)

// Mode says what a proxy does with the bytes of one direction.
type Mode int

const (
	// Pass forwards bytes as they come.
	Pass Mode = iota
	// Delay forwards bytes after Rule.Delay plus up to Rule.Jitter, in
	// order.
	Delay
	// Blackhole keeps the connection open and throws the bytes away.
	Blackhole
	// Drop closes the connection (existing ones at once, new ones right
	// after accepting them).
	Drop
)

func (m Mode) String() string {
	switch m {
	case Pass:
		return "pass"
	case Delay:
		return "delay"
	case Blackhole:
		return "blackhole"
	case Drop:
		return "drop"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Rule is what a proxy does with one direction of traffic.
type Rule struct {
	Mode   Mode
	Delay  time.Duration // Delay mode: fixed part
	Jitter time.Duration // Delay mode: random extra in [0, Jitter)
}

// PeerHeaderFrom is the request header in which etcd's peer protocol names
// the sending member (hex ID). The proxy reads it from the first request on
// each connection to learn the connection's origin.
const PeerHeaderFrom = "X-Server-From"

const (
	peekLimit   = 16 << 10
	peekTimeout = 3 * time.Second
	dialTimeout = 2 * time.Second
	maxDelay    = 10 * time.Second
)

// Proxy forwards the TCP connections accepted on a 127.0.0.1 port to a
// target address, under rules the test changes at any time: per direction
// for all connections, and per origin for the connections a given member
// opened. It is built for members' peer ports: member A listens for peers on
// port P, advertises the proxy's port X, and every connection any peer opens
// to A goes through A's proxy.
//
// Where a connection comes from: etcd's peer protocol puts the sender's
// member ID in X-Server-From on every request (stream GETs, pipeline and
// snapshot POSTs), and a connection serves one sender, so the proxy reads the
// header of the first request before it connects to the target. Connections
// without it (for instance plain GETs of /version) have origin "".
//
// Cutting member A off (see docs/robustness.md): A's proxy drops everything
// (no peer reaches A, and nothing A serves on a stream reaches a peer), and
// every other member's proxy drops the connections of origin A (A's
// pipeline POSTs, and the streams A opens to read from the others).
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	rules   [2]Rule
	origins map[string]Rule // per origin, both directions
	conns   map[*proxyConn]struct{}
	closed  bool
	stats   ProxyStats

	wg sync.WaitGroup
}

// ProxyStats counts a proxy's connections.
type ProxyStats struct {
	Accepted, Dropped int
}

// NewProxy listens on listenAddr ("127.0.0.1:0" for a free port) and
// forwards to target. Close stops it.
func NewProxy(listenAddr, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("proxy listen %s: %w", listenAddr, err)
	}
	p := &Proxy{ln: ln, target: target, origins: map[string]Rule{}, conns: map[*proxyConn]struct{}{}}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// StartProxy is NewProxy on 127.0.0.1:port that fails the test on error and
// is closed on test cleanup.
func StartProxy(t testing.TB, port int, target string) *Proxy {
	t.Helper()
	p, err := NewProxy(fmt.Sprintf("127.0.0.1:%d", port), target)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// Addr returns the listen address (host:port).
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target returns the address connections are forwarded to.
func (p *Proxy) Target() string { return p.target }

// SetRule sets the rule of direction d for every connection.
func (p *Proxy) SetRule(d Direction, r Rule) {
	p.mu.Lock()
	p.rules[d] = r
	p.mu.Unlock()
	p.enforce()
}

// SetOriginRule sets the rule, both directions, for the connections whose
// origin (X-Server-From) is origin. It takes precedence over SetRule's unless
// that one is harsher.
func (p *Proxy) SetOriginRule(origin string, r Rule) {
	p.mu.Lock()
	if r.Mode == Pass {
		delete(p.origins, origin)
	} else {
		p.origins[origin] = r
	}
	p.mu.Unlock()
	p.enforce()
}

// Heal passes everything again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.rules = [2]Rule{}
	p.origins = map[string]Rule{}
	p.mu.Unlock()
}

// Stats returns the connection counters.
func (p *Proxy) Stats() ProxyStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Close stops accepting, closes every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	conns := make([]*proxyConn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range conns {
		c.close()
	}
	p.wg.Wait()
}

// rule returns the effective rule of direction d for origin: the harsher of
// the direction's and the origin's.
func (p *Proxy) rule(d Direction, origin string) Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ruleLocked(d, origin)
}

func (p *Proxy) ruleLocked(d Direction, origin string) Rule {
	r := p.rules[d]
	if o, ok := p.origins[origin]; ok && origin != "" {
		if o.Mode > r.Mode || (o.Mode == r.Mode && o.Delay+o.Jitter > r.Delay+r.Jitter) {
			r = o
		}
	}
	return r
}

// enforce closes the connections a Drop rule now covers.
func (p *Proxy) enforce() {
	p.mu.Lock()
	var doomed []*proxyConn
	for c := range p.conns {
		if !c.identified() {
			continue
		}
		if p.ruleLocked(ToTarget, c.origin).Mode == Drop || p.ruleLocked(FromTarget, c.origin).Mode == Drop {
			doomed = append(doomed, c)
		}
	}
	p.stats.Dropped += len(doomed)
	p.mu.Unlock()
	for _, c := range doomed {
		c.close()
	}
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		c := &proxyConn{in: in, done: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = in.Close()
			return
		}
		p.conns[c] = struct{}{}
		p.stats.Accepted++
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(c)
	}
}

// proxyConn is one proxied connection.
type proxyConn struct {
	in, out net.Conn

	mu     sync.Mutex
	origin string
	known  bool // origin was determined

	once sync.Once
	done chan struct{}
}

func (c *proxyConn) identified() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.known
}

func (c *proxyConn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.in.Close()
		c.mu.Lock()
		out := c.out
		c.mu.Unlock()
		if out != nil {
			_ = out.Close()
		}
	})
}

func (p *Proxy) serve(c *proxyConn) {
	defer p.wg.Done()
	defer func() {
		c.close()
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	head, origin := peekOrigin(c.in)
	c.mu.Lock()
	c.origin, c.known = origin, true
	c.mu.Unlock()
	if p.rule(ToTarget, origin).Mode == Drop || p.rule(FromTarget, origin).Mode == Drop {
		p.mu.Lock()
		p.stats.Dropped++
		p.mu.Unlock()
		return
	}
	out, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		return
	}
	c.mu.Lock()
	c.out = out
	c.mu.Unlock()
	select {
	case <-c.done: // closed while dialing
		_ = out.Close()
		return
	default:
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		p.pump(c, ToTarget, head, c.in, out)
	}()
	go func() {
		defer wg.Done()
		p.pump(c, FromTarget, nil, out, c.in)
	}()
	wg.Wait()
}

// pump copies src to dst under the rules of direction d until either side
// fails or the connection is closed; first is sent before anything read.
func (p *Proxy) pump(c *proxyConn, d Direction, first []byte, src io.Reader, dst io.Writer) {
	defer c.close()
	buf := make([]byte, 32<<10)
	chunk := first
	for {
		if len(chunk) > 0 {
			r := p.rule(d, c.origin)
			switch r.Mode {
			case Drop:
				return
			case Blackhole:
				chunk = nil
			case Delay:
				wait := r.Delay
				if r.Jitter > 0 {
					wait += rand.N(r.Jitter)
				}
				wait = min(wait, maxDelay)
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-c.done:
					t.Stop()
					return
				}
			}
			if len(chunk) > 0 {
				if _, err := dst.Write(chunk); err != nil {
					return
				}
			}
		}
		n, err := src.Read(buf)
		if n > 0 {
			chunk = buf[:n]
		} else {
			chunk = nil
		}
		if err != nil {
			if n > 0 && p.rule(d, c.origin).Mode == Pass {
				_, _ = dst.Write(chunk)
			}
			return
		}
	}
}

// peekOrigin reads the head of the first HTTP request on conn (bounded in
// size and time) and returns the bytes read and the X-Server-From value, or
// "" when there is none.
func peekOrigin(conn net.Conn) ([]byte, string) {
	_ = conn.SetReadDeadline(time.Now().Add(peekTimeout))
	defer func() { _ = conn.SetReadDeadline(time.Time{}) }()
	var head []byte
	buf := make([]byte, 4096)
	for len(head) < peekLimit {
		n, err := conn.Read(buf)
		head = append(head, buf[:n]...)
		if bytes.Contains(head, []byte("\r\n\r\n")) || err != nil {
			break
		}
	}
	end := bytes.Index(head, []byte("\r\n\r\n"))
	if end < 0 {
		return head, ""
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head[:end+4])))
	if err != nil {
		return head, ""
	}
	return head, strings.ToLower(strings.TrimSpace(req.Header.Get(PeerHeaderFrom)))
}
