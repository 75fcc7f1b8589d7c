package mvcc

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/schema"
)

// Defaults applied by NewStore to zero StoreConfig fields.
const (
	DefaultCompactionBatchLimit    = 1000
	DefaultCompactionSleepInterval = 10 * time.Millisecond
)

// restoreChunkKeys is how many revisions NewStore reads per backend range
// while rebuilding the index.
const restoreChunkKeys = 10000

// StoreConfig configures NewStore.
type StoreConfig struct {
	// CompactionBatchLimit is the number of revisions a compaction deletes
	// per backend batch. Default 1000.
	CompactionBatchLimit int
	// CompactionSleepInterval is the pause between compaction batches.
	// Default 10ms.
	CompactionSleepInterval time.Duration
	// OnTxnEnd, when set, is called at the end of every write transaction
	// that changed something, with the transaction's revision and its
	// changes in order. It is the seam for the watch layer. Guarantees:
	//   - calls are serialized (made while the store's write lock is held)
	//     and come in strictly increasing revision order, one per revision;
	//   - when it runs, the change is already visible: Rev() == rev and new
	//     read transactions see it;
	//   - a put has CreateRevision > 0; a delete has CreateRevision == 0,
	//     Version == 0, no value, and ModRevision set to rev.
	// The hook owns changes (the store does not touch them afterwards). It
	// must not block for long and must not open a write transaction.
	OnTxnEnd func(rev int64, changes []*mvccpb.KeyValue)
}

