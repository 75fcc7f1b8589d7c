package server

import "go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

// StopRequested is closed when the member decides to stop by itself: it was
// removed from the cluster, or applying or the raft loop failed. An owner
// that calls StopRequested takes on stopping the member: it should stop
// serving clients and peers first, then call Stop, so that no request runs
// while the store closes. Without such an owner the member stops itself.
func (s *Server) StopRequested() <-chan struct{} {
	s.stopWatched.Store(true)
	return s.stopReq
}

// requestStop asks the owner to stop the member (see StopRequested), or
// stops it when nobody watches.
func (s *Server) requestStop() {
	s.stopReqOnce.Do(func() {
		close(s.stopReq)
		if !s.stopWatched.Load() {
			go s.Stop()
		}
	})
}

// useStore runs f while the store and backend are open; once Stop has begun
// closing them it answers ErrGRPCStopped instead. Stop waits for the calls
// in flight.
func (s *Server) useStore(f func() error) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return rpctypes.ErrGRPCStopped
	}
	return f()
}
