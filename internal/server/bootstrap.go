package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/mvcc"
	"github.com/etcdgo/etcd/internal/raftnode"
	"github.com/etcdgo/etcd/internal/schema"
	"github.com/etcdgo/etcd/internal/snap"
	"github.com/etcdgo/etcd/internal/wal"
)

// New opens the member's data dir and prepares raft, the WAL and the store:
// a data dir with a WAL restarts the member it belongs to (the initial
// cluster flags are then ignored); an empty one bootstraps a new member.
// Call Start to run it.
func New(ctx context.Context, cfg Config) (*Server, error) {
	lg := cfg.Logger
	memberDir := filepath.Join(cfg.DataDir, "member")
	walDir := cfg.WALDir
	if walDir == "" {
		walDir = filepath.Join(memberDir, "wal")
	}
	snapDir := filepath.Join(memberDir, "snap")
	if err := os.MkdirAll(snapDir, 0o700); err != nil {
		return nil, fmt.Errorf("create snapshot dir: %w", err)
	}

	s := &Server{
		cfg:       cfg,
		lg:        lg,
		w:         newWaitRegistry(),
		readwaitc: make(chan struct{}, 1),
		readyc:    make(chan struct{}),
		stopping:  make(chan struct{}),
		stopReq:   make(chan struct{}),
		done:      make(chan struct{}),
	}
	s.readNotifier = newNotifier()

	be, err := backend.New(backend.Config{
		Path:          filepath.Join(snapDir, "db"),
		BatchInterval: cfg.BackendBatchInterval,
		BatchLimit:    cfg.BackendBatchLimit,
		Logger:        lg,
		PreCommit: func(tx backend.UnsafeWriter) {
			schema.UnsafeUpdateConsistentIndex(tx, s.consistIndex.Load(), s.consistTerm.Load())
		},
		CommitGate:    &s.applyMu,
		UnsafeNoFsync: cfg.UnsafeNoFsync,
		OnCommit:      cfg.Hooks.BackendCommit,
	})
	if err != nil {
		return nil, fmt.Errorf("open backend: %w", err)
	}
	s.be = be
	tx := be.BatchTx()
	tx.Lock()
	schema.CreateBuckets(tx)
	ci, term := schema.UnsafeReadConsistentIndex(tx)
	tx.Unlock()
	s.consistIndex.Store(ci)
	s.consistTerm.Store(term)

	var node raft.Node
	if wal.Exist(walDir) {
		node, err = s.restart(ctx, walDir, snapDir)
	} else if len(cfg.JoinPeers) > 0 {
		node, err = s.bootstrapJoin(ctx, walDir, snapDir)
	} else {
		node, err = s.bootstrapNew(walDir, snapDir)
	}
	if err != nil {
		be.Close()
		return nil, err
	}
	s.storage.w.SetSyncObserver(cfg.Hooks.WALFsync)
	s.kv = s.newWatchableStore(lg, be, mvcc.StoreConfig{
		CompactionBatchLimit:    cfg.CompactionBatchLimit,
		CompactionSleepInterval: cfg.CompactionSleepInterval,
	})
	if err := s.newLessor(ctx); err != nil {
		s.kv.Close()
		be.Close()
		return nil, fmt.Errorf("open lessor: %w", err)
	}
	if err := s.openMaintenance(ctx); err != nil {
		s.lessor.Stop()
		s.kv.Close()
		s.storage.Close()
		be.Close()
		return nil, err
	}
	s.loadStorageVersion()
	s.applyWait = newIndexWaiter(s.consistIndex.Load())
	s.reqIDs = newIDGenerator(s.id, time.Now())
	peers := s.cluster.Members()
	switch {
	case s.joinPeers != nil:
		// Joining: the member set comes with the log, but raft must reach
		// the members from the start.
		peers = s.joinPeers
	case len(peers) == 0:
		// Bootstrapping: the members join the cluster through the first
		// conf changes, but raft must reach them from the start.
		peers = InitialMembers(cfg.InitialCluster, cfg.InitialClusterToken)
	}
	// The transport delivers to s.r, so it starts talking only once s.r is
	// set (AddPeer starts the peers' goroutines).
	s.transport = s.newTransport(snapDir)
	s.r = raftnode.New(raftnode.Config{
		Logger:       lg,
		Node:         node,
		RaftStorage:  s.raftStorage,
		Storage:      s.storage,
		Transport:    raftSender{s},
		TickInterval: cfg.TickInterval,
		ID:           s.id,
	})
	for _, m := range peers {
		if m.ID != s.id {
			s.transport.AddPeer(m.ID, m.PeerURLs)
		}
	}
	return s, nil
}

