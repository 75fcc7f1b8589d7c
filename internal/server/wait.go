package server

import (
	"sync"
)

// waitShards spreads the registry over several locks so that many concurrent
// proposals do not contend on one mutex.
const waitShards = 64

// waitRegistry matches proposals to their results by request ID.
type waitRegistry struct {
	shards [waitShards]struct {
		mu sync.Mutex
		m  map[uint64]chan any
	}
}

func newWaitRegistry() *waitRegistry {
	w := &waitRegistry{}
	for i := range w.shards {
		w.shards[i].m = make(map[uint64]chan any)
	}
	return w
}

// Register returns the channel on which the result for id will arrive.
func (w *waitRegistry) Register(id uint64) <-chan any {
	s := &w.shards[id%waitShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan any, 1)
	s.m[id] = ch
	return ch
}

// Trigger delivers x to the waiter of id, if any, and forgets it.
func (w *waitRegistry) Trigger(id uint64, x any) {
	s := &w.shards[id%waitShards]
	s.mu.Lock()
	ch, ok := s.m[id]
	delete(s.m, id)
	s.mu.Unlock()
	if ok {
		ch <- x
		close(ch)
	}
}

// IsRegistered tells whether someone waits for id: only the member that
// proposed an entry waits for it.
func (w *waitRegistry) IsRegistered(id uint64) bool {
	s := &w.shards[id%waitShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[id]
	return ok
}

// indexWaiter lets readers wait until the applied index reaches a value.
type indexWaiter struct {
	mu      sync.Mutex
	applied uint64
	waiters map[uint64][]chan struct{}
}

func newIndexWaiter(applied uint64) *indexWaiter {
	return &indexWaiter{applied: applied, waiters: map[uint64][]chan struct{}{}}
}

// Wait returns a channel closed once the applied index is at least index.
func (w *indexWaiter) Wait(index uint64) <-chan struct{} {
	ch := make(chan struct{})
	w.mu.Lock()
	defer w.mu.Unlock()
	if index <= w.applied {
		close(ch)
		return ch
	}
	w.waiters[index] = append(w.waiters[index], ch)
	return ch
}

// Applied records the applied index and releases every waiter it satisfies.
func (w *indexWaiter) Applied(index uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if index <= w.applied {
		return
	}
	w.applied = index
	for i, chs := range w.waiters {
		if i <= index {
			for _, ch := range chs {
				close(ch)
			}
			delete(w.waiters, i)
		}
	}
}
