package server

import (
	"testing"

	"github.com/etcdgo/etcd/internal/config"
)

// TestDefaultIDs checks the IDs etcd gives the default single member: a
// member named "default" with peer URL http://localhost:2380 and token
// "etcd-cluster" is 8e9e05c52164694d in cluster cdf818194e3a8c32.
func TestDefaultIDs(t *testing.T) {
	const wantMember, wantCluster = 0x8e9e05c52164694d, 0xcdf818194e3a8c32
	id := MemberID([]string{"http://localhost:2380"}, "etcd-cluster", nil)
	if id != wantMember {
		t.Errorf("MemberID = %x, want %x", id, uint64(wantMember))
	}
	if cid := ClusterID([]uint64{id}); cid != wantCluster {
		t.Errorf("ClusterID = %x, want %x", cid, uint64(wantCluster))
	}

	// The same IDs from the default flags.
	cfg, err := config.Parse(nil, nil)
	if err != nil {
		t.Fatalf("parse the default flags: %v", err)
	}
	icm, err := cfg.InitialClusterMap()
	if err != nil {
		t.Fatalf("initial cluster: %v", err)
	}
	ms := InitialMembers(icm, cfg.InitialClusterToken)
	if len(ms) != 1 || ms[0].Name != "default" || ms[0].ID != wantMember {
		t.Fatalf("default initial members %+v, want default with ID %x", ms, uint64(wantMember))
	}
	if cid := ClusterID([]uint64{ms[0].ID}); cid != wantCluster {
		t.Errorf("default cluster ID = %x, want %x", cid, uint64(wantCluster))
	}
}

// TestMemberIDDependsOnURLsAndToken checks that the ID changes with the peer
// URLs, the token and the time of adding, and not with the order of the URLs.
func TestMemberIDDependsOnURLsAndToken(t *testing.T) {
	a := MemberID([]string{"http://a:2380", "http://b:2380"}, "tok", nil)
	if b := MemberID([]string{"http://b:2380", "http://a:2380"}, "tok", nil); a != b {
		t.Errorf("the order of the peer URLs changed the ID: %x %x", a, b)
	}
	if b := MemberID([]string{"http://a:2380", "http://b:2380"}, "other", nil); a == b {
		t.Errorf("the token did not change the ID")
	}
	if b := MemberID([]string{"http://a:2380"}, "tok", nil); a == b {
		t.Errorf("the peer URLs did not change the ID")
	}
	if ClusterID([]uint64{1, 2}) != ClusterID([]uint64{2, 1}) {
		t.Errorf("the order of the member IDs changed the cluster ID")
	}
}

// TestProcfileIDs: the members of etcd's Procfile cluster get the IDs etcd's
// documentation shows for them (infra1 is 8211f1d0f64f3269).
func TestProcfileIDs(t *testing.T) {
	want := map[string]uint64{
		"http://127.0.0.1:12380": 0x8211f1d0f64f3269,
		"http://127.0.0.1:22380": 0x91bc3c398fb3c146,
		"http://127.0.0.1:32380": 0xfd422379fda50e48,
	}
	for peer, id := range want {
		if got := MemberID([]string{peer}, "etcd-cluster-1", nil); got != id {
			t.Errorf("MemberID(%s, etcd-cluster-1) = %x, want %x", peer, got, id)
		}
	}
}
