package server

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/etcdgo/etcd/internal/schema"
)

// Member is one member of the cluster as every member knows it; it is
// stored and carried in conf changes in etcd's member JSON (schema).
type Member = schema.Member

// MemberID derives a member's ID from its peer URLs and the cluster token, as
// etcd does: the first 8 bytes (big-endian) of the SHA-1 of the sorted peer
// URLs, the token and, for a member added at runtime, the time of adding.
func MemberID(peerURLs []string, token string, now *time.Time) uint64 {
	sorted := slices.Clone(peerURLs)
	sort.Strings(sorted)
	b := []byte(strings.Join(sorted, ""))
	b = append(b, token...)
	if now != nil {
		b = append(b, fmt.Sprintf("%d", now.Unix())...)
	}
	h := sha1.Sum(b)
	return binary.BigEndian.Uint64(h[:8])
}

// ClusterID derives the cluster ID from the IDs of its founding members, as etcd
// does: the first 8 bytes of the SHA-1 of their sorted big-endian IDs.
func ClusterID(memberIDs []uint64) uint64 {
	ids := slices.Clone(memberIDs)
	slices.Sort(ids)
	b := make([]byte, 8*len(ids))
	for i, id := range ids {
		binary.BigEndian.PutUint64(b[8*i:], id)
	}
	h := sha1.Sum(b)
	return binary.BigEndian.Uint64(h[:8])
}

// InitialMembers turns --initial-cluster into members with derived IDs.
func InitialMembers(cluster map[string][]url.URL, token string) []*Member {
	names := make([]string, 0, len(cluster))
	for name := range cluster {
		names = append(names, name)
	}
	sort.Strings(names)
	var ms []*Member
	for _, name := range names {
		var urls []string
		for _, u := range cluster[name] {
			urls = append(urls, u.String())
		}
		sort.Strings(urls)
		ms = append(ms, &Member{ID: MemberID(urls, token, nil), Name: name, PeerURLs: urls})
	}
	return ms
}

// cluster is the member set, kept in step with the raft configuration by the
// apply path and persisted in the backend's "members" bucket.
type cluster struct {
	mu      sync.RWMutex
	id      uint64
	members map[uint64]*Member
	removed map[uint64]bool
}

func newCluster(id uint64) *cluster {
	return &cluster{id: id, members: map[uint64]*Member{}, removed: map[uint64]bool{}}
}

// ID returns the cluster ID.
func (c *cluster) ID() uint64 { return c.id }

// Members returns a copy of the members sorted by ID.
func (c *cluster) Members() []*Member {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*Member, 0, len(c.members))
	for _, m := range c.members {
		cp := *m
		cp.PeerURLs = slices.Clone(m.PeerURLs)
		cp.ClientURLs = slices.Clone(m.ClientURLs)
		out = append(out, &cp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Member returns a copy of the member with the ID, or nil.
func (c *cluster) Member(id uint64) *Member {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.members[id]
	if !ok {
		return nil
	}
	cp := *m
	return &cp
}

func (c *cluster) add(m *Member) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.members[m.ID] = m
}

func (c *cluster) remove(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.members, id)
	c.removed[id] = true
}

// promote makes learner id a voting member and returns a copy of it.
func (c *cluster) promote(id uint64) *Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.members[id]
	m.IsLearner = false
	cp := *m
	return &cp
}

// updatePeerURLs sets the peer URLs of member id and returns a copy of it.
func (c *cluster) updatePeerURLs(id uint64, urls []string) *Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.members[id]
	m.PeerURLs = slices.Clone(urls)
	cp := *m
	return &cp
}

// replace makes members and removed the member set (after a snapshot).
func (c *cluster) replace(members map[uint64]*Member, removed map[uint64]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.members = make(map[uint64]*Member, len(members))
	for id, m := range members {
		c.members[id] = m
	}
	c.removed = make(map[uint64]bool, len(removed))
	for id := range removed {
		c.removed[id] = true
	}
}

func (c *cluster) isRemoved(id uint64) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.removed[id]
}

func (c *cluster) setAttributes(id uint64, name string, clientURLs []string) *Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.members[id]
	if !ok {
		return nil
	}
	m.Name = name
	m.ClientURLs = slices.Clone(clientURLs)
	cp := *m
	return &cp
}
