package mvcc

import (
	"errors"
	"runtime"
)

// compactAndHashUntil keeps compacting to lag revisions behind the store and
// hashing it, concurrently with a test's readers and writers, until stop is
// closed; the first error goes to report and ends it.
func compactAndHashUntil(s *Store, lag int64, stop <-chan struct{}, report func(error)) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		if rev := s.Rev() - lag; rev > s.FirstRev() {
			if _, err := s.Compact(rev); err != nil && !errors.Is(err, ErrCompacted) {
				report(err)
				return
			}
		}
		if _, err := s.HashByRev(0); err != nil {
			report(err)
			return
		}
		runtime.Gosched()
	}
}
