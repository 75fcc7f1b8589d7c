package connmux

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

func TestRoutesByPreface(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := New(l)
	go m.Serve()
	defer m.Close()

	got := make(chan string, 2)
	serve := func(name string, sl net.Listener) {
		c, err := sl.Accept()
		if err != nil {
			return
		}
		line, _ := bufio.NewReader(c).ReadString('\n')
		got <- name + ":" + line
		c.Close()
	}
	go serve("grpc", m.GRPC())
	go serve("http", m.HTTP())

	for _, msg := range []string{"PRI * HTTP/2.0\n", "GET / HTTP/1.1\n"} {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, msg)
		c.Close()
	}
	want := map[string]bool{"grpc:PRI * HTTP/2.0\n": true, "http:GET / HTTP/1.1\n": true}
	for range 2 {
		select {
		case g := <-got:
			if !want[g] {
				t.Fatalf("unexpected routing %q", g)
			}
			delete(want, g)
		case <-time.After(5 * time.Second):
			t.Fatal("connection not routed")
		}
	}
}

func TestCloseUnblocksAccept(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := New(l)
	done := make(chan error, 1)
	go func() { done <- m.Serve() }()
	acc := make(chan error, 1)
	go func() { _, err := m.GRPC().Accept(); acc <- err }()
	m.Close()
	if err := <-done; err != nil {
		t.Fatalf("Serve after Close = %v, want nil", err)
	}
	if err := <-acc; err == nil {
		t.Fatal("Accept after Close succeeded")
	}
}

func TestSubListenerCloseUnblocksOnlyItsAccept(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := New(l)
	go m.Serve()
	defer m.Close()
	acc := make(chan error, 1)
	go func() { _, err := m.GRPC().Accept(); acc <- err }()
	m.GRPC().Close()
	select {
	case err := <-acc:
		if err == nil {
			t.Fatal("Accept after Close succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("closing the gRPC side did not unblock its Accept")
	}
	// The HTTP side still works.
	go func() {
		c, err := net.Dial("tcp", l.Addr().String())
		if err == nil {
			io.WriteString(c, "GET / HTTP/1.1\n")
		}
	}()
	c, err := m.HTTP().Accept()
	if err != nil {
		t.Fatalf("HTTP side stopped after closing the gRPC side: %v", err)
	}
	c.Close()
}
