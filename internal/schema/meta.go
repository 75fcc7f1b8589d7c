package schema

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdgo/etcd/internal/backend"
)

func getOne(tx backend.UnsafeReader, b backend.Bucket, key []byte) ([]byte, bool) {
	_, vs := tx.UnsafeRange(b, key, nil, 0)
	if len(vs) == 0 {
		return nil, false
	}
	return vs[0], true
}

func putUint64(tx backend.UnsafeWriter, b backend.Bucket, key []byte, v uint64) {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], v)
	tx.UnsafePut(b, key, buf[:])
}

func readUint64(tx backend.UnsafeReader, b backend.Bucket, key []byte) (uint64, bool) {
	v, ok := getOne(tx, b, key)
	if !ok || len(v) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(v), true
}

// UnsafeReadConsistentIndex returns the consistent index and term stored in
// meta (0 when absent; term is stored since 3.5).
func UnsafeReadConsistentIndex(tx backend.UnsafeReader) (index, term uint64) {
	index, ok := readUint64(tx, Meta, MetaConsistentIndexKeyName)
	if !ok {
		return 0, 0
	}
	term, _ = readUint64(tx, Meta, MetaTermKeyName)
	return index, term
}

// UnsafeUpdateConsistentIndex stores index and term like etcd: an index of 0
// is never stored (it means "not loaded yet"), nor is a term of 0.
func UnsafeUpdateConsistentIndex(tx backend.UnsafeWriter, index, term uint64) {
	if index == 0 {
		return
	}
	putUint64(tx, Meta, MetaConsistentIndexKeyName, index)
	if term > 0 {
		putUint64(tx, Meta, MetaTermKeyName, term)
	}
}

// UnsafeReadConfState returns the stored ConfState, or nil if none (a
// backend written by etcd before 3.5) or it does not parse.
func UnsafeReadConfState(tx backend.UnsafeReader) *raftpb.ConfState {
	v, ok := getOne(tx, Meta, MetaConfStateName)
	if !ok {
		return nil
	}
	cs := &raftpb.ConfState{}
	if err := json.Unmarshal(v, cs); err != nil {
		return nil
	}
	return cs
}

// MarshalConfState encodes cs as etcd stores it: encoding/json of the raftpb
// struct (field names voters, learners, voters_outgoing, learners_next,
// auto_leave, empty ones omitted).
func MarshalConfState(cs *raftpb.ConfState) []byte {
	b, err := json.Marshal(cs)
	if err != nil {
		panic(fmt.Sprintf("schema: marshal conf state: %v", err))
	}
	return b
}

// UnsafeSaveConfState stores cs.
func UnsafeSaveConfState(tx backend.UnsafeWriter, cs *raftpb.ConfState) {
	tx.UnsafePut(Meta, MetaConfStateName, MarshalConfState(cs))
}

func readRevKey(tx backend.UnsafeReader, key []byte) (int64, bool) {
	v, ok := getOne(tx, Meta, key)
	if !ok || len(v) < RevBytesLen {
		return 0, false
	}
	return BytesToRev(v).Main, true
}

// UnsafeReadScheduledCompact returns the revision of the last scheduled
// compaction.
func UnsafeReadScheduledCompact(tx backend.UnsafeReader) (rev int64, found bool) {
	return readRevKey(tx, ScheduledCompactKeyName)
}

// UnsafeSetScheduledCompact records a scheduled compaction (as a 17-byte
// revision key with sub 0).
func UnsafeSetScheduledCompact(tx backend.UnsafeWriter, rev int64) {
	tx.UnsafePut(Meta, ScheduledCompactKeyName, RevToBytes(Revision{Main: rev}, false))
}

// UnsafeReadFinishedCompact returns the revision of the last finished
// compaction.
func UnsafeReadFinishedCompact(tx backend.UnsafeReader) (rev int64, found bool) {
	return readRevKey(tx, FinishedCompactKeyName)
}

// UnsafeSetFinishedCompact records a finished compaction.
func UnsafeSetFinishedCompact(tx backend.UnsafeWriter, rev int64) {
	tx.UnsafePut(Meta, FinishedCompactKeyName, RevToBytes(Revision{Main: rev}, false))
}

// UnsafeReadStorageVersion returns the storage version ("3.6.0"), or "" when
// absent or not a version (etcd writes "" transiently while migrating).
func UnsafeReadStorageVersion(tx backend.UnsafeReader) string {
	v, ok := getOne(tx, Meta, MetaStorageVersionName)
	if !ok {
		return ""
	}
	if _, _, err := parseMajorMinor(string(v)); err != nil {
		return ""
	}
	return string(v)
}

// UnsafeSetStorageVersion stores the storage version as etcd does:
// major.minor.0 ("3.7.2" and "3.7" are stored as "3.7.0"). It panics on a
// string that is not a version.
func UnsafeSetStorageVersion(tx backend.UnsafeWriter, v string) {
	major, minor, err := parseMajorMinor(v)
	if err != nil {
		panic(fmt.Sprintf("schema: storage version: %v", err))
	}
	tx.UnsafePut(Meta, MetaStorageVersionName, []byte(fmt.Sprintf("%d.%d.0", major, minor)))
}

// UnsafeClearStorageVersion removes the storage version (downgrade to 3.5).
func UnsafeClearStorageVersion(tx backend.UnsafeWriter) {
	tx.UnsafeDelete(Meta, MetaStorageVersionName)
}

// parseMajorMinor parses "X.Y" or "X.Y.Z[-pre][+build]".
func parseMajorMinor(v string) (major, minor int, err error) {
	core := v
	if i := strings.IndexAny(core, "-+"); i >= 0 {
		core = core[:i]
	}
	parts := strings.Split(core, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, fmt.Errorf("invalid version %q", v)
	}
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, 0, fmt.Errorf("invalid version %q", v)
		}
		nums[i] = n
	}
	return nums[0], nums[1], nil
}

// UnsafeReadAuthEnabled reports whether auth is enabled (auth/authEnabled
// == {1}).
func UnsafeReadAuthEnabled(tx backend.UnsafeReader) bool {
	v, ok := getOne(tx, Auth, AuthEnabledKeyName)
	return ok && len(v) == 1 && v[0] == 1
}

// UnsafeSaveAuthEnabled stores {1} or {0} under auth/authEnabled.
func UnsafeSaveAuthEnabled(tx backend.UnsafeWriter, enabled bool) {
	v := []byte{0}
	if enabled {
		v[0] = 1
	}
	tx.UnsafePut(Auth, AuthEnabledKeyName, v)
}

// UnsafeReadAuthRevision returns auth/authRevision (0 when absent).
func UnsafeReadAuthRevision(tx backend.UnsafeReader) uint64 {
	v, _ := readUint64(tx, Auth, AuthRevisionKeyName)
	return v
}

// UnsafeSaveAuthRevision stores auth/authRevision as 8 bytes big-endian.
func UnsafeSaveAuthRevision(tx backend.UnsafeWriter, rev uint64) {
	putUint64(tx, Auth, AuthRevisionKeyName, rev)
}