// Store is the mvcc key-value store on a backend.
type Store struct {
	lg      *slog.Logger
	cfg     StoreConfig
	b       backend.Backend
	kvindex *treeIndex

	// writeMu serializes write transactions and the bookkeeping part of
	// Compact; it is taken before the backend's batch tx lock.
	writeMu sync.Mutex
	// currentRev is the revision of the last finished write transaction.
	// Written with writeMu held, after the change is visible in the backend.
	currentRev atomic.Int64
	// compactMainRev is the latest scheduled compaction revision (-1: none).
	compactMainRev atomic.Int64

	hashes hashStorage

	// compactMu serializes Compact calls (index compaction and the chaining
	// of background deletions).
	compactMu sync.Mutex
	// lastCompactDone is closed when the latest background compaction ends.
	lastCompactDone chan struct{}

	// restoreMu is held for reading by every read transaction and watcher
	// sync pass, and for writing by Restore while the backend's contents
	// are swapped and the index rebuilt. A goroutine must not open a read
	// transaction while it holds another.
	restoreMu sync.RWMutex
	// compactStop is closed to stop the background compactions of the
	// current contents (by Restore; Close uses stopc).
	compactStop chan struct{}

	stopc     chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

var _ KV = (*Store)(nil)

// NewStore opens the store on b: it creates the buckets, rebuilds the key
// index from the "key" bucket, restores the current and compacted revisions
// and resumes a compaction that was scheduled but not finished.
func NewStore(lg *slog.Logger, b backend.Backend, cfg StoreConfig) *Store {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	if cfg.CompactionBatchLimit <= 0 {
		cfg.CompactionBatchLimit = DefaultCompactionBatchLimit
	}
	if cfg.CompactionSleepInterval <= 0 {
		cfg.CompactionSleepInterval = DefaultCompactionSleepInterval
	}
	s := &Store{
		lg:              lg,
		cfg:             cfg,
		b:               b,
		kvindex:         newTreeIndex(),
		lastCompactDone: closedChan(),
		compactStop:     make(chan struct{}),
		stopc:           make(chan struct{}),
	}
	s.currentRev.Store(1)
	s.compactMainRev.Store(-1)

	tx := b.BatchTx()
	tx.Lock()
	schema.CreateBuckets(tx)
	tx.Unlock()

	if scheduled, ok := s.restore(s.kvindex); ok {
		s.resumeCompaction(scheduled)
	}
	return s
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// restore rebuilds the index ti and the revisions from the backend. It
// returns the revision of a compaction that was scheduled but not finished.
func (s *Store) restore(ti *treeIndex) (scheduledRev int64, resume bool) {
	tx := s.b.ReadTx()
	finished, finishedFound := schema.UnsafeReadFinishedCompact(tx)
	if finishedFound {
		s.compactMainRev.Store(finished)
	}
	scheduled, scheduledFound := schema.UnsafeReadScheduledCompact(tx)
	if !scheduledFound {
		scheduled = 0
	}

	currentRev := int64(1)
	minKey := schema.RevToBytes(schema.Revision{Main: 1}, false)
	maxKey := schema.RevToBytes(schema.Revision{Main: math.MaxInt64, Sub: math.MaxInt64}, false)
	for {
		keys, vals := tx.UnsafeRange(schema.Key, minKey, maxKey, restoreChunkKeys)
		for i, k := range keys {
			kv := &mvccpb.KeyValue{}
			if err := proto.Unmarshal(vals[i], kv); err != nil {
				panic(fmt.Sprintf("mvcc: restore: unmarshal revision %x: %v", k, err))
			}
			rev := Revision(schema.BytesToRev(k))
			currentRev = rev.Main
			tomb := schema.IsTombstone(k)
			if ki := ti.unsafeKeyIndex(kv.Key); ki != nil {
				if tomb {
					if err := ki.tombstone(rev); err != nil {
						s.lg.Warn("restore: tombstone of a deleted key", "key", string(kv.Key), "revision", rev.String())
					}
					continue
				}
				ki.put(rev)
				continue
			}
			ki := newKeyIndex(kv.Key)
			if tomb {
				ki.restoreTombstone(rev)
			} else {
				ki.restore(Revision{Main: kv.CreateRevision}, rev, kv.Version)
			}
			ti.unsafeInsert(ki)
		}
		if len(keys) < restoreChunkKeys {
			break
		}
		last := schema.BytesToRev(keys[len(keys)-1])
		minKey = schema.RevToBytes(schema.Revision{Main: last.Main, Sub: last.Sub + 1}, false)
	}
	tx.Release()

	// Compaction may have deleted every revision up to the compacted one
	// (e.g. a trailing tombstone), so the revision is at least that.
	currentRev = max(currentRev, s.compactMainRev.Load(), scheduled)
	s.currentRev.Store(currentRev)
	s.lg.Info("mvcc store restored", "current-revision", currentRev,
		"compact-revision", s.compactMainRev.Load(), "keys", ti.Len())
	return scheduled, scheduledFound && scheduled > s.compactMainRev.Load()
}

// resumeCompaction runs again a compaction that was scheduled but did not
// finish.
func (s *Store) resumeCompaction(scheduled int64) {
	s.lg.Info("resuming scheduled compaction", "scheduled-compact-revision", scheduled)
	if _, err := s.Compact(scheduled); err != nil {
		s.lg.Warn("resuming scheduled compaction failed", "scheduled-compact-revision", scheduled, "error", err)
	}
}

// FirstRev returns the compacted revision (-1 if never compacted).
func (s *Store) FirstRev() int64 { return s.compactMainRev.Load() }

// Rev returns the current revision.
func (s *Store) Rev() int64 { return s.currentRev.Load() }

// Range reads at the current revision in a one-off read transaction.
func (s *Store) Range(ctx context.Context, key, end []byte, ro RangeOptions) (*RangeResult, error) {
	txn := s.Read()
	defer txn.End()
	return txn.Range(ctx, key, end, ro)
}

// Put writes key=value in its own write transaction.
func (s *Store) Put(key, value []byte, lease int64) int64 {
	txn := s.Write()
	defer txn.End()
	return txn.Put(key, value, lease)
}

// DeleteRange deletes [key, end) in its own write transaction.
func (s *Store) DeleteRange(key, end []byte) (n, rev int64) {
	txn := s.Write()
	defer txn.End()
	return txn.DeleteRange(key, end)
}

// Commit commits the backend now. Like backend.ForceCommit it takes the
// backend's CommitGate, so the caller must not hold it. (The store itself
// only commits from the background compaction goroutine, never inside
// Write/End/Compact.)
func (s *Store) Commit() { s.b.ForceCommit() }

// Close stops the background compaction (its done channel is closed; the
// compaction resumes at the next NewStore) and waits for it. It does not
// close the backend. Call it after every other call on the store returned.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stopc) })
	s.wg.Wait()
	return nil
}

func marshalKV(kv *mvccpb.KeyValue) []byte {
	d, err := proto.MarshalOptions{Deterministic: true}.Marshal(kv)
	if err != nil {
		panic(fmt.Sprintf("mvcc: marshal KeyValue: %v", err))
	}
	return d
}
