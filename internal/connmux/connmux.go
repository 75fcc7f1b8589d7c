// Package connmux serves gRPC and plain HTTP on one port, as etcd's client
// URLs do: it reads the first bytes of each accepted connection and hands
// connections that open with the HTTP/2 preface ("PRI * HTTP/2.0") to the
// gRPC listener and every other one to the HTTP listener.
package connmux

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// sniffTimeout bounds how long a new connection may stay silent before it is
// dropped.
const sniffTimeout = 10 * time.Second

var preface = []byte("PRI")

// Mux splits one listener in two.
type Mux struct {
	root   net.Listener
	grpc   *subListener
	http   *subListener
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

// New returns a Mux over l. Call Serve to start accepting.
func New(l net.Listener) *Mux {
	m := &Mux{root: l, closed: make(chan struct{})}
	m.grpc = &subListener{m: m, conns: make(chan net.Conn), closed: make(chan struct{})}
	m.http = &subListener{m: m, conns: make(chan net.Conn), closed: make(chan struct{})}
	return m
}

// GRPC returns the listener of HTTP/2 (gRPC) connections.
func (m *Mux) GRPC() net.Listener { return m.grpc }

// HTTP returns the listener of every other connection.
func (m *Mux) HTTP() net.Listener { return m.http }

// Serve accepts connections until Close; it returns nil after Close.
func (m *Mux) Serve() error {
	for {
		c, err := m.root.Accept()
		if err != nil {
			select {
			case <-m.closed:
				return nil
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		m.wg.Add(1)
		go m.route(c)
	}
}

func (m *Mux) route(c net.Conn) {
	defer m.wg.Done()
	c.SetReadDeadline(time.Now().Add(sniffTimeout))
	head := make([]byte, len(preface))
	n, err := io.ReadFull(c, head)
	c.SetReadDeadline(time.Time{})
	if err != nil {
		c.Close()
		return
	}
	pc := &peekedConn{Conn: c, head: head[:n]}
	target := m.http
	if bytes.Equal(head, preface) {
		target = m.grpc
	}
	select {
	case target.conns <- pc:
	case <-target.closed:
		c.Close()
	case <-m.closed:
		c.Close()
	}
}

// Close stops accepting and closes the root listener.
func (m *Mux) Close() error {
	var err error
	m.once.Do(func() {
		close(m.closed)
		err = m.root.Close()
	})
	m.wg.Wait()
	return err
}

// subListener is one side of a Mux. Closing it stops its Accept (and so the
// server using it) without closing the other side or the root listener.
type subListener struct {
	m      *Mux
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-l.m.closed:
		return nil, net.ErrClosed
	}
}

func (l *subListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *subListener) Addr() net.Addr { return l.m.root.Addr() }

// peekedConn replays the sniffed bytes before reading on.
type peekedConn struct {
	net.Conn
	head []byte
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
