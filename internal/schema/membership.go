package schema

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/etcdgo/etcd/internal/backend"
)

// memberRemovedValue is what etcd stores in members_removed.
var memberRemovedValue = []byte("removed")

// Member is a cluster member as etcd stores it.
type Member struct {
	ID         uint64
	Name       string
	PeerURLs   []string
	ClientURLs []string
	IsLearner  bool
}

// memberJSON mirrors etcd's membership.Member JSON: the ID as a number,
// then the embedded RaftAttributes and Attributes fields.
type memberJSON struct {
	ID         uint64   `json:"id"`
	PeerURLs   []string `json:"peerURLs"`
	IsLearner  bool     `json:"isLearner,omitempty"`
	Name       string   `json:"name,omitempty"`
	ClientURLs []string `json:"clientURLs,omitempty"`
}

// MemberKey is the members/members_removed key of id: lower-case hex
// without padding (etcd's types.ID.String).
func MemberKey(id uint64) []byte { return []byte(strconv.FormatUint(id, 16)) }

// ParseMemberKey parses a MemberKey.
func ParseMemberKey(k []byte) (uint64, error) {
	id, err := strconv.ParseUint(string(k), 16, 64)
	if err != nil {
		return 0, fmt.Errorf("parse member id %q: %w", k, err)
	}
	return id, nil
}

// MarshalMember encodes m as etcd stores it.
func MarshalMember(m *Member) []byte {
	b, err := json.Marshal(memberJSON{ID: m.ID, PeerURLs: m.PeerURLs, IsLearner: m.IsLearner, Name: m.Name, ClientURLs: m.ClientURLs})
	if err != nil {
		panic(fmt.Sprintf("schema: marshal member: %v", err))
	}
	return b
}

// UnmarshalMember decodes a stored member; id (from the key) is used when
// the value carries none.
func UnmarshalMember(id uint64, v []byte) (*Member, error) {
	mj := memberJSON{ID: id}
	if err := json.Unmarshal(v, &mj); err != nil {
		return nil, fmt.Errorf("unmarshal member %x: %w", id, err)
	}
	return &Member{ID: mj.ID, Name: mj.Name, PeerURLs: mj.PeerURLs, ClientURLs: mj.ClientURLs, IsLearner: mj.IsLearner}, nil
}

// UnsafeSaveMember stores m in members.
func UnsafeSaveMember(tx backend.UnsafeWriter, m *Member) {
	tx.UnsafePut(Members, MemberKey(m.ID), MarshalMember(m))
}

// UnsafeDeleteMember removes id from members and records it in
// members_removed.
func UnsafeDeleteMember(tx backend.UnsafeWriter, id uint64) {
	k := MemberKey(id)
	tx.UnsafeDelete(Members, k)
	tx.UnsafePut(MembersRemoved, k, memberRemovedValue)
}

// UnsafeReadMembers returns the stored members and the IDs of removed ones.
func UnsafeReadMembers(tx backend.UnsafeReader) (members map[uint64]*Member, removed map[uint64]bool, err error) {
	members = make(map[uint64]*Member)
	removed = make(map[uint64]bool)
	err = tx.UnsafeForEach(Members, func(k, v []byte) error {
		id, err := ParseMemberKey(k)
		if err != nil {
			return err
		}
		m, err := UnmarshalMember(id, v)
		if err != nil {
			return err
		}
		members[id] = m
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read members: %w", err)
	}
	err = tx.UnsafeForEach(MembersRemoved, func(k, _ []byte) error {
		id, err := ParseMemberKey(k)
		if err != nil {
			return err
		}
		removed[id] = true
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read members_removed: %w", err)
	}
	return members, removed, nil
}

// UnsafeSaveClusterVersion stores the cluster version ("3.7.0").
func UnsafeSaveClusterVersion(tx backend.UnsafeWriter, v string) {
	tx.UnsafePut(Cluster, ClusterClusterVersionKeyName, []byte(v))
}

// UnsafeReadClusterVersion returns the cluster version, "" if unset.
func UnsafeReadClusterVersion(tx backend.UnsafeReader) string {
	v, _ := getOne(tx, Cluster, ClusterClusterVersionKeyName)
	return string(v)
}

// DowngradeInfo is the cluster/downgrade value.
type DowngradeInfo struct {
	TargetVersion string `json:"target-version"`
	Enabled       bool   `json:"enabled"`
}

// UnsafeSaveDowngrade stores d under cluster/downgrade.
func UnsafeSaveDowngrade(tx backend.UnsafeWriter, d *DowngradeInfo) {
	b, err := json.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("schema: marshal downgrade info: %v", err))
	}
	tx.UnsafePut(Cluster, ClusterDowngradeKeyName, b)
}

// UnsafeReadDowngrade returns cluster/downgrade, nil if unset or invalid.
func UnsafeReadDowngrade(tx backend.UnsafeReader) *DowngradeInfo {
	v, ok := getOne(tx, Cluster, ClusterDowngradeKeyName)
	if !ok {
		return nil
	}
	d := &DowngradeInfo{}
	if err := json.Unmarshal(v, d); err != nil {
		return nil
	}
	return d
}

// confChangeContextJSON mirrors etcd's membership.ConfigChangeContext: the
// member's fields inline, and whether an AddNode promotes a learner.
type confChangeContextJSON struct {
	memberJSON
	IsPromote bool `json:"isPromote"`
}

// MarshalPromoteContext encodes the context of the conf change that
// promotes learner id, as etcd does.
func MarshalPromoteContext(id uint64) []byte {
	b, err := json.Marshal(confChangeContextJSON{memberJSON: memberJSON{ID: id}, IsPromote: true})
	if err != nil {
		panic(fmt.Sprintf("schema: marshal promote context: %v", err))
	}
	return b
}

// UnmarshalConfChangeContext decodes the context of an AddNode or
// AddLearnerNode conf change: the member, and whether it is a promotion.
func UnmarshalConfChangeContext(id uint64, v []byte) (m *Member, isPromote bool, err error) {
	c := confChangeContextJSON{memberJSON: memberJSON{ID: id}}
	if err := json.Unmarshal(v, &c); err != nil {
		return nil, false, fmt.Errorf("unmarshal conf change context of %x: %w", id, err)
	}
	mj := c.memberJSON
	return &Member{ID: mj.ID, Name: mj.Name, PeerURLs: mj.PeerURLs, ClientURLs: mj.ClientURLs, IsLearner: mj.IsLearner}, c.IsPromote, nil
}
