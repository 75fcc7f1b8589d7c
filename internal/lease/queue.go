package lease

import (
	"container/heap"
	"time"
)

// queueItem is a lease and a time: its expiry, or its next checkpoint.
type queueItem struct {
	id    int64
	time  time.Time
	index int
}

// timeHeap is a min-heap of queueItems by time.
type timeHeap []*queueItem

func (h timeHeap) Len() int           { return len(h) }
func (h timeHeap) Less(i, j int) bool { return h[i].time.Before(h[j].time) }
func (h timeHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timeHeap) Push(x any) {
	it := x.(*queueItem)
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *timeHeap) Pop() any {
	old := *h
	n := len(old)
	it := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return it
}

// expiryQueue holds one entry per lease, ordered by expiry, as etcd's
// LeaseExpiredNotifier: registering a lease again moves its entry.
type expiryQueue struct {
	h   timeHeap
	ids map[int64]*queueItem
}

func newExpiryQueue() *expiryQueue {
	return &expiryQueue{ids: make(map[int64]*queueItem)}
}

// registerOrUpdate sets lease id's time.
func (q *expiryQueue) registerOrUpdate(id int64, t time.Time) {
	if it, ok := q.ids[id]; ok {
		it.time = t
		heap.Fix(&q.h, it.index)
		return
	}
	it := &queueItem{id: id, time: t}
	heap.Push(&q.h, it)
	q.ids[id] = it
}

// peek returns the soonest entry, nil if empty.
func (q *expiryQueue) peek() *queueItem {
	if len(q.h) == 0 {
		return nil
	}
	return q.h[0]
}

// unregister removes the soonest entry.
func (q *expiryQueue) unregister() {
	it := heap.Pop(&q.h).(*queueItem)
	delete(q.ids, it.id)
}

func (q *expiryQueue) len() int { return len(q.h) }

// checkpointQueue orders scheduled checkpoints by time; a lease may be in it
// more than once (stale entries are skipped when due).
type checkpointQueue struct{ h timeHeap }

func (q *checkpointQueue) push(id int64, t time.Time) { heap.Push(&q.h, &queueItem{id: id, time: t}) }
func (q *checkpointQueue) peek() *queueItem {
	if len(q.h) == 0 {
		return nil
	}
	return q.h[0]
}
func (q *checkpointQueue) pop()     { heap.Pop(&q.h) }
func (q *checkpointQueue) len() int { return len(q.h) }
