package wal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// segmentSizeBytes is the preallocated size of a segment; the log is cut
// once the tail grows past it. etcd uses 64*1000*1000. Tests shrink it.
var segmentSizeBytes int64 = 64 * 1000 * 1000

// warnSyncDuration is how long an fdatasync may take before it is logged.
const warnSyncDuration = time.Second

var (
	// ErrMetadataConflict: two segments carry different metadata.
	ErrMetadataConflict = errors.New("wal: conflicting metadata found")
	// ErrSnapshotMismatch: the WAL has a snapshot record at the requested
	// index but with another term.
	ErrSnapshotMismatch = errors.New("wal: snapshot mismatch")
	// ErrSnapshotNotFound: ReadAll did not meet the requested snapshot.
	ErrSnapshotNotFound = errors.New("wal: snapshot not found")
	// ErrSliceOutOfRange: an entry leaves a gap after the entries read so far.
	ErrSliceOutOfRange = errors.New("wal: slice bounds out of range")
	// ErrNotReadable: ReadAll was called on a WAL not freshly opened.
	ErrNotReadable = errors.New("wal: not open for reading")
	// ErrNotWritable: Save or SaveSnapshot before ReadAll, or after Close.
	ErrNotWritable = errors.New("wal: not ready for appending (call ReadAll first)")
)

// segment is one locked segment file the WAL holds.
type segment struct {
	f          *os.File
	path       string
	seq, index uint64
}

// WAL is an open write-ahead log. A created WAL is ready to append; an
// opened WAL must be read with ReadAll first. Methods are safe for
// concurrent use.
type WAL struct {
	lg      *slog.Logger
	dir     string
	segSize int64
	noSync  bool
	// onSync, when set, gets the duration of every fdatasync.
	onSync func(time.Duration)

	mu       sync.Mutex
	metadata []byte
	state    *raftpb.HardState // last non-empty hard state saved or read
	start    SnapshotMark      // snapshot ReadAll starts after
	dec      *decoder          // non-nil between Open and ReadAll
	enc      *encoder          // non-nil once appending
	enti     uint64            // index of the last entry written
	segs     []*segment        // locked segments, tail last
	fp       *filePipeline
	scratch  []byte
	closed   bool
}

func orDiscard(lg *slog.Logger) *slog.Logger {
	if lg == nil {
		return slog.New(slog.DiscardHandler)
	}
	return lg
}

// Create makes a new WAL in dir (which must not hold segments yet) whose
// segments all carry metadata, and returns it ready for appending.
func Create(lg *slog.Logger, dir string, metadata []byte) (w *WAL, err error) {
	lg = orDiscard(lg)
	if Exist(dir) {
		return nil, fmt.Errorf("wal: create %s: %w", dir, os.ErrExist)
	}
	dir = filepath.Clean(dir)
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("wal: remove stale %s: %w", tmp, err)
	}
	if err := os.MkdirAll(tmp, privateDirMode); err != nil {
		return nil, fmt.Errorf("wal: create %s: %w", tmp, err)
	}
	defer os.RemoveAll(tmp) // no-op after the rename

	p := filepath.Join(tmp, walName(0, 0))
	f, err := lockFile(p, os.O_CREATE|os.O_RDWR, false)
	if err != nil {
		return nil, fmt.Errorf("wal: create first segment: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	if err := preallocate(f, segmentSizeBytes); err != nil {
		return nil, fmt.Errorf("wal: preallocate %s: %w", p, err)
	}
	w = &WAL{
		lg:       lg,
		dir:      dir,
		segSize:  segmentSizeBytes,
		metadata: metadata,
		state:    &raftpb.HardState{},
		enc:      newEncoder(f, 0, 0),
		segs:     []*segment{{f: f, path: p}},
	}
	if err := w.enc.encode(CrcType, nil); err != nil {
		return nil, err
	}
	if err := w.enc.encode(MetadataType, metadata); err != nil {
		return nil, err
	}
	snap, err := marshalSnapshot(SnapshotMark{})
	if err != nil {
		return nil, err
	}
	if err := w.enc.encode(SnapshotType, snap); err != nil {
		return nil, err
	}
	if err := w.sync(); err != nil {
		return nil, err
	}
	if err := fsyncDir(tmp); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("wal: remove %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("wal: rename %s: %w", tmp, err)
	}
	w.segs[0].path = filepath.Join(dir, walName(0, 0))
	if err := fsyncDir(filepath.Dir(dir)); err != nil {
		return nil, err
	}
	w.fp = newFilePipeline(lg, dir, w.segSize)
	return w, nil
}