func (s *Server) raftConfig(id uint64, st raft.Storage) *raft.Config {
	return &raft.Config{
		ID:              id,
		ElectionTick:    s.cfg.ElectionTicks,
		HeartbeatTick:   1,
		Storage:         st,
		MaxSizePerMsg:   1 << 20,
		MaxInflightMsgs: 512,
		// Bounds the proposals a leader accepts ahead of the log.
		MaxUncommittedEntriesSize: 1 << 30,
		CheckQuorum:               true,
		PreVote:                   true,
		Logger:                    raftnode.Logger{L: s.lg},
	}
}

// bootstrapNew starts a member of a new cluster from --initial-cluster.
func (s *Server) bootstrapNew(walDir, snapDir string) (raft.Node, error) {
	if s.cfg.InitialClusterState == "existing" {
		return s.bootstrapExisting(walDir, snapDir)
	}
	members := InitialMembers(s.cfg.InitialCluster, s.cfg.InitialClusterToken)
	var self *Member
	ids := make([]uint64, 0, len(members))
	for _, m := range members {
		ids = append(ids, m.ID)
		if m.Name == s.cfg.Name {
			self = m
		}
	}
	if self == nil {
		return nil, fmt.Errorf("couldn't find local name %q in the initial cluster configuration", s.cfg.Name)
	}
	s.id = self.ID
	s.cluster = newCluster(ClusterID(ids))

	if err := s.createWAL(walDir, snapDir); err != nil {
		return nil, err
	}

	peers := make([]raft.Peer, 0, len(members))
	for _, m := range members {
		peers = append(peers, raft.Peer{ID: m.ID, Context: schema.MarshalMember(m)})
	}
	s.singleVoter = len(s.confState.GetVoters()) == 1
	s.lg.Info("starting local member", "local-member-id", fmt.Sprintf("%x", s.id),
		"cluster-id", fmt.Sprintf("%x", s.cluster.ID()))
	return raft.StartNode(s.raftConfig(s.id, s.raftStorage), peers), nil
}

// createWAL creates the WAL of a new member, naming the member and its
// cluster in its metadata, and an empty raft log.
func (s *Server) createWAL(walDir, snapDir string) error {
	md, err := proto.Marshal(&pb.Metadata{NodeID: proto.Uint64(s.id), ClusterID: proto.Uint64(s.cluster.ID())})
	if err != nil {
		return fmt.Errorf("marshal wal metadata: %w", err)
	}
	w, err := wal.Create(s.lg, walDir, md)
	if err != nil {
		return fmt.Errorf("create wal: %w", err)
	}
	s.storage = &diskStorage{w: w, s: snap.New(s.lg, snapDir), walDir: walDir, snapDir: snapDir}
	s.raftStorage = raft.NewMemoryStorage()
	s.confState = &raftpb.ConfState{}
	return nil
}

// bootstrapExisting starts a member that was added to a running cluster
// (--initial-cluster-state=existing): it reads the cluster's ID and members
// from the other members' peer URLs, checks them against --initial-cluster
// and takes its ID from the cluster. Raft starts empty; the leader sends the
// log (or a snapshot), whose conf changes build the member set.
func (s *Server) bootstrapExisting(walDir, snapDir string) (raft.Node, error) {
	local := InitialMembers(s.cfg.InitialCluster, s.cfg.InitialClusterToken)
	var self *Member
	var urls []string
	for _, m := range local {
		if m.Name == s.cfg.Name {
			self = m
			continue
		}
		urls = append(urls, m.PeerURLs...)
	}
	if self == nil {
		return nil, fmt.Errorf("couldn't find local name %q in the initial cluster configuration", s.cfg.Name)
	}
	var (
		cid     uint64
		remote  []*Member
		lastErr error
	)
	for _, u := range urls {
		cid, remote, lastErr = fetchMembers(context.Background(), u)
		if lastErr == nil {
			break
		}
		s.lg.Warn("failed to get cluster information from a peer", "remote-peer-url", u, "error", lastErr)
	}
	if lastErr != nil || len(urls) == 0 {
		return nil, fmt.Errorf("cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs")
	}
	if len(remote) != len(local) {
		return nil, fmt.Errorf("member count is unequal: --initial-cluster names %d members, the cluster has %d", len(local), len(remote))
	}
	for _, l := range local {
		i := slices.IndexFunc(remote, func(r *Member) bool {
			return slices.Equal(sortedCopy(r.PeerURLs), l.PeerURLs)
		})
		if i < 0 {
			return nil, fmt.Errorf("unmatched member while checking PeerURLs (%q is not a member of the cluster)", l.PeerURLs)
		}
		if l == self {
			s.id = remote[i].ID
		}
	}
	return s.startJoined(walDir, snapDir, s.id, cid, remote)
}

