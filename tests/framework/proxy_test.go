package framework

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip opens a connection through the proxy as member from (no header
// when from is ""), sends a request head and a line, and returns what came
// back within wait.
func roundTrip(t *testing.T, addr, from string, wait time.Duration) (string, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	head := "GET /raft/stream/message/1 HTTP/1.1\r\nHost: x\r\n"
	if from != "" {
		head += PeerHeaderFrom + ": " + from + "\r\n"
	}
	head += "\r\n"
	if _, err := fmt.Fprint(c, head+"ping\n"); err != nil {
		return "", err
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	r := bufio.NewReader(c)
	var got strings.Builder
	for {
		line, err := r.ReadString('\n')
		got.WriteString(line)
		if err != nil || line == "ping\n" {
			return got.String(), err
		}
	}
}

func TestProxyRules(t *testing.T) {
	target := echoServer(t)
	p := StartProxy(t, 0, target)
	const wait = 500 * time.Millisecond

	if got, err := roundTrip(t, p.Addr(), "a1", wait); err != nil || !strings.HasSuffix(got, "ping\n") {
		t.Fatalf("pass: got %q, %v", got, err)
	}

	p.SetRule(FromTarget, Rule{Mode: Delay, Delay: 200 * time.Millisecond})
	start := time.Now()
	if _, err := roundTrip(t, p.Addr(), "a1", 2*time.Second); err != nil {
		t.Fatalf("delay: %v", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("delay: answer after %s, want at least 200ms", d)
	}

	p.SetRule(FromTarget, Rule{Mode: Blackhole})
	if got, err := roundTrip(t, p.Addr(), "a1", wait); err == nil || got != "" {
		t.Fatalf("blackhole: got %q, %v; want nothing and a timeout", got, err)
	}

	p.Heal()
	p.SetOriginRule("b2", Rule{Mode: Drop})
	if got, err := roundTrip(t, p.Addr(), "a1", wait); err != nil || !strings.HasSuffix(got, "ping\n") {
		t.Fatalf("other origin while b2 is dropped: got %q, %v", got, err)
	}
	if got, err := roundTrip(t, p.Addr(), "B2", wait); err != io.EOF || got != "" {
		t.Fatalf("dropped origin: got %q, %v; want EOF", got, err)
	}

	// A connection that is open when its origin gets dropped is closed.
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "POST /raft HTTP/1.1\r\nHost: x\r\n"+PeerHeaderFrom+": c3\r\n\r\nx\n")
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.HasPrefix(line, "POST") {
		t.Fatalf("c3 before the drop: %q, %v", line, err)
	}
	p.SetOriginRule("c3", Rule{Mode: Drop})
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("c3 after the drop: %v, want EOF", err)
	}

	p.Heal()
	p.SetRule(ToTarget, Rule{Mode: Drop})
	if _, err := roundTrip(t, p.Addr(), "", wait); err != io.EOF {
		t.Fatalf("drop all: %v, want EOF", err)
	}
	if s := p.Stats(); s.Accepted < 6 || s.Dropped < 3 {
		t.Fatalf("stats %+v", s)
	}
}