// Open opens the WAL in dir for reading from the record of snap, then
// appending. It locks every segment from the one holding snap onward, so it
// fails with ErrLocked while another WAL has them. ReadAll must be called
// before Save.
func Open(lg *slog.Logger, dir string, snap SnapshotMark) (*WAL, error) {
	lg = orDiscard(lg)
	dir = filepath.Clean(dir)
	names, err := segmentNames(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: open %s: %w", dir, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrFileNotFound, dir)
	}
	first, ok := searchIndex(names, snap.Index)
	if !ok {
		return nil, fmt.Errorf("wal: no segment in %s covers snapshot index %d", dir, snap.Index)
	}
	names = names[first:]
	if !isValidSeq(names) {
		return nil, fmt.Errorf("wal: segment sequence numbers in %s are not contiguous from %s", dir, names[0])
	}
	w := &WAL{lg: lg, dir: dir, segSize: segmentSizeBytes, start: snap, state: &raftpb.HardState{}}
	srcs := make([]segmentSource, 0, len(names))
	for _, name := range names {
		p := filepath.Join(dir, name)
		f, err := lockFile(p, os.O_RDWR, true)
		if err != nil {
			w.closeFiles()
			return nil, fmt.Errorf("wal: open: %w", err)
		}
		seq, index, _ := parseWALName(name)
		w.segs = append(w.segs, &segment{f: f, path: p, seq: seq, index: index})
		fi, err := f.Stat()
		if err != nil {
			w.closeFiles()
			return nil, fmt.Errorf("wal: stat %s: %w", p, err)
		}
		srcs = append(srcs, segmentSource{path: p, r: f, size: fi.Size()})
	}
	w.dec = newDecoder(srcs)
	w.fp = newFilePipeline(lg, dir, w.segSize)
	return w, nil
}

// ReadAll reads the WAL opened by Open. It returns the metadata, the last
// hard state (empty if none) and the entries after the snapshot given to
// Open; an entry whose index was already seen replaces it and everything
// after it, as raft overwrites uncommitted entries. A torn tail on the last
// segment is copied to "<segment>.broken", truncated away and logged; other
// damage returns a *CorruptError naming the file and offset. If the snapshot
// record was not met, the data read is returned with ErrSnapshotNotFound.
// Afterwards the WAL is ready for appending.
func (w *WAL) ReadAll() (metadata []byte, state *raftpb.HardState, ents []*raftpb.Entry, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dec == nil {
		return nil, nil, nil, ErrNotReadable
	}
	dec := w.dec
	state = &raftpb.HardState{}
	var match bool
	for {
		rec, derr := dec.next()
		if derr != nil {
			err = derr
			break
		}
		at := func(e error) error {
			return &CorruptError{Path: dec.curPath(), Offset: dec.recOff, Err: e}
		}
		switch rec.Type {
		case EntryType:
			e := &raftpb.Entry{}
			if err := proto.Unmarshal(rec.Data, e); err != nil {
				return nil, nil, nil, at(fmt.Errorf("unmarshal entry: %w", err))
			}
			if e.GetIndex() > w.start.Index {
				off := e.GetIndex() - w.start.Index - 1
				if off > uint64(len(ents)) {
					return nil, nil, ents, at(fmt.Errorf("%w: snapshot index %d, entry index %d after %d entries",
						ErrSliceOutOfRange, w.start.Index, e.GetIndex(), len(ents)))
				}
				ents = append(ents[:off], e)
			}
			w.enti = e.GetIndex()
		case StateType:
			hs := &raftpb.HardState{}
			if err := proto.Unmarshal(rec.Data, hs); err != nil {
				return nil, nil, nil, at(fmt.Errorf("unmarshal hard state: %w", err))
			}
			state = hs
		case MetadataType:
			if metadata != nil && !bytes.Equal(metadata, rec.Data) {
				return nil, nil, nil, at(ErrMetadataConflict)
			}
			metadata = rec.Data
		case CrcType:
			// verified by the decoder
		case SnapshotType:
			s, err := unmarshalSnapshot(rec.Data)
			if err != nil {
				return nil, nil, nil, at(err)
			}
			if s.Index == w.start.Index {
				if s.Term != w.start.Term {
					return nil, nil, nil, at(fmt.Errorf("%w: want term %d at index %d, found %d",
						ErrSnapshotMismatch, w.start.Term, s.Index, s.Term))
				}
				match = true
			}
		default:
			return nil, nil, nil, at(fmt.Errorf("unexpected record type %d", rec.Type))
		}
	}

	tail := w.tail()
	var ce *CorruptError
	switch {
	case errors.Is(err, io.EOF):
		// Clear anything after the last record: a zero length word may hide
		// frames of a torn write that a later append would only partly cover.
		if err := zeroToEnd(tail.f, dec.lastOffset()); err != nil {
			return nil, nil, nil, err
		}
	case errors.As(err, &ce) && ce.Torn:
		if err := w.repairTail(tail, dec.lastOffset(), ce); err != nil {
			return nil, nil, nil, err
		}
	default:
		return nil, nil, nil, err
	}

	w.enc = newEncoder(tail.f, dec.lastOffset(), dec.lastCRC())
	w.dec = nil
	w.metadata = metadata
	w.state = proto.Clone(state).(*raftpb.HardState)
	start := w.start
	w.start = SnapshotMark{}
	if !match {
		return metadata, state, ents, fmt.Errorf("%w: index %d term %d", ErrSnapshotNotFound, start.Index, start.Term)
	}
	return metadata, state, ents, nil
}

