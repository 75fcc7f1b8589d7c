package snapshot

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/config"
	"github.com/etcdgo/etcd/internal/schema"
	"github.com/etcdgo/etcd/internal/server"
	"github.com/etcdgo/etcd/internal/snap"
	"github.com/etcdgo/etcd/internal/v2store"
	"github.com/etcdgo/etcd/internal/wal"
)

// restoreTerm is the term of everything a restore writes: the conf change
// entries, the hard state and the raft snapshot.
const restoreTerm = 1

var marshalOpts = proto.MarshalOptions{Deterministic: true}

// restorePlan is a validated RestoreConfig.
type restorePlan struct {
	lg        *slog.Logger
	src       string
	dataDir   string
	snapDir   string
	walDir    string
	skipHash  bool
	bump      uint64
	compacted bool
	// members of the new cluster, ordered by ID; self is this member.
	members   []*server.Member
	self      *server.Member
	clusterID uint64
}

// Restore creates a member data dir from a snapshot file, as
// `etcdutl snapshot restore` does (see the package doc for the layout). The
// data dir must not exist or be empty, and an explicit WAL dir must not
// exist. On failure Restore removes what it created.
func Restore(cfg RestoreConfig) error {
	p, err := plan(cfg)
	if err != nil {
		return err
	}
	p.lg.Info("restoring snapshot", "path", p.src, "wal-dir", p.walDir, "data-dir", p.dataDir, "snap-dir", p.snapDir)
	undo, err := p.makeDirs(cfg.OutputWALDir != "")
	if err != nil {
		return err
	}
	if err := p.run(); err != nil {
		undo()
		return err
	}
	p.lg.Info("restored snapshot", "path", p.src, "wal-dir", p.walDir, "data-dir", p.dataDir, "snap-dir", p.snapDir,
		"member-id", fmt.Sprintf("%x", p.self.ID), "cluster-id", fmt.Sprintf("%x", p.clusterID))
	return nil
}

func (p *restorePlan) run() error {
	dbPath := filepath.Join(p.snapDir, "db")
	if err := copyDB(p.src, dbPath, p.skipHash); err != nil {
		return err
	}
	n := uint64(len(p.members))
	if err := p.rewriteDB(dbPath, n); err != nil {
		return err
	}
	return p.writeWALAndSnap(n)
}

