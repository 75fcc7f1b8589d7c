package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcdgo/etcd/tests/framework"
)

// startV1SeedCluster starts the seed's three members as separate processes
// from its 2013 command lines, in one working directory, on free ports:
//
//	etcd -c C1 -s S1 -d nod/node1
//	etcd -c C2 -s S2 -C 127.0.0.1:S1 -d nod/node2
//	etcd -c C3 -s S3 -C 127.0.0.1:S1 -d nod/node3
func startV1SeedCluster(t *testing.T) []*v1Node {
	t.Helper()
	wd := t.TempDir()
	n1 := startV1Node(t, "node1", wd, "nod/node1", "")
	n2 := startV1Node(t, "node2", wd, "nod/node2", n1.peerAddr())
	n3 := startV1Node(t, "node3", wd, "nod/node3", n1.peerAddr())
	return []*v1Node{n1, n2, n3}
}

// memberIDs maps peer URL to member ID, as node n lists the members.
func memberIDs(t *testing.T, n *v1Node) map[string]uint64 {
	t.Helper()
	cli := framework.NewClient(t, n.clientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatalf("member list on %s: %v", n.clientURL(), err)
	}
	out := map[string]uint64{}
	for _, m := range resp.Members {
		for _, u := range m.PeerURLs {
			out[u] = m.ID
		}
	}
	return out
}

// TestV1SeedCluster builds the seed's cluster from its command lines and
// follows the seed: a key set through the first member is read through the
// second ("curl http://127.0.0.1:4002/v1/keys/foo") and the third. Then
// one member is killed and the others go on serving; it comes back with
// its identity and data (ignoring -C); and all three, stopped and
// restarted with the same -d, still hold every acknowledged write.
func TestV1SeedCluster(t *testing.T) {
	ns := startV1SeedCluster(t)
	n1, n2, n3 := ns[0], ns[1], ns[2]

	st, b := v1Do(t, "POST", n1.clientURL()+"/v1/keys/foo", form("value", "bar"))
	set := wantSeed(t, st, b, 200, `{"action":"SET","key":"/foo","value":"bar","newKey":true,"index":5}`)
	for _, n := range ns {
		// curl http://127.0.0.1:4002/v1/keys/foo
		st, b := v1Do(t, "GET", n.clientURL()+"/v1/keys/foo", nil)
		if a := wantSeed(t, st, b, 200, `{"action":"GET","key":"/foo","value":"bar","index":5}`); a.index < set.index {
			t.Errorf("GET on %s: index %d below the write's %d", n.name, a.index, set.index)
		}
	}

	// /v1/machines lists the client URLs of all three; /v1/leader names
	// one peer URL, the same on every member.
	want := []string{n1.clientURL(), n2.clientURL(), n3.clientURL()}
	slices.Sort(want)
	var leader string
	for _, n := range ns {
		body := waitV1(t, n.clientURL()+"/v1/machines", 200, n3.clientURL())
		got := strings.Split(body, ", ")
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("machines on %s: %q, want %q", n.name, body, want)
		}
		l := waitV1(t, n.clientURL()+"/v1/leader", 200, "http://")
		if leader == "" {
			leader = l
		} else if l != leader {
			t.Errorf("leader on %s: %q, on node1: %q", n.name, l, leader)
		}
	}
	if !slices.Contains([]string{n1.peerURL(), n2.peerURL(), n3.peerURL()}, leader) {
		t.Errorf("leader %q is not a member's peer URL", leader)
	}
	ids := memberIDs(t, n1)
	if len(ids) != 3 {
		t.Fatalf("members: %v", ids)
	}

	// A TTL set through one member; a watcher on another sees it expire.
	st, b = v1Do(t, "POST", n3.clientURL()+"/v1/keys/short", form("value", "lived", "ttl", "2"))
	ttlSet := wantSeed(t, st, b, 200, `{"action":"SET","key":"/short","value":"lived","newKey":true,"expiration":"2013-07-11T20:31:12.156146039-07:00","ttl":2,"index":6}`)
	ctx, cancel := context.WithTimeout(context.Background(), v1CallTimeout)
	defer cancel()
	w := asyncV1(t, ctx, "POST", n1.clientURL()+"/v1/watch/short", form("index", fmt.Sprint(ttlSet.index+1)))
	gone := wantSeed(t, 200, recvV1(t, w, "watch for the expiry on another member"), 200,
		`{"action":"DELETE","key":"/short","prevValue":"lived","index":7}`)
	if gone.index <= ttlSet.index {
		t.Errorf("expiry index %d not after the set's %d", gone.index, ttlSet.index)
	}
	waitV1(t, n2.clientURL()+"/v1/keys/short", 404, `"errorCode":100`)

	// One member killed: the two others still take writes and reads.
	n2.Kill()
	st, b = v1Do(t, "POST", n3.clientURL()+"/v1/keys/while-down", form("value", "written"))
	wantSeed(t, st, b, 200, `{"action":"SET","key":"/while-down","value":"written","newKey":true,"index":8}`)
	st, b = v1Do(t, "GET", n1.clientURL()+"/v1/keys/while-down", nil)
	wantSeed(t, st, b, 200, `{"action":"GET","key":"/while-down","value":"written","index":8}`)

	// Restarted with the same command line (-C is ignored: its data dir
	// holds its identity), it catches up.
	if err := n2.Start(); err != nil {
		t.Fatalf("restart node2: %v\n%s", err, n2.Tail(40))
	}
	waitV1(t, n2.clientURL()+"/v1/keys/while-down", 200, `"value":"written"`)
	if after := memberIDs(t, n2); len(after) != 3 || after[n2.peerURL()] != ids[n2.peerURL()] {
		t.Errorf("after node2's restart: members %v, before %v", after, ids)
	}

	// All stopped, all restarted with the same -d: every write is there.
	var acked []string
	for i := range 20 {
		k := fmt.Sprintf("/acked/%02d", i)
		st, b := v1Do(t, "POST", ns[i%3].clientURL()+"/v1/keys"+k, form("value", k))
		if st != 200 {
			t.Fatalf("write %s: %d %s", k, st, b)
		}
		acked = append(acked, k)
	}
	for _, n := range ns {
		if err := n.Stop(); err != nil {
			t.Logf("stop %s: %v", n.name, err)
		}
	}
	for _, n := range ns {
		if err := n.StartNoWait(); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range ns {
		if err := n.WaitReady(framework.DefaultReadyTimeout); err != nil {
			t.Fatalf("%s after a full restart: %v\n%s", n.name, err, n.Tail(40))
		}
	}
	for _, n := range ns {
		for _, k := range append(acked, "/foo", "/while-down") {
			st, b := v1Do(t, "GET", n.clientURL()+"/v1/keys"+k, nil)
			if st != 200 {
				t.Fatalf("GET %s on %s after a full restart: %d %s", k, n.name, st, b)
			}
		}
	}
	if after := memberIDs(t, n3); len(after) != 3 || after[n3.peerURL()] != ids[n3.peerURL()] {
		t.Errorf("after the full restart: members %v, before %v", after, ids)
	}
}

