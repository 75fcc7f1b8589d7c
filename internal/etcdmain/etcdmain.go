// Package etcdmain starts a member from its configuration: it binds the peer
// and client listeners, starts the server, serves the v3 gRPC API and the
// HTTP endpoints on the client URLs, and shuts everything down in order when
// its context ends.
package etcdmain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/version"
	"google.golang.org/grpc"

	"github.com/etcdgo/etcd/internal/config"
	"github.com/etcdgo/etcd/internal/connmux"
	"github.com/etcdgo/etcd/internal/logging"
	"github.com/etcdgo/etcd/internal/server"
	"github.com/etcdgo/etcd/internal/v1http"
	"github.com/etcdgo/etcd/internal/v3rpc"
)

// shutdownTimeout bounds the graceful part of a shutdown.
const shutdownTimeout = 5 * time.Second

// Run runs a member until ctx ends or the member stops by itself.
func Run(ctx context.Context, cfg *config.Config) error {
	lg, err := logging.New(cfg.LogLevel, cfg.LogOutputs)
	if err != nil {
		return fmt.Errorf("set up logging: %w", err)
	}
	cfg.LogMessages(lg)
	lg.Info("starting etcd", "etcd-version", version.Version, "go-version", runtime.Version(),
		"go-os", runtime.GOOS, "go-arch", runtime.GOARCH, "max-cpu-available", runtime.GOMAXPROCS(0))
	if err := forceNewMember(lg, cfg); err != nil {
		return err
	}
	e, err := start(ctx, lg, cfg)
	if err != nil {
		return err
	}
	defer e.close()
	select {
	case <-ctx.Done():
		lg.Info("received signal; shutting down")
	case <-e.srv.StopRequested():
		// The member stops by itself: the deferred close stops serving
		// clients and peers first, then the member.
		if e.srv.Removed() {
			// etcd exits with status 0 once removed from its cluster.
			lg.Warn("the member has been permanently removed from the cluster")
			return nil
		}
		return errors.New("the member stopped")
	}
	return nil
}

// member is a running member with its listeners.
type member struct {
	lg      *slog.Logger
	srv     *server.Server
	grpc    *grpc.Server
	http    *http.Server
	peers   []*http.Server
	muxes   []*connmux.Mux
	wg      sync.WaitGroup
	closers []func()
}

