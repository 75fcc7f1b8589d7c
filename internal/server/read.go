package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// notifier is shared by all the readers waiting for one ReadIndex round.
type notifier struct {
	c   chan struct{}
	err error
}

func newNotifier() *notifier { return &notifier{c: make(chan struct{})} }

func (n *notifier) notify(err error) {
	n.err = err
	close(n.c)
}

// readIndexRetry is how often an unanswered ReadIndex request is sent again.
const readIndexRetry = 500 * time.Millisecond

// linearizableReadNotify returns once this member has applied everything that
// was committed when the call began, so a read of the local store after it
// is linearizable. Concurrent callers share one ReadIndex round.
func (s *Server) linearizableReadNotify(ctx context.Context) error {
	s.readMu.RLock()
	nc := s.readNotifier
	s.readMu.RUnlock()
	select {
	case s.readwaitc <- struct{}{}:
	default:
	}
	select {
	case <-nc.c:
		return nc.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return rpctypes.ErrGRPCDeadlineExceeded
		}
		return rpctypes.ErrGRPCCanceled
	case <-s.stopping:
		return rpctypes.ErrGRPCStopped
	}
}

// readLoop runs one ReadIndex round at a time for all waiting readers.
func (s *Server) readLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.readwaitc:
		case <-s.stopping:
			return
		}
		next := newNotifier()
		s.readMu.Lock()
		nr := s.readNotifier
		s.readNotifier = next
		s.readMu.Unlock()

		idx, err := s.requestCurrentIndex()
		if err != nil {
			nr.notify(err)
			continue
		}
		select {
		case <-s.applyWait.Wait(idx):
			nr.notify(nil)
		case <-s.stopping:
			nr.notify(rpctypes.ErrGRPCStopped)
			return
		}
	}
}

// requestCurrentIndex asks raft for the commit index that a linearizable read
// must wait for, confirming leadership with a quorum on the way.
func (s *Server) requestCurrentIndex() (uint64, error) {
	id := s.reqIDs.Next()
	rctx := make([]byte, 8)
	binary.BigEndian.PutUint64(rctx, id)
	leaderChanged := s.r.LeaderChanged()
	timeout := time.NewTimer(s.reqTimeout())
	defer timeout.Stop()
	retry := time.NewTicker(readIndexRetry)
	defer retry.Stop()

	send := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), s.reqTimeout())
		defer cancel()
		if err := s.r.ReadIndex(ctx, rctx); err != nil {
			return rpctypes.ErrGRPCStopped
		}
		return nil
	}
	if err := send(); err != nil {
		return 0, err
	}
	for {
		select {
		case rs := <-s.r.ReadStates():
			if bytes.Equal(rs.RequestCtx, rctx) {
				return rs.Index, nil
			}
			// An answer to an earlier round that timed out: ignore it.
		case <-leaderChanged:
			return 0, rpctypes.ErrGRPCLeaderChanged
		case <-retry.C:
			if err := send(); err != nil {
				return 0, err
			}
		case <-timeout.C:
			if s.r.Leader() == 0 {
				return 0, rpctypes.ErrGRPCNoLeader
			}
			return 0, rpctypes.ErrGRPCTimeout
		case <-s.stopping:
			return 0, rpctypes.ErrGRPCStopped
		}
	}
}
