// Package v2store writes the data of a raft snapshot as etcd does: the JSON
// of a v2 store that holds only the cluster membership.
package v2store

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/etcdgo/etcd/internal/schema"
)

// The v2 store is gone from etcd's data path, but a raft snapshot's data is
// still the JSON of a v2 store (etcd's v2store.store) holding the membership
// alone: /0/members/<id>/raftAttributes per member (plus attributes when
// known), /0/removed_members/<id>, /0/version. etcd 3.6+ parses it on restart
// and only checks that nothing outside /0 has content. The types below
// reproduce that JSON field for field: node trees (Path, CreatedIndex,
// ModifiedIndex, ExpireTime, Value, Children), the watcher hub's event
// history (a 1000-slot ring of the events that built the store), the store
// index, its statistics and version 2.

const (
	v2HistoryCapacity = 1000
	v2DefaultVersion  = 2
	v2ClusterPrefix   = "/0"
	v2KeysPrefix      = "/1"
	v2MembersPrefix   = v2ClusterPrefix + "/members"
)

type v2Node struct {
	Path          string
	CreatedIndex  uint64
	ModifiedIndex uint64
	ExpireTime    time.Time
	Value         string
	Children      map[string]*v2Node
}

type v2NodeExtern struct {
	Key           string          `json:"key,omitempty"`
	Value         *string         `json:"value,omitempty"`
	Dir           bool            `json:"dir,omitempty"`
	Expiration    *time.Time      `json:"expiration,omitempty"`
	TTL           int64           `json:"ttl,omitempty"`
	Nodes         []*v2NodeExtern `json:"nodes,omitempty"`
	ModifiedIndex uint64          `json:"modifiedIndex,omitempty"`
	CreatedIndex  uint64          `json:"createdIndex,omitempty"`
}

type v2Event struct {
	Action   string        `json:"action"`
	Node     *v2NodeExtern `json:"node,omitempty"`
	PrevNode *v2NodeExtern `json:"prevNode,omitempty"`
	Refresh  bool          `json:"refresh,omitempty"`
}

type v2EventQueue struct {
	Events   []*v2Event
	Size     int
	Front    int
	Back     int
	Capacity int
}

type v2EventHistory struct {
	Queue      v2EventQueue
	StartIndex uint64
	LastIndex  uint64
}

type v2WatcherHub struct {
	EventHistory *v2EventHistory
}

type v2Stats struct {
	GetSuccess              uint64 `json:"getsSuccess"`
	GetFail                 uint64 `json:"getsFail"`
	SetSuccess              uint64 `json:"setsSuccess"`
	SetFail                 uint64 `json:"setsFail"`
	DeleteSuccess           uint64 `json:"deleteSuccess"`
	DeleteFail              uint64 `json:"deleteFail"`
	UpdateSuccess           uint64 `json:"updateSuccess"`
	UpdateFail              uint64 `json:"updateFail"`
	CreateSuccess           uint64 `json:"createSuccess"`
	CreateFail              uint64 `json:"createFail"`
	CompareAndSwapSuccess   uint64 `json:"compareAndSwapSuccess"`
	CompareAndSwapFail      uint64 `json:"compareAndSwapFail"`
	CompareAndDeleteSuccess uint64 `json:"compareAndDeleteSuccess"`
	CompareAndDeleteFail    uint64 `json:"compareAndDeleteFail"`
	ExpireCount             uint64 `json:"expireCount"`
	Watchers                uint64 `json:"watchers"`
}

type v2Store struct {
	Root           *v2Node
	WatcherHub     *v2WatcherHub
	CurrentIndex   uint64
	Stats          *v2Stats
	CurrentVersion int
}

func newV2Dir(p string, index uint64) *v2Node {
	return &v2Node{Path: p, CreatedIndex: index, ModifiedIndex: index, Children: map[string]*v2Node{}}
}

// newV2Store returns an empty store with the /0 and /1 namespaces, as etcd
// creates it.
func newV2Store() *v2Store {
	root := newV2Dir("/", 0)
	for _, ns := range []string{v2ClusterPrefix, v2KeysPrefix} {
		root.Children[path.Base(ns)] = newV2Dir(ns, 0)
	}
	return &v2Store{
		Root: root,
		WatcherHub: &v2WatcherHub{EventHistory: &v2EventHistory{Queue: v2EventQueue{
			Events:   make([]*v2Event, v2HistoryCapacity),
			Capacity: v2HistoryCapacity,
		}}},
		Stats:          &v2Stats{},
		CurrentVersion: v2DefaultVersion,
	}
}

// create adds a permanent key (creating missing parent directories) like a
// successful v2 Create: it takes the next index and records a "create"
// event.
func (s *v2Store) create(p, value string) error {
	next := s.CurrentIndex + 1
	p = path.Clean(path.Join("/", p))
	dir, name := path.Split(p)
	d := s.Root
	for _, c := range strings.Split(strings.Trim(dir, "/"), "/") {
		if c == "" {
			continue
		}
		child, ok := d.Children[c]
		if !ok {
			child = newV2Dir(path.Join(d.Path, c), next)
			d.Children[c] = child
		} else if child.Children == nil {
			return fmt.Errorf("v2 store: %s is not a directory", child.Path)
		}
		d = child
	}
	if _, ok := d.Children[name]; ok {
		return fmt.Errorf("v2 store: %s exists", p)
	}
	d.Children[name] = &v2Node{Path: p, CreatedIndex: next, ModifiedIndex: next, Value: value}
	v := value
	s.addEvent(&v2Event{Action: "create", Node: &v2NodeExtern{Key: p, Value: &v, ModifiedIndex: next, CreatedIndex: next}})
	s.Stats.CreateSuccess++
	s.CurrentIndex = next
	return nil
}

func (s *v2Store) addEvent(e *v2Event) {
	h := s.WatcherHub.EventHistory
	q := &h.Queue
	q.Events[q.Back] = e
	q.Back = (q.Back + 1) % q.Capacity
	if q.Size == q.Capacity {
		q.Front = (q.Front + 1) % q.Capacity
	} else {
		q.Size++
	}
	h.LastIndex = e.Node.ModifiedIndex
	h.StartIndex = q.Events[q.Front].Node.ModifiedIndex
}

// membershipV2JSON returns the raft snapshot data etcd writes for members:
// the v2 store JSON with /0/members/<hex id>/raftAttributes =
// {"peerURLs":[...]} per member, created in the order given. etcd adds
// /0/members/<id>/attributes only for members whose client URLs are known,
// and /0/version once the cluster version is set; neither is known for a
// freshly restored cluster.
func MembershipJSON(members []*schema.Member) ([]byte, error) {
	st := newV2Store()
	for _, m := range members {
		ra, err := json.Marshal(struct {
			PeerURLs  []string `json:"peerURLs"`
			IsLearner bool     `json:"isLearner,omitempty"`
		}{m.PeerURLs, m.IsLearner})
		if err != nil {
			return nil, fmt.Errorf("marshal raft attributes: %w", err)
		}
		id := strconv.FormatUint(m.ID, 16)
		if err := st.create(path.Join(v2MembersPrefix, id, "raftAttributes"), string(ra)); err != nil {
			return nil, err
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("marshal v2 store: %w", err)
	}
	return b, nil
}
