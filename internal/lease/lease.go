// Package lease is etcd's lessor: it keeps the leases of a member, which keys
// are attached to which lease, and when each lease expires.
//
// Every member holds the same leases: grants, revokes and checkpoints arrive
// through raft and are applied in log order (Grant, Revoke, Checkpoint, and
// the key changes of KV writes through ApplyChanges). Only the primary lessor
// (the one on the raft leader) keeps time: after Promote it knows each
// lease's expiry, answers Renew, and reports expired leases on
// ExpiredLeasesC so that the server can propose their revocation through
// raft; every member then deletes the same keys at the same revision. A
// secondary lessor keeps every lease forever until it is promoted.
//
// Persistence: the lease bucket holds leasepb.Lease{ID, TTL, RemainingTTL}
// under the 8-byte big-endian ID, as etcd. Key attachments are not stored:
// Recover rebuilds them from the Lease field of the live keys.
//
// Files: lessor.go (the state and the applied operations), primary.go
// (Promote, Demote, Renew, the expiry and checkpoint loop), queue.go (the
// expiry and checkpoint queues), recover.go (loading from the backend),
// record.go (one lease).
package lease

import (
	"context"
	"errors"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdgo/etcd/internal/mvcc"
)

// Limits and defaults, as etcd's.
const (
	// NoLease is the ID of no lease.
	NoLease int64 = 0
	// MaxLeaseTTL is the largest TTL a lease may be granted, in seconds.
	MaxLeaseTTL = 9000000000
	// DefaultLeaseRevokeRate is how many expired leases may be revoked per
	// second.
	DefaultLeaseRevokeRate = 1000
	// DefaultCheckpointInterval is how often a long lease's remaining TTL is
	// checkpointed through raft (etcd's --experimental-lease-checkpoint-interval).
	DefaultCheckpointInterval = 5 * time.Minute
	// leaseCheckpointRate bounds checkpoint batches per second.
	leaseCheckpointRate = 1000
	// maxLeaseCheckpointBatchSize bounds the checkpoints of one request.
	maxLeaseCheckpointBatchSize = 1000
	// loopInterval is how often the primary looks for expired leases and due
	// checkpoints.
	loopInterval = 500 * time.Millisecond
)

// Errors of the lessor; the gRPC layer maps them to etcd's rpctypes.
var (
	ErrNotPrimary       = errors.New("not a primary lessor")
	ErrLeaseNotFound    = errors.New("lease not found")
	ErrLeaseExists      = errors.New("lease already exists")
	ErrLeaseTTLTooLarge = errors.New("too large lease TTL")
)

// Lessor is what the server needs of the lease state machine.
type Lessor interface {
	// Grant creates lease id with ttl seconds (raised to the minimum TTL).
	// It fails with ErrLeaseExists, ErrLeaseTTLTooLarge, or ErrLeaseNotFound
	// for id NoLease. Called by the apply path.
	Grant(id, ttl int64) (*Lease, error)
	// Revoke deletes the keys attached to lease id in one write txn (one
	// revision) and the lease from the lease bucket inside that same txn.
	// Called by the apply path.
	Revoke(id int64) error
	// Checkpoint records the remaining TTL of lease id (persisted, as etcd
	// v3.6+). Called by the apply path; unknown leases are ignored.
	Checkpoint(id, remainingTTL int64) error
	// RecoverKeys attaches the live keys of rv to their leases (after a
	// restart: attachments are not stored). Keys of unknown leases are
	// logged and left alone.
	RecoverKeys(ctx context.Context, rv KeyRanger) error
	// Recover replaces every lease and attachment with the backend's and
	// rv's, after the backend was replaced by a snapshot. A primary lessor
	// stays primary and its leases expire extend from now.
	Recover(ctx context.Context, rv KeyRanger, extend time.Duration) error
	// ApplyChanges attaches and detaches keys after a KV write txn: a put
	// moves the key to its lease (or to none), a delete detaches it.
	// Called by the apply path with the txn's changes in order.
	ApplyChanges(changes []*mvccpb.KeyValue)
	// LeaseExists reports whether lease id exists (the txn LeaseChecker).
	LeaseExists(id int64) bool

	// Renew restarts lease id's TTL and returns it; primary only
	// (ErrNotPrimary otherwise). An expired lease waits for its revocation
	// and gives ErrLeaseNotFound.
	Renew(ctx context.Context, id int64) (int64, error)
	// Lookup returns lease id, nil if unknown.
	Lookup(id int64) *Lease
	// Leases returns all leases, soonest expiry first.
	Leases() []*Lease

	// Promote makes this the primary lessor and extends every lease by
	// extend (the election timeout). Demote makes it secondary.
	Promote(extend time.Duration)
	Demote()
	// IsPrimary reports whether the lessor is primary.
	IsPrimary() bool

	// ExpiredLeasesC delivers batches of expired leases to revoke (primary
	// only, at most DefaultLeaseRevokeRate/2 per loop round).
	ExpiredLeasesC() <-chan []*Lease
	// Stop stops the loop.
	Stop()
}

// Checkpointer proposes a LeaseCheckpointRequest through raft.
type Checkpointer func(ctx context.Context, r *pb.LeaseCheckpointRequest) error

// TxnDelete is the part of a store write txn Revoke uses.
type TxnDelete interface {
	DeleteRange(key, end []byte) (n, rev int64)
	End()
}

// RangeDeleter opens a store write txn.
type RangeDeleter func() TxnDelete

// KeyRanger reads the live keys; mvcc's read views are KeyRangers.
type KeyRanger interface {
	Range(ctx context.Context, key, end []byte, ro mvcc.RangeOptions) (*mvcc.RangeResult, error)
}
