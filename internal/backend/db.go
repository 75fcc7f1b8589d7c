package backend

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// boltOptions returns the bolt options etcd uses for member/snap/db.
func boltOptions(cfg *Config) *bolt.Options {
	return &bolt.Options{
		InitialMmapSize: cfg.MmapSize,
		FreelistType:    bolt.FreelistMapType,
		NoFreelistSync:  true,
		NoSync:          cfg.UnsafeNoFsync,
		NoGrowSync:      cfg.UnsafeNoFsync,
		MmapFlags:       mmapFlags,
		Timeout:         cfg.LockTimeout,
	}
}

// dbHandle is one open bolt file. It counts the bolt read transactions open
// on it so that, once retired (after a defrag swap or Close), it is closed
// by whoever ends its last read transaction, without anyone blocking.
type dbHandle struct {
	db *bolt.DB
	lg *slog.Logger

	mu      sync.Mutex
	live    int
	retired bool
	closed  chan struct{}
	err     error
}

func openDB(path string, cfg *Config) (*dbHandle, error) {
	db, err := bolt.Open(path, 0o600, boltOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("open bolt db %s: %w", path, err)
	}
	return &dbHandle{db: db, lg: cfg.Logger, closed: make(chan struct{})}, nil
}

// beginRead opens a bolt read transaction counted against the handle.
func (h *dbHandle) beginRead() (*bolt.Tx, error) {
	h.mu.Lock()
	if h.retired {
		h.mu.Unlock()
		return nil, fmt.Errorf("bolt db is closing")
	}
	h.live++
	h.mu.Unlock()
	tx, err := h.db.Begin(false)
	if err != nil {
		h.readDone()
		return nil, fmt.Errorf("begin bolt read tx: %w", err)
	}
	return tx, nil
}

// endRead rolls back a read transaction opened by beginRead.
func (h *dbHandle) endRead(tx *bolt.Tx) {
	if err := tx.Rollback(); err != nil {
		h.lg.Error("rollback bolt read tx", "err", err)
	}
	h.readDone()
}

func (h *dbHandle) readDone() {
	h.mu.Lock()
	h.live--
	closeNow := h.retired && h.live == 0
	h.mu.Unlock()
	if closeNow {
		h.close()
	}
}

// retire marks the handle for closing once its last read tx ends. The write
// tx must already be finished.
func (h *dbHandle) retire() {
	h.mu.Lock()
	if h.retired {
		h.mu.Unlock()
		return
	}
	h.retired = true
	closeNow := h.live == 0
	h.mu.Unlock()
	if closeNow {
		h.close()
	}
}

func (h *dbHandle) close() {
	h.err = h.db.Close()
	if h.err != nil {
		h.lg.Error("close bolt db", "path", h.db.Path(), "err", h.err)
	}
	close(h.closed)
}

// sharedRead is a bolt read transaction shared by many views, rolled back
// when the last reference is dropped.
type sharedRead struct {
	h    *dbHandle
	tx   *bolt.Tx
	refs atomic.Int64

	bmu     sync.Mutex
	buckets map[string]*bolt.Bucket
}

func newSharedRead(h *dbHandle) (*sharedRead, error) {
	tx, err := h.beginRead()
	if err != nil {
		return nil, err
	}
	s := &sharedRead{h: h, tx: tx, buckets: make(map[string]*bolt.Bucket)}
	s.refs.Store(1)
	return s, nil
}

func (s *sharedRead) acquire() { s.refs.Add(1) }

func (s *sharedRead) release() {
	switch n := s.refs.Add(-1); {
	case n == 0:
		s.h.endRead(s.tx)
	case n < 0:
		panic("backend: read tx released twice")
	}
}

// bucket returns the bolt bucket (nil if absent), cached per transaction.
func (s *sharedRead) bucket(name []byte) *bolt.Bucket {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	if b, ok := s.buckets[string(name)]; ok {
		return b
	}
	b := s.tx.Bucket(name)
	s.buckets[string(name)] = b
	return b
}