// plan validates cfg as etcd validates a bootstrapping member's flags and
// derives the members and IDs.
func plan(cfg RestoreConfig) (*restorePlan, error) {
	if cfg.SnapshotPath == "" {
		return nil, errors.New("snapshot restore: no snapshot file given")
	}
	if cfg.RevisionBump > 0 && !cfg.MarkCompacted {
		return nil, errors.New("snapshot restore: --bump-revision requires --mark-compacted")
	}
	if cfg.MarkCompacted && cfg.RevisionBump == 0 {
		return nil, errors.New("snapshot restore: --mark-compacted requires --bump-revision > 0")
	}
	name := orDefault(cfg.Name, DefaultName)
	token := orDefault(cfg.InitialClusterToken, DefaultInitialClusterToken)
	peerStrs := cfg.PeerURLs
	if len(peerStrs) == 0 {
		peerStrs = []string{DefaultPeerURL}
	}
	peerURLs, err := parsePeerURLs(peerStrs)
	if err != nil {
		return nil, fmt.Errorf("snapshot restore: --initial-advertise-peer-urls: %w", err)
	}
	icStr := orDefault(cfg.InitialCluster, DefaultInitialCluster)
	ic, err := (&config.Config{InitialCluster: icStr}).InitialClusterMap()
	if err != nil {
		return nil, fmt.Errorf("snapshot restore: %w", err)
	}
	if err := verifyBootstrap(name, icStr, ic, peerURLs); err != nil {
		return nil, fmt.Errorf("snapshot restore: %w", err)
	}

	members := server.InitialMembers(ic, token)
	sort.Slice(members, func(i, j int) bool { return members[i].ID < members[j].ID })
	p := &restorePlan{
		lg:        cfg.Logger,
		src:       cfg.SnapshotPath,
		skipHash:  cfg.SkipHashCheck,
		bump:      cfg.RevisionBump,
		compacted: cfg.MarkCompacted,
		members:   members,
	}
	if p.lg == nil {
		p.lg = slog.New(slog.DiscardHandler)
	}
	ids := make([]uint64, len(members))
	for i, m := range members {
		if i > 0 && m.ID == members[i-1].ID {
			return nil, fmt.Errorf("snapshot restore: member %q has the same ID %x as another member", m.Name, m.ID)
		}
		ids[i] = m.ID
		if m.Name == name {
			p.self = m
		}
	}
	p.clusterID = server.ClusterID(ids)

	p.dataDir = orDefault(cfg.OutputDataDir, name+".etcd")
	p.snapDir = filepath.Join(p.dataDir, "member", "snap")
	p.walDir = orDefault(cfg.OutputWALDir, filepath.Join(p.dataDir, "member", "wal"))
	return p, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// parsePeerURLs parses advertised peer URLs like etcd, sorted and without
// duplicates.
func parsePeerURLs(ss []string) ([]string, error) {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		u, err := config.ParseURL(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		out = append(out, u.String())
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// verifyBootstrap applies etcd's bootstrap checks: the initial cluster is
// set, names this member with exactly its advertised peer URLs, and lists
// no URL twice.
func verifyBootstrap(name, icStr string, ic map[string][]url.URL, peerURLs []string) error {
	if len(ic) == 0 {
		return errors.New("initial cluster unset")
	}
	seen := map[string]bool{}
	for _, us := range ic {
		for _, u := range us {
			if seen[u.String()] {
				return fmt.Errorf("initial cluster %s has duplicate url", icStr)
			}
			seen[u.String()] = true
		}
	}
	us, ok := ic[name]
	if !ok {
		return fmt.Errorf("couldn't find local name %q in the initial cluster configuration", name)
	}
	var clusterURLs []string
	for _, u := range us {
		clusterURLs = append(clusterURLs, u.String())
	}
	sort.Strings(clusterURLs)
	if !slices.Equal(clusterURLs, peerURLs) {
		return fmt.Errorf("--initial-cluster has %s=%s but --initial-advertise-peer-urls is %s",
			name, strings.Join(clusterURLs, ","), strings.Join(peerURLs, ","))
	}
	return nil
}

// makeDirs checks that the data dir is absent or empty and the WAL dir (when
// given) absent, creates the snap dir, and returns a function that removes
// what was created.
func (p *restorePlan) makeDirs(customWAL bool) (undo func(), err error) {
	existed := false
	if entries, err := os.ReadDir(p.dataDir); err == nil {
		if len(entries) > 0 {
			return nil, fmt.Errorf("snapshot restore: data-dir %q not empty or could not be read", p.dataDir)
		}
		existed = true
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("snapshot restore: data-dir %q not empty or could not be read: %w", p.dataDir, err)
	}
	if customWAL {
		if _, err := os.Stat(p.walDir); err == nil {
			return nil, fmt.Errorf("snapshot restore: wal-dir %q exists", p.walDir)
		}
	}
	undo = func() {
		if existed {
			os.RemoveAll(filepath.Join(p.dataDir, "member"))
		} else {
			os.RemoveAll(p.dataDir)
		}
		if customWAL {
			os.RemoveAll(p.walDir)
		}
	}
	if err := os.MkdirAll(p.snapDir, 0o700); err != nil {
		undo()
		return nil, fmt.Errorf("snapshot restore: create snap dir: %w", err)
	}
	return undo, nil
}

// rewriteDB makes the copied database belong to the new cluster: it
// replaces the membership, applies the revision bump, and sets the
// consistent index and term to those of the WAL's last entry (n, 1).
func (p *restorePlan) rewriteDB(dbPath string, n uint64) (err error) {
	be, err := backend.New(backend.Config{Path: dbPath, Logger: p.lg})
	if err != nil {
		return fmt.Errorf("snapshot restore: open restored db: %w", err)
	}
	defer func() {
		if cerr := be.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("snapshot restore: close restored db: %w", cerr)
		}
	}()
	tx := be.BatchTx()
	tx.Lock()
	defer tx.Unlock()
	for _, b := range []backend.Bucket{schema.Key, schema.Meta, schema.Members, schema.MembersRemoved} {
		tx.UnsafeCreateBucket(b)
	}
	if err := trimMembership(tx); err != nil {
		return fmt.Errorf("snapshot restore: %w", err)
	}
	if p.compacted && p.bump > 0 {
		if err := p.bumpRevision(tx); err != nil {
			return fmt.Errorf("snapshot restore: %w", err)
		}
	}
	for _, m := range p.members {
		schema.UnsafeSaveMember(tx, &schema.Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs})
	}
	schema.UnsafeUpdateConsistentIndex(tx, n, restoreTerm)
	return nil
}

// trimMembership empties members and members_removed.
func trimMembership(tx backend.BatchTx) error {
	for _, b := range []backend.Bucket{schema.Members, schema.MembersRemoved} {
		var keys [][]byte
		if err := tx.UnsafeForEach(b, func(k, _ []byte) error {
			keys = append(keys, slices.Clone(k))
			return nil
		}); err != nil {
			return fmt.Errorf("trim %s: %w", b, err)
		}
		for _, k := range keys {
			tx.UnsafeDelete(b, k)
		}
	}
	return nil
}

// bumpRevision writes an empty value at revision (latest+bump, 0), which
// makes that the store's revision, and schedules a compaction there, as
// etcd's --bump-revision with --mark-compacted does.
func (p *restorePlan) bumpRevision(tx backend.BatchTx) error {
	var latest schema.Revision
	err := tx.UnsafeForEach(schema.Key, func(k, _ []byte) error {
		if len(k) < schema.RevBytesLen {
			return fmt.Errorf("bad revision key %x", k)
		}
		if rev := schema.BytesToRev(k); rev.GreaterThan(latest) {
			latest = rev
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("find latest revision: %w", err)
	}
	bumped := schema.Revision{Main: latest.Main + int64(p.bump)}
	p.lg.Info("bumping latest revision", "latest-revision", latest.Main, "bump-amount", p.bump, "new-latest-revision", bumped.Main)
	tx.UnsafePut(schema.Key, schema.RevToBytes(bumped, false), []byte{})
	p.lg.Info("marking revision compacted", "revision", bumped.Main)
	schema.UnsafeSetScheduledCompact(tx, bumped.Main)
	return nil
}

// writeWALAndSnap writes the WAL and the raft snapshot of the new cluster.
func (p *restorePlan) writeWALAndSnap(n uint64) error {
	md, err := marshalOpts.Marshal(&pb.Metadata{NodeID: proto.Uint64(p.self.ID), ClusterID: proto.Uint64(p.clusterID)})
	if err != nil {
		return fmt.Errorf("snapshot restore: marshal wal metadata: %w", err)
	}
	ents, voters, err := confChangeEntries(p.members)
	if err != nil {
		return fmt.Errorf("snapshot restore: %w", err)
	}
	w, err := wal.Create(p.lg, p.walDir, md)
	if err != nil {
		return fmt.Errorf("snapshot restore: create wal: %w", err)
	}
	defer w.Close()
	hs := &raftpb.HardState{Term: proto.Uint64(restoreTerm), Vote: proto.Uint64(p.members[0].ID), Commit: proto.Uint64(n)}
	if err := w.Save(hs, ents); err != nil {
		return fmt.Errorf("snapshot restore: write wal entries: %w", err)
	}
	data, err := v2store.MembershipJSON(p.members)
	if err != nil {
		return fmt.Errorf("snapshot restore: %w", err)
	}
	cs := func() *raftpb.ConfState { return &raftpb.ConfState{Voters: slices.Clone(voters)} }
	rs := &raftpb.Snapshot{
		Data:     data,
		Metadata: &raftpb.SnapshotMetadata{ConfState: cs(), Index: proto.Uint64(n), Term: proto.Uint64(restoreTerm)},
	}
	if err := snap.New(p.lg, p.snapDir).SaveSnap(rs); err != nil {
		return fmt.Errorf("snapshot restore: write snap file: %w", err)
	}
	if err := w.SaveSnapshot(wal.SnapshotMark{Index: n, Term: restoreTerm, ConfState: cs()}); err != nil {
		return fmt.Errorf("snapshot restore: write wal snapshot record: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("snapshot restore: close wal: %w", err)
	}
	return nil
}

// confChangeEntries returns one ConfChangeAddNode entry per member (term 1,
// indexes 1..n, context = the member's JSON) and the voter IDs, in member
// order.
func confChangeEntries(members []*server.Member) ([]*raftpb.Entry, []uint64, error) {
	ents := make([]*raftpb.Entry, len(members))
	voters := make([]uint64, len(members))
	for i, m := range members {
		cc := &raftpb.ConfChange{
			Type:    raftpb.ConfChangeType_ConfChangeAddNode.Enum(),
			NodeId:  proto.Uint64(m.ID),
			Context: schema.MarshalMember(&schema.Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs}),
		}
		d, err := marshalOpts.Marshal(cc)
		if err != nil {
			return nil, nil, fmt.Errorf("marshal conf change: %w", err)
		}
		ents[i] = &raftpb.Entry{
			Type:  raftpb.EntryType_EntryConfChange.Enum(),
			Term:  proto.Uint64(restoreTerm),
			Index: proto.Uint64(uint64(i + 1)),
			Data:  d,
		}
		voters[i] = m.ID
	}
	return ents, voters, nil
}
