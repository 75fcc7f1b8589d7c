package server

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdgo/etcd/internal/compactor"
)

// startMaintenance runs the periodic corruption check (CorruptCheckTime),
// the compaction hash check (CompactHashCheck) and the auto compaction
// (AutoCompactionRetention), each until the server stops.
func (s *Server) startMaintenance() {
	if s.cfg.CorruptCheckTime > 0 {
		s.wg.Add(1)
		go s.monitorKVHash()
	}
	if s.cfg.CompactHashCheck && s.cfg.CompactHashCheckTime > 0 {
		s.wg.Add(1)
		go s.monitorCompactHash()
	}
	if s.cfg.AutoCompactionRetention != 0 {
		s.wg.Add(1)
		go s.runCompactor()
	}
}

// runCompactor compacts the history through raft while this member leads,
// as etcd's auto compaction does.
func (s *Server) runCompactor() {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stopping
		cancel()
	}()
	err := compactor.Run(ctx, compactor.Config{
		Logger:    s.lg,
		Mode:      s.cfg.AutoCompactionMode,
		Retention: s.cfg.AutoCompactionRetention,
		Rev:       s.kv.Rev,
		Compact: func(ctx context.Context, rev int64) error {
			_, err := s.Compact(ctx, &pb.CompactionRequest{Revision: rev})
			return err
		},
		Active: func() bool { return s.r.Leader() == s.id },
	})
	if err != nil {
		s.lg.Warn("auto compaction not started", "error", err)
	}
}
