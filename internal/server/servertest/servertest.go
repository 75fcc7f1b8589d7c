// Package servertest starts lone in-process members for the tests of the
// packages built on internal/server.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/etcdgo/etcd/internal/server"
)

// Config is a lone member's configuration with etcd's defaults and fast raft
// timing (10 ms ticks), logging nowhere.
func Config(t testing.TB, name, dataDir, peerURL string) server.Config {
	t.Helper()
	u, err := url.Parse(peerURL)
	if err != nil {
		t.Fatalf("peer URL %q: %v", peerURL, err)
	}
	return server.Config{
		Logger:                 slog.New(slog.NewTextHandler(io.Discard, nil)),
		Name:                   name,
		DataDir:                dataDir,
		ClientURLs:             []string{"http://127.0.0.1:0"},
		PeerURLs:               []string{peerURL},
		InitialCluster:         map[string][]url.URL{name: {*u}},
		InitialClusterState:    "new",
		InitialClusterToken:    "etcd-cluster",
		SnapshotCount:          10000,
		SnapshotCatchUpEntries: 5000,
		TickInterval:           10 * time.Millisecond,
		ElectionTicks:          10,
		MaxRequestBytes:        1.5 * 1024 * 1024,
		MaxTxnOps:              128,
		MaxSnapFiles:           5,
		MaxWALFiles:            5,
		BackendBatchInterval:   10 * time.Millisecond,
	}
}

// Start starts a member with cfg, waits (at most 30 s) until it is ready and
// stops it when the test ends.
func Start(t testing.TB, cfg server.Config) *server.Server {
	t.Helper()
	s, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start member: %v", err)
	}
	s.Start()
	t.Cleanup(s.Stop)
	select {
	case <-s.ReadyNotify():
	case <-s.StopNotify():
		t.Fatal("member stopped before it was ready")
	case <-time.After(30 * time.Second):
		t.Fatal("member not ready after 30s")
	}
	return s
}
