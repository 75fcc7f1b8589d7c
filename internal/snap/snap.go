// Package snap stores raft snapshots in etcd's on-disk format.
//
// Snapshots live in <data-dir>/member/snap as "%016x-%016x.snap" (term,
// index), so the lexical order of names is their raft order. Each file holds
// one marshaled snappb.Snapshot, a proto2 message {crc uint32 = 1; data
// bytes = 2} in which data is a marshaled raftpb.Snapshot and crc is the
// CRC-32 Castagnoli of data (crc is always written). A file is written under
// "<name>.tmp", fsynced and renamed into place. A file that fails to load
// (unreadable, empty, bad CRC, bad protobuf) is renamed to "<name>.broken"
// and skipped, as etcd does. Other files in the directory (the bbolt "db",
// "*.snap.db") are left alone.
package snap

import (
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/etcdgo/etcd/internal/wal"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

const (
	snapSuffix   = ".snap"
	brokenSuffix = ".broken"
	tmpSuffix    = ".tmp"
)

var (
	// ErrNoSnapshot is returned when no loadable snapshot exists.
	ErrNoSnapshot = errors.New("snap: no available snapshot")
	// ErrEmptySnapshot is returned for an empty snap file or payload.
	ErrEmptySnapshot = errors.New("snap: empty snapshot")
	// ErrCRCMismatch is returned when a snap file's CRC does not match.
	ErrCRCMismatch = errors.New("snap: crc mismatch")

	crcTable    = crc32.MakeTable(crc32.Castagnoli)
	marshalOpts = proto.MarshalOptions{Deterministic: true}
)

// Snapshotter saves and loads snapshots in one directory.
type Snapshotter struct {
	lg  *slog.Logger
	dir string
}

// New returns a Snapshotter for dir. It removes temp files left by an
// interrupted save and keeps only the newest broken snapshot.
func New(lg *slog.Logger, dir string) *Snapshotter {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	s := &Snapshotter{lg: lg, dir: dir}
	s.cleanup()
	return s
}

func (s *Snapshotter) cleanup() {
	tmps, _ := filepath.Glob(filepath.Join(s.dir, "*"+snapSuffix+tmpSuffix))
	for _, p := range tmps {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			s.lg.Warn("failed to remove temp snap file", "path", p, "error", err)
		}
	}
	broken, _ := filepath.Glob(filepath.Join(s.dir, "*"+snapSuffix+brokenSuffix))
	slices.Sort(broken)
	for _, p := range broken[:max(0, len(broken)-1)] {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			s.lg.Warn("failed to remove broken snap file", "path", p, "error", err)
		}
	}
}

// Dir returns the snapshot directory.
func (s *Snapshotter) Dir() string { return s.dir }

// SaveSnap writes snapshot to "<term>-<index>.snap". An empty snapshot
// (index 0) is not written.
func (s *Snapshotter) SaveSnap(snapshot *raftpb.Snapshot) error {
	if raft.IsEmptySnap(snapshot) {
		return nil
	}
	m := snapshot.GetMetadata()
	name := fmt.Sprintf("%016x-%016x%s", m.GetTerm(), m.GetIndex(), snapSuffix)
	b, err := marshalOpts.Marshal(snapshot)
	if err != nil {
		return fmt.Errorf("snap: marshal: %w", err)
	}
	d := encode(b)
	final := filepath.Join(s.dir, name)
	tmp := final + tmpSuffix
	if err := writeAndSync(tmp, d); err != nil {
		s.lg.Warn("failed to write a temp snap file", "path", tmp, "error", err)
		os.Remove(tmp)
		return fmt.Errorf("snap: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("snap: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("snap: %w", err)
	}
	return nil
}

// encode returns the snappb.Snapshot bytes for data.
func encode(data []byte) []byte {
	b := make([]byte, 0, len(data)+16)
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(crc32.Checksum(data, crcTable)))
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendBytes(b, data)
}

// decode parses snappb.Snapshot bytes into (crc, data).
func decode(b []byte) (uint32, []byte, error) {
	var crc uint32
	var data []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, nil, protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, nil, protowire.ParseError(n)
			}
			crc = uint32(v)
			b = b[n:]
		case num == 2 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return 0, nil, protowire.ParseError(n)
			}
			data = v
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return 0, nil, protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	return crc, data, nil
}

func writeAndSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return serr
	}
	return cerr
}

// Read reads and verifies the snap file at path.
func Read(path string) (*raftpb.Snapshot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, ErrEmptySnapshot
	}
	crc, data, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("unmarshal snappb.Snapshot: %w", err)
	}
	if len(data) == 0 || crc == 0 {
		return nil, ErrEmptySnapshot
	}
	if got := crc32.Checksum(data, crcTable); got != crc {
		return nil, fmt.Errorf("%w: file has %08x, computed %08x", ErrCRCMismatch, crc, got)
	}
	snap := &raftpb.Snapshot{}
	if err := proto.Unmarshal(data, snap); err != nil {
		return nil, fmt.Errorf("unmarshal raftpb.Snapshot: %w", err)
	}
	return snap, nil
}

// Load returns the newest loadable snapshot, renaming broken ones aside.
func (s *Snapshotter) Load() (*raftpb.Snapshot, error) {
	return s.loadMatching(func(*raftpb.Snapshot) bool { return true })
}

// LoadNewestAvailable returns the newest loadable snapshot whose term and
// index match one of walSnaps (see wal.ValidSnapshotEntries).
func (s *Snapshotter) LoadNewestAvailable(walSnaps []wal.SnapshotMark) (*raftpb.Snapshot, error) {
	return s.loadMatching(func(sn *raftpb.Snapshot) bool {
		m := sn.GetMetadata()
		for i := len(walSnaps) - 1; i >= 0; i-- {
			if m.GetTerm() == walSnaps[i].Term && m.GetIndex() == walSnaps[i].Index {
				return true
			}
		}
		return false
	})
}

func (s *Snapshotter) loadMatching(match func(*raftpb.Snapshot) bool) (*raftpb.Snapshot, error) {
	names, err := snapNames(s.dir)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		snap, err := s.loadSnap(name)
		if err == nil && match(snap) {
			return snap, nil
		}
	}
	return nil, ErrNoSnapshot
}

func (s *Snapshotter) loadSnap(name string) (*raftpb.Snapshot, error) {
	p := filepath.Join(s.dir, name)
	snap, err := Read(p)
	if err != nil {
		s.lg.Warn("failed to read a snap file", "path", p, "error", err)
		if rerr := os.Rename(p, p+brokenSuffix); rerr != nil {
			s.lg.Warn("failed to rename a broken snap file", "path", p, "error", rerr)
		} else {
			s.lg.Warn("renamed a broken snap file", "path", p, "broken-path", p+brokenSuffix)
		}
	}
	return snap, err
}

// snapNames returns the .snap names in dir, newest first, or ErrNoSnapshot.
func snapNames(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("snap: %w", err)
	}
	var names []string
	for _, de := range des {
		if strings.HasSuffix(de.Name(), snapSuffix) && !de.IsDir() {
			names = append(names, de.Name())
		}
	}
	if len(names) == 0 {
		return nil, ErrNoSnapshot
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	return names, nil
}

// Purge removes the oldest .snap files in dir, keeping the newest max
// (max 0 keeps all, as etcd's --max-snapshots=0).
func Purge(dir string, max int) error {
	if max <= 0 {
		return nil
	}
	names, err := snapNames(dir)
	if errors.Is(err, ErrNoSnapshot) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, name := range names[min(max, len(names)):] {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("snap: purge: %w", err)
		}
	}
	return nil
}
