package backend

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/btree"

	"github.com/etcdgo/etcd/internal/failpoint"
)

// mmapSlack is head room kept between the estimated file size after a
// commit and the mmap size before a commit is considered remap-free.
const mmapSlack = 64 * 1024 * 1024

type backend struct {
	cfg      Config
	lg       *slog.Logger
	pageSize int
	batch    *batchTx

	// bufMu guards h, cur, buf, bufSnap and closed. h changes only with
	// batch.mu held too.
	bufMu   sync.Mutex
	h       *dbHandle
	cur     *sharedRead
	buf     *btree.BTreeG[bufItem]
	bufSnap *btree.BTreeG[bufItem] // frozen clone of buf shared by views; nil when stale
	closed  bool
	retired []*dbHandle // handles swapped out by Defrag, closed when unused

	size      atomic.Int64
	sizeInUse atomic.Int64

	commitC   chan struct{}
	stopC     chan struct{}
	doneC     chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var _ Backend = (*backend)(nil)

// New opens (creating if needed) the bolt file at cfg.Path and starts the
// committer goroutine.
func New(cfg Config) (Backend, error) {
	if cfg.Path == "" {
		return nil, errors.New("backend: empty path")
	}
	if cfg.BatchInterval <= 0 {
		cfg.BatchInterval = DefaultBatchInterval
	}
	if cfg.BatchLimit <= 0 {
		cfg.BatchLimit = DefaultBatchLimit
	}
	if cfg.MmapSize <= 0 {
		cfg.MmapSize = DefaultMmapSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h, err := openDB(cfg.Path, &cfg)
	if err != nil {
		return nil, err
	}
	b := &backend{
		cfg:      cfg,
		lg:       cfg.Logger,
		pageSize: h.db.Info().PageSize,
		h:        h,
		buf:      newBufTree(),
		commitC:  make(chan struct{}, 1),
		stopC:    make(chan struct{}),
		doneC:    make(chan struct{}),
	}
	b.batch = &batchTx{be: b}
	if b.batch.tx, err = h.db.Begin(true); err != nil {
		_ = h.db.Close()
		return nil, fmt.Errorf("begin bolt write tx: %w", err)
	}
	if b.cur, err = newSharedRead(h); err != nil {
		_ = b.batch.tx.Rollback()
		_ = h.db.Close()
		return nil, err
	}
	b.updateSize()
	go b.run()
	return b, nil
}

// run is the committer: it commits pending writes every BatchInterval, or
// when Unlock reports the batch limit reached, until Close.
func (b *backend) run() {
	defer close(b.doneC)
	t := time.NewTimer(b.cfg.BatchInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-b.commitC:
		case <-b.stopC:
			return
		}
		if b.batch.pending.Load() > 0 {
			b.commit(false)
		}
		t.Reset(b.cfg.BatchInterval)
	}
}

func (b *backend) BatchTx() BatchTx { return b.batch }

func (b *backend) ReadTx() ReadTx {
	b.bufMu.Lock()
	defer b.bufMu.Unlock()
	if b.closed {
		panic("backend: ReadTx after Close")
	}
	sr := b.cur
	sr.acquire()
	var t *btree.BTreeG[bufItem]
	if b.buf.Len() > 0 {
		if b.bufSnap == nil {
			b.bufSnap = b.buf.Clone()
		}
		t = b.bufSnap
	}
	return &readView{sr: sr, buf: bufView{t: t}}
}

// publish applies a Lock section's writes to the shared buffer.
func (b *backend) publish(ops []bufOp) {
	b.bufMu.Lock()
	for _, op := range ops {
		applyOp(b.buf, op)
	}
	b.bufSnap = nil
	b.bufMu.Unlock()
}

func (b *backend) ForceCommit() { b.commit(true) }

// commit takes the gate and the batch lock and commits; unless force, only
// if writes are pending.
func (b *backend) commit(force bool) {
	if g := b.cfg.CommitGate; g != nil {
		g.Lock()
		defer g.Unlock()
	}
	b.batch.mu.Lock()
	defer b.batch.mu.Unlock()
	if b.batch.tx == nil {
		return // closed
	}
	if !force && b.batch.pending.Load() == 0 {
		return
	}
	b.commitLocked(true)
}

// commitLocked runs PreCommit, commits the bolt write tx, swaps in a read tx
// of the committed state with an empty buffer and, if reopen, begins the
// next write tx. Caller holds batch.mu (and the gate).
func (b *backend) commitLocked(reopen bool) {
	t := b.batch
	if b.cfg.PreCommit != nil {
		b.cfg.PreCommit(t)
	}
	t.publish()

	// A commit that grows the file past the mmap must remap, which waits
	// for every open bolt read tx, including the one views share. When that
	// may happen, block new views and drop the backend's reference first.
	remapFree := t.tx.Size()+t.costEstimate+mmapSlack < int64(b.cfg.MmapSize)
	var old *sharedRead
	if !remapFree {
		b.bufMu.Lock()
		old, b.cur = b.cur, nil
		old.release()
		old = nil
	}
	start := time.Now()
	failpoint.Hit("beforeCommit")
	if err := t.tx.Commit(); err != nil {
		b.lg.Error("bolt commit failed", "err", err)
		panic(fmt.Sprintf("backend: bolt commit: %v", err))
	}
	failpoint.Hit("afterCommit")
	d := time.Since(start)
	if d > time.Second {
		b.lg.Warn("slow bolt commit", "took", d)
	}
	if b.cfg.OnCommit != nil {
		b.cfg.OnCommit(d)
	}
	t.tx = nil
	t.pending.Store(0)
	t.costEstimate = 0

	sr, err := newSharedRead(b.h)
	if err != nil {
		panic(fmt.Sprintf("backend: %v", err))
	}
	if remapFree {
		b.bufMu.Lock()
		old = b.cur
	}
	b.cur = sr
	b.buf = newBufTree()
	b.bufSnap = nil
	b.bufMu.Unlock()
	if old != nil {
		old.release()
	}
	if reopen {
		b.beginWrite(b.h)
	}
	b.updateSize()
}

// updateSize records the committed size and the part of it in use.
func (b *backend) updateSize() {
	b.bufMu.Lock()
	cur, h := b.cur, b.h
	b.bufMu.Unlock()
	if cur == nil {
		return
	}
	size := cur.tx.Size()
	free := int64(h.db.Stats().FreePageN) * int64(b.pageSize)
	b.size.Store(size)
	b.sizeInUse.Store(size - free)
}

func (b *backend) Size() int64      { return b.size.Load() }
func (b *backend) SizeInUse() int64 { return b.sizeInUse.Load() }

func (b *backend) Snapshot() Snapshot {
	b.ForceCommit()
	b.bufMu.Lock()
	if b.closed {
		b.bufMu.Unlock()
		panic("backend: Snapshot after Close")
	}
	sr := b.cur
	sr.acquire()
	b.bufMu.Unlock()
	return &snapshot{sr: sr}
}

type snapshot struct {
	sr   *sharedRead
	once sync.Once
}

func (s *snapshot) WriteTo(w io.Writer) (int64, error) { return s.sr.tx.WriteTo(w) }
func (s *snapshot) Size() int64                        { return s.sr.tx.Size() }
func (s *snapshot) Close() error {
	s.once.Do(s.sr.release)
	return nil
}

func (b *backend) Close() error {
	b.closeOnce.Do(func() {
		close(b.stopC)
		<-b.doneC
		handles := b.closeLocked()
		// Wait outside the locks for views and snapshots still open.
		for _, h := range handles {
			b.waitClosed(h)
			if h.err != nil && b.closeErr == nil {
				b.closeErr = h.err
			}
		}
	})
	return b.closeErr
}

// closeLocked commits, ends the write tx and retires the current handle. It
// returns every handle Close must wait for.
func (b *backend) closeLocked() []*dbHandle {
	if g := b.cfg.CommitGate; g != nil {
		g.Lock()
		defer g.Unlock()
	}
	b.batch.mu.Lock()
	defer b.batch.mu.Unlock()
	b.commitLocked(false)

	b.bufMu.Lock()
	b.closed = true
	cur, h, retired := b.cur, b.h, b.retired
	b.cur, b.retired = nil, nil
	b.bufMu.Unlock()
	cur.release()
	h.retire()
	return append(retired, h)
}

// waitClosed waits for h to close, nagging about views left open.
func (b *backend) waitClosed(h *dbHandle) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-h.closed:
			return
		case <-t.C:
			h.mu.Lock()
			n := h.live
			h.mu.Unlock()
			b.lg.Warn("backend close waits for open read views", "open-read-txs", n)
		}
	}
}

// syncDir fsyncs a directory so a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