func sortedCopy(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return out
}

// confStateOf is the raft configuration of a member set.
func confStateOf(members map[uint64]*Member) *raftpb.ConfState {
	cs := &raftpb.ConfState{}
	for id, m := range members {
		if m.IsLearner {
			cs.Learners = append(cs.Learners, id)
		} else {
			cs.Voters = append(cs.Voters, id)
		}
	}
	slices.Sort(cs.Voters)
	slices.Sort(cs.Learners)
	return cs
}

// restart brings a member back from its WAL, its newest usable snapshot and
// its backend. Committed entries the backend already holds are replayed to
// raft but skipped by the apply path (their index is at most the backend's
// consistent index).
func (s *Server) restart(ctx context.Context, walDir, snapDir string) (raft.Node, error) {
	ss := snap.New(s.lg, snapDir)
	walSnaps, err := wal.ValidSnapshotEntries(s.lg, walDir)
	if err != nil {
		return nil, fmt.Errorf("read wal snapshot records: %w", err)
	}
	sn, err := ss.LoadNewestAvailable(walSnaps)
	if err != nil && !errors.Is(err, snap.ErrNoSnapshot) {
		return nil, fmt.Errorf("load snapshot: %w", err)
	}
	mark := wal.SnapshotMark{}
	if sn != nil {
		md := sn.GetMetadata()
		mark = wal.SnapshotMark{Index: md.GetIndex(), Term: md.GetTerm(), ConfState: md.GetConfState()}
		if ci := s.consistIndex.Load(); ci < md.GetIndex() {
			if err := s.recoverSnapshotBackend(snapDir, md.GetIndex()); err != nil {
				return nil, err
			}
		}
	}
	w, err := wal.Open(s.lg, walDir, mark)
	if err != nil {
		return nil, fmt.Errorf("open wal: %w", err)
	}
	meta, hs, ents, err := w.ReadAll()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("read wal: %w", err)
	}
	var md pb.Metadata
	if err := proto.Unmarshal(meta, &md); err != nil {
		w.Close()
		return nil, fmt.Errorf("decode wal metadata: %w", err)
	}
	s.id = md.GetNodeID()
	s.cluster = newCluster(md.GetClusterID())
	s.storage = &diskStorage{w: w, s: ss, walDir: walDir, snapDir: snapDir}

	tx := s.be.BatchTx()
	tx.Lock()
	members, removed, err := schema.UnsafeReadMembers(tx)
	tx.Unlock()
	if err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	for _, m := range members {
		s.cluster.add(m)
	}
	for id := range removed {
		s.cluster.removed[id] = true
	}

	// Raft starts from the configuration of the backend, which holds every
	// entry up to its consistent index: the apply path skips the conf
	// changes of replayed entries, as etcd does.
	if sn == nil {
		sn = &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{}}
	} else {
		s.snapshotIndex = sn.GetMetadata().GetIndex()
	}
	s.confState = confStateOf(members)
	sn.GetMetadata().ConfState = s.confState
	s.raftStorage = raft.NewMemoryStorage()
	if err := s.raftStorage.ApplySnapshot(sn); err != nil {
		return nil, fmt.Errorf("apply snapshot to raft log: %w", err)
	}
	if hs != nil {
		if err := s.raftStorage.SetHardState(hs); err != nil {
			return nil, fmt.Errorf("set hard state: %w", err)
		}
	}
	if err := s.raftStorage.Append(ents); err != nil {
		return nil, fmt.Errorf("append wal entries: %w", err)
	}

	s.singleVoter = len(s.confState.GetVoters()) == 1
	s.lg.Info("restarting local member", "local-member-id", fmt.Sprintf("%x", s.id),
		"cluster-id", fmt.Sprintf("%x", s.cluster.ID()), "commit-index", hs.GetCommit(),
		"consistent-index", s.consistIndex.Load())
	_ = ctx
	return raft.RestartNode(s.raftConfig(s.id, s.raftStorage)), nil
}
