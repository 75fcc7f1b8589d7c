package server

import (
	"log/slog"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/mvcc"
)

// newWatchableStore opens the MVCC store on be (cfg) with the watch layer on top,
// keeps the latter for Watchable and returns the store. Closing the store
// stops the watch layer's loops.
func (s *Server) newWatchableStore(lg *slog.Logger, be backend.Backend, cfg mvcc.StoreConfig) *mvcc.Store {
	s.watchable = mvcc.NewWatchableStore(lg, be, cfg)
	return s.watchable.KV()
}

// Watchable returns the member's store with its watch layer.
func (s *Server) Watchable() *mvcc.WatchableStore { return s.watchable }