func start(ctx context.Context, lg *slog.Logger, cfg *config.Config) (*member, error) {
	m := &member{lg: lg}
	peerLns, err := listenAll(lg, cfg.ListenPeerURLs, "peer")
	if err != nil {
		return nil, err
	}
	clientLns, err := listenAll(lg, cfg.ListenClientURLs, "client")
	if err != nil {
		closeAll(peerLns)
		return nil, err
	}
	icm, err := cfg.InitialClusterMap()
	if err != nil {
		closeAll(peerLns)
		closeAll(clientLns)
		return nil, err
	}
	mx, hooks := newMetrics(cfg)
	srv, err := server.New(ctx, server.Config{
		Logger:                  lg,
		Name:                    cfg.Name,
		DataDir:                 cfg.DataDir,
		WALDir:                  cfg.WALDir,
		ClientURLs:              urlStrings(cfg.AdvertiseClientURLs),
		PeerURLs:                urlStrings(cfg.InitialAdvertisePeerURLs),
		InitialCluster:          icm,
		InitialClusterState:     cfg.InitialClusterState,
		InitialClusterToken:     cfg.InitialClusterToken,
		SnapshotCount:           cfg.SnapshotCount,
		SnapshotCatchUpEntries:  cfg.SnapshotCatchUpEntries,
		TickInterval:            cfg.HeartbeatInterval,
		ElectionTicks:           int(cfg.ElectionTimeout / cfg.HeartbeatInterval),
		MaxRequestBytes:         cfg.MaxRequestBytes,
		MaxTxnOps:               cfg.MaxTxnOps,
		MaxSnapFiles:            cfg.MaxSnapFiles,
		MaxWALFiles:             cfg.MaxWALFiles,
		QuotaBackendBytes:       cfg.QuotaBytes(),
		BackendBatchInterval:    cfg.BackendBatchInterval,
		BackendBatchLimit:       cfg.BackendBatchLimit,
		UnsafeNoFsync:           cfg.UnsafeNoFsync,
		LeaseCheckpointInterval: cfg.LeaseCheckpointInterval,
		CompactionBatchLimit:    cfg.CompactionBatchLimit,
		CompactionSleepInterval: cfg.CompactionSleepInterval,
		Hooks:                   hooks,
		MaxLearners:             cfg.MaxLearners,
		StrictReconfigCheck:     cfg.StrictReconfigCheck,
		InitialCorruptCheck:     cfg.InitialCorruptCheck,
		CorruptCheckTime:        cfg.CorruptCheckTime,
		CompactHashCheck:        cfg.CompactHashCheck,
		CompactHashCheckTime:    cfg.CompactHashCheckTime,
		AutoCompactionMode:      cfg.AutoCompactionMode,
		AutoCompactionRetention: cfg.AutoCompactionRetention,
		JoinPeers:               cfg.JoinPeers,
		ForceJoin:               cfg.ForceNewMember,
	})
	if err != nil {
		closeAll(peerLns)
		closeAll(clientLns)
		return nil, err
	}
	m.srv = srv
	mx.RegisterMember(memberMetrics{srv})
	hc := &health{lg: lg, srv: srv, rec: mx.Etcd, timeout: reqTimeout(cfg)}
	srv.Start()

	// Peers: raft's transport and /version. They serve before the member is
	// ready: publishing itself needs a leader, which needs the peers.
	for _, l := range peerLns {
		hs := &http.Server{Handler: peerHandler(srv), ReadHeaderTimeout: 10 * time.Second}
		m.peers = append(m.peers, hs)
		m.goServe(func() error { return hs.Serve(l) })
	}

	// As etcd, --listen-metrics-urls serve before the member is ready.
	if err := m.serveMetrics(cfg, metricsHandler(mx, hc)); err != nil {
		m.close()
		return nil, err
	}

	select {
	case <-srv.ReadyNotify():
	case <-srv.StopRequested():
		m.close()
		return nil, errors.New("the member stopped before it was ready")
	case <-ctx.Done():
		m.close()
		return nil, ctx.Err()
	}

	m.grpc = v3rpc.NewServer(srv, v3rpc.Config{
		MaxRequestBytes:             cfg.MaxRequestBytes,
		MaxTxnOps:                   cfg.MaxTxnOps,
		WatchProgressNotifyInterval: cfg.WatchProgressNotifyInterval,
		UnaryInterceptors:           []grpc.UnaryServerInterceptor{mx.GRPC.UnaryServerInterceptor()},
		StreamInterceptors:          []grpc.StreamServerInterceptor{mx.GRPC.StreamServerInterceptor()},
	})
	mx.GRPC.InitializeMetrics(m.grpc.GetServiceInfo())
	v1 := v1http.New(srv, v1http.Config{MaxRequestBytes: cfg.MaxRequestBytes})
	m.http = &http.Server{Handler: clientHandler(lg, srv, v1, mx, hc, cfg.EnablePprof), ReadHeaderTimeout: 10 * time.Second}
	m.http.RegisterOnShutdown(v1.Close)
	for _, l := range clientLns {
		mux := connmux.New(l)
		m.muxes = append(m.muxes, mux)
		m.goServe(func() error { return m.grpc.Serve(mux.GRPC()) })
		m.goServe(func() error { return m.http.Serve(mux.HTTP()) })
		m.goServe(mux.Serve)
		lg.Warn("serving insecure client requests on " + l.Addr().String() + ", this is strongly discouraged!")
	}
	lg.Info("ready to serve client requests")
	return m, nil
}

func (m *member) goServe(f func() error) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := f(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, grpc.ErrServerStopped) {
			m.lg.Warn("stopped serving", "error", err)
		}
	}()
}

// close stops serving (gracefully within shutdownTimeout), then the member.
func (m *member) close() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if m.grpc != nil {
		done := make(chan struct{})
		go func() { m.grpc.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			m.grpc.Stop()
		}
	}
	if m.http != nil {
		m.http.Shutdown(ctx)
	}
	for _, p := range m.peers {
		// Peer streams are long-lived GETs that a graceful shutdown would
		// wait for until the deadline: cut them.
		p.Close()
	}
	for _, c := range m.closers {
		c()
	}
	for _, mux := range m.muxes {
		mux.Close()
	}
	if m.srv != nil {
		m.srv.Stop()
	}
	m.wg.Wait()
	m.lg.Info("stopped etcd")
}

func listenAll(lg *slog.Logger, urls []url.URL, kind string) ([]net.Listener, error) {
	var lns []net.Listener
	for _, u := range urls {
		if u.Scheme != "http" {
			closeAll(lns)
			return nil, fmt.Errorf("listen on %s: scheme %q is not supported yet (TLS comes later)", u.String(), u.Scheme)
		}
		l, err := net.Listen("tcp", u.Host)
		if err != nil {
			closeAll(lns)
			return nil, fmt.Errorf("listen on %s URL %s: %w", kind, u.String(), err)
		}
		lg.Info("listening for "+kind+"s", kind+"-url", u.String())
		lns = append(lns, l)
	}
	return lns, nil
}

func closeAll(lns []net.Listener) {
	for _, l := range lns {
		l.Close()
	}
}

func urlStrings(us []url.URL) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.String()
	}
	return out
}
