// Package rafthttp carries raft messages between the members of a cluster over
// HTTP, speaking etcd's own peer protocol (etcd's rafthttp) so that a member of
// ours and an official etcd member can talk to each other.
//
// # Protocol
//
// Every request carries X-Server-From (sender ID, hex), X-Server-Version,
// X-Min-Cluster-Version, X-Etcd-Cluster-ID (hex) and, when known,
// X-PeerURLs. A request of another cluster ID is refused with 412 and the
// body "cluster ID mismatch"; a peer whose versions do not fit ours with 412
// and "incompatible version".
//
//   - Streams. The messages from member A to member B travel in the response
//     body of a long-lived GET /raft/stream/message/<B> that B sends to A
//     (header X-Raft-To: A). A answers 200 and then writes frames: an 8-byte
//     big-endian length followed by the marshaled raftpb.Message, flushed in
//     batches. Every ReadTimeout/3 A writes a link heartbeat (a MsgHeartbeat
//     with From and To zero) that B drops; B closes a stream that stays silent
//     for ReadTimeout and dials again with a bounded, jittered backoff. A
//     stream from a removed member is refused with 410 ("removed member"), one
//     from a member we do not know with 404. etcd also dials
//     /raft/stream/msgapp/<B> (its msgappv2 encoding); we accept it and send
//     only msgappv2 link heartbeats (a single 0x00 byte) on it, so an etcd
//     peer sends everything to us on the message stream. We never dial
//     msgapp ourselves.
//   - Pipeline. While no stream to the peer is attached, messages are POSTed
//     one by one to /raft (body: the marshaled message). The receiver answers
//     204 after Raft.Process returned, 403 for a removed sender.
//   - Snapshots. A MsgSnap is POSTed to /raft/snapshot: the length-prefixed
//     message (as on a stream) followed by the backend db, chunked. Our
//     sender declares the trailer X-Etcd-Snapshot-Sha256 and sends the hex
//     SHA-256 of the db in it; a receiver finding a declared trailer that does
//     not match refuses the snapshot before the store keeps it (400). etcd
//     sends no trailer (then nothing is verified beyond the framing) and
//     ignores ours. The db is stored with SnapshotStore.Save before
//     Raft.Process sees the message; the answer is 204 once Process returned.
//
// A 410 on a stream or a 403 on a POST tells the sender that it was removed
// from the cluster: Config.OnRemoved is called once.
package rafthttp

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Raft is what the transport delivers to.
type Raft interface {
	// Process hands a received message to raft.
	Process(ctx context.Context, m *raftpb.Message) error
	// IsIDRemoved reports whether the member was removed from the cluster.
	IsIDRemoved(id uint64) bool
	// ReportUnreachable tells raft that a message to the member was lost.
	ReportUnreachable(id uint64)
	// ReportSnapshot tells raft how sending a snapshot to the member ended.
	ReportSnapshot(id uint64, status raft.SnapshotStatus)
}

// SnapshotStore holds the backend db files that travel with MsgSnap.
type SnapshotStore interface {
	// Open returns the db belonging to the snapshot at index (an outgoing
	// MsgSnap) and its size.
	Open(index uint64) (io.ReadCloser, int64, error)
	// Save stores an incoming db for the snapshot at index and returns its
	// path (etcd writes <snapdir>/<index as %016x>.snap.db). It must read r to
	// its end and must not keep the file when reading r fails: the checksum is
	// checked at the end of r.
	Save(index uint64, r io.Reader) (string, error)
}

// Config is what New needs. Zero durations and sizes take the defaults.
type Config struct {
	Logger *slog.Logger
	// ID and ClusterID are this member's.
	ID, ClusterID uint64
	// URLs are this member's peer URLs, advertised in X-PeerURLs.
	URLs []string
	// Raft receives the messages.
	Raft Raft
	// Snapshots is where an incoming snapshot's db is saved before the
	// message is delivered, and where an outgoing MsgSnap's db comes from.
	Snapshots SnapshotStore
	// DialTimeout bounds connecting to a peer (default 1s).
	DialTimeout time.Duration
	// ReadTimeout closes a stream that brought nothing, not even a link
	// heartbeat, for this long (default 5s); heartbeats go every third of it.
	ReadTimeout time.Duration
	// WriteTimeout bounds one write to a peer (default 5s).
	WriteTimeout time.Duration
	// PipelineTimeout bounds one POST /raft (default 5s).
	PipelineTimeout time.Duration
	// StreamQueueSize is the per-peer queue of the stream writer (default 4096).
	StreamQueueSize int
	// PipelineQueueSize is the per-peer queue of the pipeline (default 64).
	PipelineQueueSize int
	// RecvQueueSize is the per-peer queue between the stream reader and
	// Raft.Process, for proposals and for other messages each (default 4096).
	RecvQueueSize int
	// MaxMessageSize refuses larger messages (default 512 MiB, etcd's limit).
	MaxMessageSize uint64
	// SnapshotStallTimeout fails a snapshot send when the db makes no
	// progress, or the receiver does not answer after the db was sent, for
	// this long (default 2m).
	SnapshotStallTimeout time.Duration
	// TLS, when set, is the client TLS config for https peer URLs.
	TLS *tls.Config
	// OnRemoved is called once when a peer says this member was removed.
	OnRemoved func()
	// OnSent and OnReceived, when set, get the size of every raft message
	// sent to or received from a peer (etcd's peer_sent_bytes_total and
	// peer_received_bytes_total).
	OnSent, OnReceived func(peer uint64, bytes int)
	// OnRTT, when set, gets the round trip time of every probe of a peer's
	// /raft/probing (etcd's peer_round_trip_time_seconds); peers are probed
	// every ProbeInterval (default 4s) only when it is set.
	OnRTT         func(peer uint64, rtt time.Duration)
	ProbeInterval time.Duration
}

// Errors a send to a peer can end with.
var (
	ErrClusterIDMismatch   = errors.New("cluster ID mismatch")
	ErrIncompatibleVersion = errors.New("incompatible version")
	ErrMemberRemoved       = errors.New("the member has been permanently removed from the cluster")
	ErrChecksumMismatch    = errors.New("snapshot checksum mismatch")
	ErrTooLarge            = errors.New("raft message exceeds the size limit")
)

const (
	defaultDialTimeout     = time.Second
	defaultReadTimeout     = 5 * time.Second
	defaultWriteTimeout    = 5 * time.Second
	defaultPipelineTimeout = 5 * time.Second
	defaultSnapshotStall   = 2 * time.Minute
	defaultStreamQueue     = 4096
	defaultPipelineQueue   = 64
	defaultRecvQueue       = 4096
	defaultMaxMessageSize  = 512 * 1024 * 1024
	pipelineWorkers        = 4

	pathRaft          = "/raft"
	pathStream        = "/raft/stream/"
	pathStreamMessage = "/raft/stream/message/"
	pathStreamMsgApp  = "/raft/stream/msgapp/"
	pathSnapshot      = "/raft/snapshot"

	hdrFrom           = "X-Server-From"
	hdrVersion        = "X-Server-Version"
	hdrMinCluster     = "X-Min-Cluster-Version"
	hdrClusterID      = "X-Etcd-Cluster-ID"
	hdrTo             = "X-Raft-To"
	hdrPeerURLs       = "X-PeerURLs"
	trailerSnapSHA256 = "X-Etcd-Snapshot-Sha256"
)
