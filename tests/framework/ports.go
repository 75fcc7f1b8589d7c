package framework

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

var (
	portsMu sync.Mutex
	// handedOut remembers ports given out by this process so two callers
	// never receive the same one even if the kernel reuses it.
	handedOut = map[int]bool{}
)

// FreePort returns a 127.0.0.1 TCP port that was free a moment ago: it
// listens on port 0, reads the port and closes the listener.
func FreePort(t testing.TB) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("allocating a free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if !handedOut[port] {
			handedOut[port] = true
			return port
		}
	}
	t.Fatalf("allocating a free port: no unused port after 100 tries")
	return 0
}

// PortFree reports whether 127.0.0.1:port can be listened on right now.
func PortFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// DialTCP reports whether a TCP connection to addr succeeds within timeout.
func DialTCP(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	return c.Close()
}
