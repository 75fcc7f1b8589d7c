// Package schema names etcd's bbolt buckets and meta keys and encodes the
// values stored in them exactly as etcd v3.5–v3.7 does, so that etcd can
// open our member/snap/db and we can open its.
//
// Layout (bucket: key → value):
//
//	key:             revision key (RevToBytes) → mvccpb.KeyValue (proto)
//	meta:            "consistent_index" → uint64 BE; "term" → uint64 BE (since 3.5)
//	                 "confState" → JSON of raftpb.ConfState (since 3.5)
//	                 "scheduledCompactRev", "finishedCompactRev" → revision key (17 bytes)
//	                 "storageVersion" → "3.6.0"/"3.7.0" (since 3.6; written once the
//	                 cluster version is known and above 3.0, as major.minor.0)
//	lease:           8-byte BE lease ID → leasepb.Lease (proto)
//	alarm:           etcdserverpb.AlarmMember (proto) → empty
//	cluster:         "clusterVersion" → "3.7.0"; "downgrade" → DowngradeInfo JSON
//	members:         member ID in lower-case hex, unpadded → member JSON
//	members_removed: member ID in hex → "removed"
//	auth:            "authEnabled" → {1} or {0}; "authRevision" → uint64 BE
//	authUsers:       user name → authpb.User (proto)
//	authRoles:       role name → authpb.Role (proto)
package schema

import (
	"github.com/etcdgo/etcd/internal/backend"
)

// Buckets, by etcd's names.
var (
	Key            = backend.Bucket{Name: []byte("key")}
	Meta           = backend.Bucket{Name: []byte("meta")}
	Lease          = backend.Bucket{Name: []byte("lease")}
	Alarm          = backend.Bucket{Name: []byte("alarm")}
	Cluster        = backend.Bucket{Name: []byte("cluster")}
	Members        = backend.Bucket{Name: []byte("members")}
	MembersRemoved = backend.Bucket{Name: []byte("members_removed")}
	Auth           = backend.Bucket{Name: []byte("auth")}
	AuthUsers      = backend.Bucket{Name: []byte("authUsers")}
	AuthRoles      = backend.Bucket{Name: []byte("authRoles")}
	Test           = backend.Bucket{Name: []byte("test")}
)

// Keys of the meta, cluster and auth buckets.
var (
	MetaConsistentIndexKeyName   = []byte("consistent_index")
	MetaTermKeyName              = []byte("term")
	MetaConfStateName            = []byte("confState")
	ScheduledCompactKeyName      = []byte("scheduledCompactRev")
	FinishedCompactKeyName       = []byte("finishedCompactRev")
	MetaStorageVersionName       = []byte("storageVersion")
	ClusterClusterVersionKeyName = []byte("clusterVersion")
	ClusterDowngradeKeyName      = []byte("downgrade")
	AuthEnabledKeyName           = []byte("authEnabled")
	AuthRevisionKeyName          = []byte("authRevision")
)

// AllBuckets lists the buckets etcd creates when it starts (Test excluded).
var AllBuckets = []backend.Bucket{
	Key, Meta, Lease, Alarm, Cluster, Members, MembersRemoved, Auth, AuthUsers, AuthRoles,
}

// CreateBuckets creates the buckets etcd creates at start (mvcc: key, meta;
// lessor: lease; alarms: alarm; membership: members, members_removed,
// cluster; auth: auth, authUsers, authRoles). The caller holds the lock.
func CreateBuckets(tx backend.BatchTx) {
	for _, b := range AllBuckets {
		tx.UnsafeCreateBucket(b)
	}
}

// IgnoredInHash reports whether etcd's hash checks skip bucket/key: the
// meta keys term, consistent_index and storageVersion.
func IgnoredInHash(bucket, key []byte) bool {
	if string(bucket) != string(Meta.Name) {
		return false
	}
	switch string(key) {
	case string(MetaTermKeyName), string(MetaConsistentIndexKeyName), string(MetaStorageVersionName):
		return true
	}
	return false
}
