package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/failpoint"
	"github.com/etcdgo/etcd/internal/rafthttp"
	"github.com/etcdgo/etcd/internal/v2store"
)

// newTransport creates the peer transport of the member. New adds the peers
// known at start (the initial cluster when bootstrapping, the members of the
// backend when restarting); the apply path adds those conf changes bring.
func (s *Server) newTransport(snapDir string) *rafthttp.Transport {
	return rafthttp.New(rafthttp.Config{
		Logger:    s.lg,
		ID:        s.id,
		ClusterID: s.cluster.ID(),
		URLs:      s.cfg.PeerURLs,
		Raft:      s,
		Snapshots: &snapStore{dir: snapDir, be: s.be},
		OnRemoved: func() {
			s.lg.Warn("this member was removed from the cluster; stopping")
			s.removedSelf.Store(true)
			s.requestStop()
		},
		OnSent:     s.cfg.Hooks.PeerSent,
		OnReceived: s.cfg.Hooks.PeerReceived,
		OnRTT:      s.cfg.Hooks.PeerRTT,
	})
}

// raftSender is the Transport of the Ready loop: it brings the snapshots a
// leader sends up to date before they go out, as etcd does. Raft names its
// latest snapshot, which may predate members added since (a new member
// would ignore a snapshot whose configuration lacks it); the snapshot sent
// names the applied index, term and configuration instead, and the db
// streamed with it holds at least that state.
type raftSender struct{ s *Server }

func (rs raftSender) Send(msgs []*raftpb.Message) {
	for _, m := range msgs {
		if m.GetType() == raftpb.MessageType_MsgSnap {
			rs.s.mergeSnapshot(m)
		}
	}
	rs.s.transport.Send(msgs)
}

// mergeSnapshot replaces the snapshot of m by one of the applied state.
func (s *Server) mergeSnapshot(m *raftpb.Message) {
	s.applyMu.Lock()
	ci, term := s.consistIndex.Load(), s.consistTerm.Load()
	cs := proto.Clone(s.confState).(*raftpb.ConfState)
	members := s.cluster.Members()
	s.applyMu.Unlock()
	data, err := v2store.MembershipJSON(members)
	if err != nil {
		s.lg.Error("failed to encode the membership of a snapshot; sending raft's", "error", err)
		return
	}
	s.lg.Info("sending merged snapshot", "to", fmt.Sprintf("%x", m.GetTo()), "snapshot-index", ci,
		"raft-snapshot-index", m.GetSnapshot().GetMetadata().GetIndex())
	m.Snapshot = &raftpb.Snapshot{Data: data, Metadata: &raftpb.SnapshotMetadata{Index: proto.Uint64(ci), Term: proto.Uint64(term), ConfState: cs}}
}

// PeerHandler serves the peer protocol (the /raft paths) of the member.
func (s *Server) PeerHandler() http.Handler { return s.transport.Handler() }

// Process hands a message a peer sent to raft.
func (s *Server) Process(ctx context.Context, m *raftpb.Message) error {
	if s.IsIDRemoved(m.GetFrom()) {
		return fmt.Errorf("message from removed member %x", m.GetFrom())
	}
	if to := m.GetTo(); to != 0 && to != s.id {
		// Meant for a member that had this member's peer URLs before (one
		// removed and replaced, 2013-style -f): stepping it would confuse
		// raft (a commit index beyond this member's log).
		return fmt.Errorf("message to member %x, this is %x", to, s.id)
	}
	return s.r.Step(ctx, m)
}

// IsIDRemoved reports whether the member was removed from the cluster.
func (s *Server) IsIDRemoved(id uint64) bool { return s.cluster.isRemoved(id) }

// ReportUnreachable tells raft that a message to the member was lost.
func (s *Server) ReportUnreachable(id uint64) { s.r.ReportUnreachable(id) }

// ReportSnapshot tells raft how sending a snapshot to the member ended.
func (s *Server) ReportSnapshot(id uint64, status raft.SnapshotStatus) {
	s.r.ReportSnapshot(id, status)
}

// snapStore is the rafthttp.SnapshotStore of a member: outgoing snapshots
// stream the current backend, incoming ones land in
// <snapdir>/<index as %016x>.snap.db.
type snapStore struct {
	dir string
	be  backend.Backend
}

// Open streams a consistent copy of the backend. The copy is the state as of
// now, which covers at least the snapshot's index.
func (st *snapStore) Open(index uint64) (io.ReadCloser, int64, error) {
	failpoint.Hit("leaderBeforeSendSnapshot")
	sn := st.be.Snapshot()
	size := sn.Size()
	pr, pw := io.Pipe()
	go func() {
		defer sn.Close()
		_, err := sn.WriteTo(pw)
		failpoint.Hit("leaderAfterStreamSnapshot")
		pw.CloseWithError(err)
	}()
	return pr, size, nil
}

// Save writes the db to a temporary file, syncs it and renames it into place,
// so that only a complete db ever carries the final name.
func (st *snapStore) Save(index uint64, r io.Reader) (string, error) {
	path := filepath.Join(st.dir, fmt.Sprintf("%016x.snap.db", index))
	f, err := os.CreateTemp(st.dir, fmt.Sprintf("%016x.snap.db.*.tmp", index))
	if err != nil {
		return "", fmt.Errorf("create snapshot db: %w", err)
	}
	tmp := f.Name()
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("save snapshot db %016x: %w", index, err)
	}
	return path, nil
}
