package etcdmain_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcdgo/etcd/internal/config"
	"github.com/etcdgo/etcd/internal/etcdmain"
)

// Bounds of the helper; none of them is a timed assertion, they only keep a
// broken member from hanging the test run.
const (
	startTimeout = 20 * time.Second
	stopTimeout  = 20 * time.Second
	callTimeout  = 10 * time.Second
)

// testMember is one member run in-process by etcdmain.Run, on free
// 127.0.0.1 ports, with its data dir and log file in a temporary directory.
type testMember struct {
	t         *testing.T
	name      string
	dataDir   string
	logPath   string
	clientURL string
	peerURL   string
	// cluster is --initial-cluster; empty: this member alone.
	cluster string
	extra   []string

	cancel context.CancelFunc
	done   chan error
	cli    *clientv3.Client
}

// handedOut holds the ports freePort returned, so that it never returns
// one twice in a test binary (the kernel may offer a just-closed port again).
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// freePort returns a 127.0.0.1 port that was free a moment ago and that
// no earlier call returned.
func freePort(t *testing.T) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		handedOut.Lock()
		seen := handedOut.ports[port]
		handedOut.ports[port] = true
		handedOut.Unlock()
		if !seen {
			return port
		}
	}
	t.Fatal("no fresh free port after 100 tries")
	return 0
}

// startMember starts a fresh single member with the extra flags and waits
// until it answers a client read. The member is stopped at cleanup.
func startMember(t *testing.T, extra ...string) *testMember {
	t.Helper()
	dir := t.TempDir()
	m := &testMember{
		t:         t,
		name:      "m0",
		dataDir:   filepath.Join(dir, "data"),
		logPath:   filepath.Join(dir, "etcd.log"),
		clientURL: fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
		peerURL:   fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
		extra:     extra,
	}
	t.Cleanup(m.stop)
	m.start()
	return m
}

func (m *testMember) args() []string {
	cluster := m.cluster
	if cluster == "" {
		cluster = m.name + "=" + m.peerURL
	}
	args := []string{
		"--name", m.name,
		"--data-dir", m.dataDir,
		"--listen-client-urls", m.clientURL,
		"--advertise-client-urls", m.clientURL,
		"--listen-peer-urls", m.peerURL,
		"--initial-advertise-peer-urls", m.peerURL,
		"--initial-cluster", cluster,
		"--heartbeat-interval", "10",
		"--election-timeout", "100",
		"--log-outputs", m.logPath,
	}
	return append(args, m.extra...)
}

// start runs the member (again, after stop) and waits until a linearizable
// Get succeeds.
func (m *testMember) start() {
	m.t.Helper()
	m.waitReady(m.launch())
}

// launch runs the member (again, after stop) without waiting for it and
// returns the length of its log before.
func (m *testMember) launch() int {
	t := m.t
	t.Helper()
	cfg, err := config.Parse(m.args(), nil)
	if err != nil {
		t.Fatalf("parse flags %q: %v", m.args(), err)
	}
	logStart := m.logLen()
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.done = make(chan error, 1)
	go func() { m.done <- etcdmain.Run(ctx, cfg) }()

	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{m.clientURL},
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		m.stop()
		t.Fatalf("create client: %v", err)
	}
	m.cli = cli
	return logStart
}

// waitReady waits until a linearizable Get succeeds and the member logged
// that it is ready after log offset logStart.
func (m *testMember) waitReady(logStart int) {
	t := m.t
	t.Helper()
	cli := m.cli
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case err := <-m.done:
			m.done <- err
			m.stop()
			t.Fatalf("member exited before it was ready: %v\nlog:\n%s", err, m.log())
		default:
		}
		cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
		_, err := cli.Get(cctx, "ready-probe")
		ccancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			m.stop()
			t.Fatalf("member not ready after %v: last error %v\nlog:\n%s", startTimeout, err, m.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// etcdmain logs readiness just after it starts serving, so the line may
	// trail the first answer by a moment.
	if !m.waitLog(logStart, `"msg":"ready to serve client requests"`) {
		t.Errorf("member answered but never logged that it is ready to serve client requests")
	}
}

// waitLog waits, within startTimeout, until the log from byte off on
// contains s.
func (m *testMember) waitLog(off int, s string) bool {
	deadline := time.Now().Add(startTimeout)
	for {
		if l := m.log(); len(l) >= off && strings.Contains(l[off:], s) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop closes the client, cancels the member's context and waits for Run to
// return. It is safe to call more than once.
func (m *testMember) stop() {
	t := m.t
	if m.cli != nil {
		m.cli.Close()
		m.cli = nil
	}
	if m.cancel == nil {
		return
	}
	m.cancel()
	m.cancel = nil
	select {
	case err := <-m.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v after its context was cancelled", err)
		}
	case <-time.After(stopTimeout):
		t.Errorf("Run did not return within %v of cancelling its context", stopTimeout)
	}
}

// restart stops the member and starts it again on the same data dir and
// URLs.
func (m *testMember) restart() {
	m.t.Helper()
	m.stop()
	m.start()
}

// log returns the member's log so far.
func (m *testMember) log() string {
	b, err := os.ReadFile(m.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}

// logLen returns the length of the log so far (0 before the first start).
func (m *testMember) logLen() int {
	fi, err := os.Stat(m.logPath)
	if err != nil {
		return 0
	}
	return int(fi.Size())
}

// ctx returns a bounded context for one client call.
func (m *testMember) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	m.t.Cleanup(cancel)
	return ctx
}
