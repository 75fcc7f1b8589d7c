package e2e

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/tests/framework"
)

var (
	memberIDPattern = regexp.MustCompile(`\b[0-9a-f]{12,16}\b`)
	memberAdded     = regexp.MustCompile(`Member ([0-9a-f]+) added (?:as learner )?to cluster +([0-9a-f]+)`)
)

// TestEtcdctlMembership runs the membership commands (member add as a
// learner, member list, member update, member remove, move-leader) with the
// official etcdctl v3.7 and with ours against a three-member cluster of ours,
// and checks both succeed with the same output up to IDs and ports.
func TestEtcdctlMembership(t *testing.T) {
	ms := framework.StartCluster(t, "", 3, clusterFlags...)
	clis := clusterClients(t, ms)
	endpoints := strings.Join(framework.ClusterEndpoints(ms), ",")
	bins := []struct{ name, bin string }{
		{"etcdctl-v3.7.3", framework.Reference(t).Etcdctl},
		{"ours", framework.EtcdctlBinary(t)},
	}
	outputs := make([][]string, len(bins))
	for bi, b := range bins {
		run := func(args ...string) string {
			t.Helper()
			full := append([]string{"--endpoints=" + endpoints, "--dial-timeout=2s", "--command-timeout=20s"}, args...)
			r := framework.RunCommand(t, time.Minute, "", "", b.bin, full...)
			if r.ExitCode != 0 {
				t.Fatalf("%s %s: exit %d\n%s\n%s", b.name, strings.Join(args, " "), r.ExitCode, r.Stdout, r.Stderr)
			}
			return r.Stdout
		}
		// Member IDs differ between the two runs, and with them the order
		// of members: compare lines and cluster entries as sets.
		record := func(out string) {
			out = memberIDPattern.ReplaceAllString(out, "<id>")
			out = regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(out, "127.0.0.1:<port>")
			lines := strings.Split(out, "\n")
			for i, l := range lines {
				if v, ok := strings.CutPrefix(l, "ETCD_INITIAL_CLUSTER="); ok {
					parts := strings.Split(strings.Trim(v, `"`), ",")
					sort.Strings(parts)
					lines[i] = "ETCD_INITIAL_CLUSTER=" + strings.Join(parts, ",")
				}
			}
			sort.Strings(lines)
			outputs[bi] = append(outputs[bi], strings.Join(lines, "\n"))
		}
		peer := fmt.Sprintf("http://127.0.0.1:%d", framework.FreePort(t))
		add := run("member", "add", "newbie", "--peer-urls="+peer, "--learner")
		record(add)
		m := memberAdded.FindStringSubmatch(add)
		if m == nil || !strings.Contains(add, `ETCD_INITIAL_CLUSTER_STATE="existing"`) {
			t.Fatalf("%s member add printed:\n%s", b.name, add)
		}
		id := m[1]
		list := run("member", "list")
		if !strings.Contains(list, id+", unstarted, , "+peer+", , true") {
			t.Fatalf("%s member list does not show the unstarted learner %s:\n%s", b.name, id, list)
		}
		record(list)
		other := fmt.Sprintf("http://127.0.0.1:%d", framework.FreePort(t))
		record(run("member", "update", id, "--peer-urls="+other))
		record(run("member", "remove", id))
		if list := run("member", "list"); strings.Contains(list, id) {
			t.Fatalf("%s: removed member still listed:\n%s", b.name, list)
		}

		lead := clusterLeader(t, ms, clis)
		target := (lead + 1) % 3
		leadID, targetID := memberIDOf(t, clis[lead], ms[lead]), memberIDOf(t, clis[target], ms[target])
		out := run("move-leader", fmt.Sprintf("%x", targetID))
		if !strings.Contains(out, fmt.Sprintf("Leadership transferred from %x to %x", leadID, targetID)) {
			t.Fatalf("%s move-leader printed:\n%s", b.name, out)
		}
		record(out)
		if got := clusterLeader(t, ms, clis); got != target {
			t.Fatalf("%s move-leader: leader is %s, want %s", b.name, ms[got].Name, ms[target].Name)
		}
	}
	for i := range outputs[0] {
		if outputs[0][i] != outputs[1][i] {
			t.Errorf("command %d printed differently:\n%s:\n%s\nours:\n%s", i, bins[0].name, outputs[0][i], outputs[1][i])
		}
	}
}

// memberIDOf returns the ID of member m.
func memberIDOf(t *testing.T, cli *clientv3.Client, m *framework.Member) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := cli.Status(ctx, m.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	return st.Header.MemberId
}