// TestV1FlagStyles checks that a 2013-style flag mixed with etcd's flags
// is refused with a message naming both, before anything is created.
func TestV1FlagStyles(t *testing.T) {
	bin := framework.EtcdBinary(t)
	for _, args := range [][]string{
		{"-c", "4001", "--name", "x"},
		{"-C", "127.0.0.1:7001", "--listen-peer-urls", "http://127.0.0.1:7002"},
	} {
		r := framework.RunCommand(t, 30*time.Second, "", "", bin, args...)
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, "cannot mix the 2013-style flag") {
			t.Errorf("etcd %q: exit %d, stderr:\n%s", args, r.ExitCode, r.Stderr)
		}
	}
}

// TestV1SeedBareFirstMember follows the seed literally for the first
// member: a bare `./etcd` (no flags: clients on 2379 and 4001, peers on
// 2380 and 7001) is the member that `-C 127.0.0.1:7001` joins.
func TestV1SeedBareFirstMember(t *testing.T) {
	for _, port := range []int{2379, 2380, 4001, 7001} {
		if !framework.PortFree(port) {
			t.Fatalf("127.0.0.1:%d is in use; this test needs the default ports 2379, 2380, 4001 and 7001", port)
		}
	}
	wd := t.TempDir()
	bare := framework.NewProcess(t, framework.ProcessConfig{Name: "bare", Bin: framework.EtcdBinary(t), Dir: wd})
	if err := bare.Start(); err != nil {
		t.Fatalf("./etcd: %v", err)
	}
	n2 := startV1Node(t, "node2", wd, "nod/node2", "127.0.0.1:7001")
	// curl http://127.0.0.1:4001/v1/keys/foo -d value=bar, then on node2.
	st, b := v1Do(t, "POST", "http://127.0.0.1:4001/v1/keys/foo", form("value", "bar"))
	wantSeed(t, st, b, 200, `{"action":"SET","key":"/foo","value":"bar","newKey":true,"index":5}`)
	st, b = v1Do(t, "GET", n2.clientURL()+"/v1/keys/foo", nil)
	wantSeed(t, st, b, 200, `{"action":"GET","key":"/foo","value":"bar","index":5}`)
	// And the other way round, read through the bare member's 2379.
	st, b = v1Do(t, "PUT", n2.clientURL()+"/v1/keys/back", form("value", "again"))
	wantSeed(t, st, b, 200, `{"action":"SET","key":"/back","value":"again","newKey":true,"index":6}`)
	st, b = v1Do(t, "GET", "http://127.0.0.1:2379/v1/keys/back", nil)
	wantSeed(t, st, b, 200, `{"action":"GET","key":"/back","value":"again","index":6}`)
	if ids := memberIDs(t, n2); len(ids) != 2 {
		t.Errorf("members after the join: %v", ids)
	}
}