// Save appends ents and, when non-empty, st. It fdatasyncs once at the end
// when raft.MustSync says so (entries, or a new term or vote), so a batch is
// one group commit. When the tail segment passes the segment size the log
// is cut (which syncs as well).
func (w *WAL) Save(st *raftpb.HardState, ents []*raftpb.Entry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.enc == nil || w.closed {
		return ErrNotWritable
	}
	if raft.IsEmptyHardState(st) && len(ents) == 0 {
		return nil
	}
	mustSync := raft.MustSync(st, w.state, len(ents))
	for _, e := range ents {
		var err error
		w.scratch, err = marshalOpts.MarshalAppend(w.scratch[:0], e)
		if err != nil {
			return fmt.Errorf("wal: marshal entry %d: %w", e.GetIndex(), err)
		}
		if err := w.enc.encode(EntryType, w.scratch); err != nil {
			return err
		}
		w.enti = e.GetIndex()
	}
	if err := w.saveState(st); err != nil {
		return err
	}
	if w.enc.offset() < w.segSize {
		if mustSync {
			return w.sync()
		}
		return nil
	}
	return w.cut()
}

func (w *WAL) saveState(st *raftpb.HardState) error {
	if raft.IsEmptyHardState(st) {
		return nil
	}
	b, err := marshalOpts.Marshal(st)
	if err != nil {
		return fmt.Errorf("wal: marshal hard state: %w", err)
	}
	w.state = proto.Clone(st).(*raftpb.HardState)
	return w.enc.encode(StateType, b)
}

// SaveSnapshot appends a snapshot record and syncs. A snapshot after the
// initial one must carry its ConfState (etcd >= 3.5 requires it).
func (w *WAL) SaveSnapshot(s SnapshotMark) error {
	if s.ConfState == nil && s.Index > 0 {
		return fmt.Errorf("wal: snapshot at index %d is missing its ConfState", s.Index)
	}
	b, err := marshalSnapshot(s)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.enc == nil || w.closed {
		return ErrNotWritable
	}
	if err := w.enc.encode(SnapshotType, b); err != nil {
		return err
	}
	w.enti = max(w.enti, s.Index)
	return w.sync()
}

// Sync flushes buffered records and fdatasyncs the tail segment.
func (w *WAL) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.enc == nil || w.closed {
		return ErrNotWritable
	}
	return w.sync()
}

// SetUnsafeNoFsync disables fdatasync (etcd's --unsafe-no-fsync). Records
// are still written to the file; a machine crash may lose them.
func (w *WAL) SetUnsafeNoFsync() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.noSync = true
}

