package mvcc

import (
	"bytes"
	"errors"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// WatchID identifies a watcher inside its WatchStream.
type WatchID int64

const (
	// AutoWatchID asks WatchStream.Watch to choose the ID.
	AutoWatchID WatchID = 0
	// InvalidWatchID is the ID of a response made on behalf of every
	// watcher of a stream (RequestProgressAll), and of a refused watch.
	InvalidWatchID WatchID = -1
)

var (
	// ErrWatcherNotExist is returned by Cancel for an unknown watch ID.
	ErrWatcherNotExist = errors.New("mvcc: watcher does not exist")
	// ErrEmptyWatcherRange is returned by Watch when end <= key.
	ErrEmptyWatcherRange = errors.New("mvcc: watcher range is empty")
	// ErrWatcherDuplicateID is returned by Watch for an ID already in use.
	ErrWatcherDuplicateID = errors.New("mvcc: duplicate watch ID provided on the WatchStream")
)

// FilterFunc returns true for an event the watcher does not want.
type FilterFunc func(ev *mvccpb.Event) bool

// WatchResponse is what a WatchStream delivers.
//
//   - Events: the events of one or more whole revisions, in revision order
//     (a synced watcher gets one response per revision). The Events, the
//     KeyValues in them and the Events slice may be shared with other
//     watchers and must not be modified: a receiver that adds a PrevKv
//     builds its own Event.
//   - Revision: the store revision the response was made at; with no
//     events it is a progress notification: every later event of the
//     watcher(s) has a greater revision.
//   - CompactRevision != 0: the watcher's start revision was compacted; the
//     watcher is gone from the store and gets nothing more.
type WatchResponse struct {
	WatchID         WatchID
	Events          []*mvccpb.Event
	Revision        int64
	CompactRevision int64
}

// watcherState says where a watcher is; guarded by WatchableStore.mu.
type watcherState int

const (
	stateSynced   watcherState = iota // in s.synced, fed by notify
	stateUnsynced                     // in s.unsynced, fed by the sync loop
	stateVictim                       // in s.victims, one response pending
	stateGone                         // canceled or compacted
)

type watcher struct {
	id WatchID
	// key, end: the watched range. end nil: key alone; end empty non-nil:
	// every key >= key; otherwise [key, end).
	key, end []byte
	// startRev is the revision the watch was asked from.
	startRev int64
	fcs      []FilterFunc
	ch       chan<- WatchResponse

	// Guarded by WatchableStore.mu.
	// minRev is the next revision the watcher is owed: every event below
	// it has been delivered.
	minRev int64
	state  watcherState
}

func (w *watcher) isRange() bool { return w.end != nil }

// contains reports whether key is in the watched range.
func (w *watcher) contains(key []byte) bool {
	if w.end == nil {
		return bytes.Equal(key, w.key)
	}
	if bytes.Compare(key, w.key) < 0 {
		return false
	}
	return len(w.end) == 0 || bytes.Compare(key, w.end) < 0
}

// send filters wr's events and tries to hand wr over without blocking. It
// reports false when the channel is full. A response whose events are all
// filtered out counts as delivered and sends nothing.
func (w *watcher) send(wr WatchResponse) bool {
	progress := len(wr.Events) == 0 && wr.CompactRevision == 0
	if len(w.fcs) != 0 && len(wr.Events) != 0 {
		kept := make([]*mvccpb.Event, 0, len(wr.Events))
		for _, ev := range wr.Events {
			if !w.filtered(ev) {
				kept = append(kept, ev)
			}
		}
		wr.Events = kept
	}
	if !progress && wr.CompactRevision == 0 && len(wr.Events) == 0 {
		return true
	}
	select {
	case w.ch <- wr:
		return true
	default:
		return false
	}
}

func (w *watcher) filtered(ev *mvccpb.Event) bool {
	for _, f := range w.fcs {
		if f(ev) {
			return true
		}
	}
	return false
}

// eventOf makes the event a stored change stands for. A delete is a
// KeyValue with CreateRevision 0.
func eventOf(kv *mvccpb.KeyValue) *mvccpb.Event {
	if kv.CreateRevision == 0 {
		return &mvccpb.Event{Type: mvccpb.Event_DELETE, Kv: kv}
	}
	return &mvccpb.Event{Type: mvccpb.Event_PUT, Kv: kv}
}
