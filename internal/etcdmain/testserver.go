package etcdmain

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcdgo/etcd/internal/config"
)

// TB is the part of testing.TB that StartForTest needs; it keeps the
// testing package out of the etcd binary.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Cleanup(f func())
	TempDir() string
}

// Bounds of StartForTest; they only keep a broken member from hanging a
// test run.
const (
	testStartTimeout = 20 * time.Second
	testStopTimeout  = 20 * time.Second
)

// TestMember is a single member started by StartForTest.
type TestMember struct {
	// ClientURL is the member's client URL (http://127.0.0.1:<port>).
	ClientURL string
	// PeerURL is the member's peer URL.
	PeerURL string
	// DataDir is the member's data directory.
	DataDir string
	// LogPath is the file the member logs to.
	LogPath string
}

// StartForTest runs a fresh single member in-process on free 127.0.0.1
// ports with its data and log in t.TempDir(), with short raft timings and
// the extra etcd flags, and waits until it answers a linearizable read.
// The member is stopped at t's cleanup.
func StartForTest(t TB, extra ...string) *TestMember {
	t.Helper()
	dir := t.TempDir()
	m := &TestMember{
		ClientURL: "http://" + freeLocalAddr(t),
		PeerURL:   "http://" + freeLocalAddr(t),
		DataDir:   filepath.Join(dir, "data"),
		LogPath:   filepath.Join(dir, "etcd.log"),
	}
	args := append([]string{
		"--name", "default",
		"--data-dir", m.DataDir,
		"--listen-client-urls", m.ClientURL,
		"--advertise-client-urls", m.ClientURL,
		"--listen-peer-urls", m.PeerURL,
		"--initial-advertise-peer-urls", m.PeerURL,
		"--initial-cluster", "default=" + m.PeerURL,
		"--heartbeat-interval", "10",
		"--election-timeout", "100",
		"--log-outputs", m.LogPath,
	}, extra...)
	cfg, err := config.Parse(args, nil)
	if err != nil {
		t.Fatalf("parse flags %q: %v", args, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("member stopped with %v", err)
			}
		case <-time.After(testStopTimeout):
			t.Errorf("member did not stop within %v", testStopTimeout)
		}
	}
	t.Cleanup(stop)

	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{m.ClientURL},
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		stop()
		t.Fatalf("create client: %v", err)
	}
	defer cli.Close()
	deadline := time.Now().Add(testStartTimeout)
	for {
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("member exited before it was ready: %v\nlog:\n%s", err, readLog(m.LogPath))
		default:
		}
		cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
		_, err := cli.Get(cctx, "ready-probe")
		ccancel()
		if err == nil {
			return m
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("member not ready after %v: %v\nlog:\n%s", testStartTimeout, err, readLog(m.LogPath))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freeLocalAddr(t TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

func readLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}