// SetSyncObserver makes f receive the duration of every fdatasync from now
// on (the member's etcd_disk_wal_fsync_duration_seconds); nil stops it.
func (w *WAL) SetSyncObserver(f func(time.Duration)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.onSync = f
}

func (w *WAL) sync() error {
	if err := w.enc.flush(); err != nil {
		return err
	}
	if w.noSync {
		return nil
	}
	start := time.Now()
	err := fdatasync(w.tail().f)
	took := time.Since(start)
	if took > warnSyncDuration {
		w.lg.Warn("slow fdatasync", "took", took, "expected-duration", warnSyncDuration)
	}
	if w.onSync != nil {
		w.onSync(took)
	}
	return err
}

// ReleaseLockTo releases the locks of segments that hold only entries below
// index, keeping the newest such segment (it may still hold index-1). Purge
// can then remove the released segments.
func (w *WAL) ReleaseLockTo(index uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.segs) == 0 {
		return nil
	}
	smaller := len(w.segs) - 1
	for i, s := range w.segs {
		if s.index >= index {
			smaller = i - 1
			break
		}
	}
	if smaller <= 0 {
		return nil
	}
	for _, s := range w.segs[:smaller] {
		if err := s.f.Close(); err != nil {
			w.lg.Warn("failed to close released WAL segment", "path", s.path, "error", err)
		}
	}
	w.segs = append([]*segment(nil), w.segs[smaller:]...)
	return nil
}

// Close syncs the tail (when appending) and releases every segment.
func (w *WAL) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.fp != nil {
		if err := w.fp.Close(); err != nil {
			w.lg.Warn("WAL file pipeline failed", "error", err)
		}
		w.fp = nil
	}
	var err error
	if w.enc != nil {
		err = w.sync()
	}
	w.closeFiles()
	return err
}

func (w *WAL) closeFiles() {
	for _, s := range w.segs {
		if cerr := s.f.Close(); cerr != nil {
			w.lg.Warn("failed to close WAL segment", "path", s.path, "error", cerr)
		}
	}
	w.segs = nil
}

// Dir returns the WAL directory.
func (w *WAL) Dir() string { return w.dir }

func (w *WAL) tail() *segment {
	if len(w.segs) == 0 {
		return nil
	}
	return w.segs[len(w.segs)-1]
}

// ValidSnapshotEntries returns the snapshot records in the WAL at dir whose
// index is at most the commit index of the last hard state, i.e. the
// snapshots the server may safely start from. It reads without locking, so
// it works next to an open WAL, and it tolerates a torn tail.
func ValidSnapshotEntries(lg *slog.Logger, dir string) ([]SnapshotMark, error) {
	names, err := segmentNames(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrFileNotFound, dir)
	}
	srcs := make([]segmentSource, 0, len(names))
	for _, name := range names {
		p := filepath.Join(dir, name)
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("wal: %w", err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("wal: %w", err)
		}
		srcs = append(srcs, segmentSource{path: p, r: f, size: fi.Size()})
	}
	dec := newDecoder(srcs)
	var snaps []SnapshotMark
	var commit uint64
	for {
		rec, err := dec.next()
		var ce *CorruptError
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &ce) && ce.Torn {
			orDiscard(lg).Info("ignoring torn WAL tail", "path", ce.Path, "offset", ce.Offset)
			break
		}
		if err != nil {
			return nil, err
		}
		switch rec.Type {
		case SnapshotType:
			s, err := unmarshalSnapshot(rec.Data)
			if err != nil {
				return nil, &CorruptError{Path: dec.curPath(), Offset: dec.recOff, Err: err}
			}
			snaps = append(snaps, s)
		case StateType:
			hs := &raftpb.HardState{}
			if err := proto.Unmarshal(rec.Data, hs); err != nil {
				return nil, &CorruptError{Path: dec.curPath(), Offset: dec.recOff, Err: err}
			}
			commit = hs.GetCommit()
		}
	}
	n := 0
	for _, s := range snaps {
		if s.Index <= commit {
			snaps[n] = s
			n++
		}
	}
	return snaps[:n:n], nil
}
