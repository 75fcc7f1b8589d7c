// Package snapshot works with v3 backend snapshot files offline, as etcdutl
// does: Restore turns a snapshot into a fresh member data dir, FileStatus
// reports what `etcdutl snapshot status` reports.
//
// A snapshot file is a bbolt database, the member's member/snap/db, as
// Maintenance.Snapshot streams it, optionally followed by the 32-byte SHA-256
// of the preceding bytes. The trailer is present exactly when the file size
// modulo 512 is 32 (a bbolt file is a whole number of pages, so without the
// trailer the size is a multiple of 512).
//
// Restore lays the data dir out as etcdutl v3.6/v3.7 does:
//
//   - member/snap/db: the snapshot's database with the members and
//     members_removed buckets emptied and refilled from the new initial
//     cluster, and meta's consistent_index/term set to (n, 1), where n is the
//     number of members;
//   - member/wal: a WAL whose metadata is {NodeID, ClusterID}, holding one
//     ConfChangeAddNode entry per member (term 1, indexes 1..n, ordered by
//     member ID, context = the member's JSON), the HardState {term 1, vote =
//     the lowest member ID, commit n} and a snapshot record at (n, 1) with
//     the voters' ConfState;
//   - member/snap/<term>-<index>.snap: the raft snapshot at (n, 1), whose data
//     is the v2 store JSON holding only the membership, as etcd writes it.
//
// Member and cluster IDs are derived from the initial cluster and token
// exactly as a member bootstrapping that cluster derives them
// (server.InitialMembers), so every member restored with the same flags
// agrees on them.
package snapshot

import (
	"crypto/sha256"
	"log/slog"
)

// Defaults applied to empty RestoreConfig fields; they are etcdutl's flag
// defaults.
const (
	DefaultName                = "default"
	DefaultPeerURL             = "http://localhost:2380"
	DefaultInitialCluster      = DefaultName + "=" + DefaultPeerURL
	DefaultInitialClusterToken = "etcd-cluster"
)

// RestoreConfig configures Restore. It mirrors etcdutl's snapshot restore
// flags.
type RestoreConfig struct {
	// SnapshotPath is the snapshot file to restore from.
	SnapshotPath string
	// Name is --name; empty means DefaultName.
	Name string
	// OutputDataDir is --data-dir: it must not exist or be empty. Empty
	// means "<Name>.etcd".
	OutputDataDir string
	// OutputWALDir is --wal-dir: it must not exist. Empty means
	// <OutputDataDir>/member/wal.
	OutputWALDir string
	// PeerURLs is --initial-advertise-peer-urls; empty means DefaultPeerURL.
	PeerURLs []string
	// InitialCluster is --initial-cluster ("name=url,name=url,..."); empty
	// means DefaultInitialCluster.
	InitialCluster string
	// InitialClusterToken is --initial-cluster-token; empty means
	// DefaultInitialClusterToken.
	InitialClusterToken string
	// SkipHashCheck is --skip-hash-check: accept a file without (or with a
	// wrong) SHA-256 trailer, such as a copy of member/snap/db.
	SkipHashCheck bool
	// RevisionBump is --bump-revision: raise the latest revision by this
	// much. It requires MarkCompacted.
	RevisionBump uint64
	// MarkCompacted is --mark-compacted: schedule a compaction at the bumped
	// revision, so that every revision before it reads as compacted. It
	// requires RevisionBump > 0.
	MarkCompacted bool
	// Logger; nil discards.
	Logger *slog.Logger
}

// Status is what `etcdutl snapshot status` reports about a snapshot file.
type Status struct {
	// Hash is the CRC-32C (Castagnoli) of every bucket name followed by its
	// keys and values, buckets and keys in bbolt order. It covers the whole
	// database, unlike Maintenance.HashKV.
	Hash uint32 `json:"hash"`
	// Revision is the main revision of the last key of the "key" bucket.
	Revision int64 `json:"revision"`
	// TotalKey counts the keys that exist at the latest revision, as
	// etcdutl v3.7 does.
	TotalKey int `json:"totalKey"`
	// TotalSize is the database size in bytes (without a hash trailer).
	TotalSize int64 `json:"totalSize"`
	// Version is meta's storageVersion ("3.6.0"), empty before etcd 3.6.
	Version string `json:"version"`
}

// hasChecksum reports whether a file of n bytes carries a SHA-256 trailer.
// 512 is the smallest disk sector size, and divides every bbolt page size.
func hasChecksum(n int64) bool { return n%512 == sha256.Size }
