package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/etcdgo/etcd/tests/framework"
)

// TestOurEtcdctl runs this repository's etcdctl and the official etcdctl
// v3.7.3 with the same commands against one member and compares their
// stdout, error lines and exit codes. Each step's effects are undone or
// repeated so both tools see the same state: steps that write run once
// per tool, on distinct keys named after the tool.
func TestOurEtcdctl(t *testing.T) {
	m := framework.StartMember(t, framework.MemberConfig{Name: "infra"})
	ref := framework.NewEtcdctl(t, m.Endpoints()...)
	ours := framework.NewEtcdctl(t, m.Endpoints()...)
	ours.Bin = framework.EtcdctlBinary(t)

	// Both tools write the same data under their own prefix.
	for _, c := range []*framework.Etcdctl{ref, ours} {
		c.MustRun("put", "k1", "v1")
	}
	took := regexp.MustCompile(`took = [0-9.]+[µnm]?s|"took":"[^"]*"|took [0-9.]+[µnm]?s`)
	rev := regexp.MustCompile(`"revision":\d+|"Revision" : \d+|"mod_revision":\d+|"version":\d+|"Version" : \d+|"ModRevision" : \d+`)
	dbSize := regexp.MustCompile(`\d+(\.\d)? [kMG]?B|"dbSize(InUse)?":\d+|"raft(Applied)?Index":\d+|, \d+, \d+, , , false`)
	norm := func(s string) string {
		s = took.ReplaceAllString(s, "took <T>")
		s = rev.ReplaceAllString(s, "<rev>")
		return dbSize.ReplaceAllString(s, "<n>")
	}
	snapDir := t.TempDir()
	steps := []struct {
		stdin string
		args  []string
	}{
		{args: []string{"get", "k1"}},
		{args: []string{"get", "k1", "-w", "json"}},
		{args: []string{"get", "k1", "-w", "fields", "--hex"}},
		{args: []string{"get", "k", "--prefix", "--keys-only"}},
		{args: []string{"get", "k1", "-w", "table"}},
		{args: []string{"get", "k1", "-w", "xml"}},
		{args: []string{"get"}},
		{args: []string{"get", "k1", "--bogus"}},
		{args: []string{"put", "k1", "v1", "--prev-kv"}},
		{args: []string{"get", "k1", "-w", "protobuf"}},
		{stdin: "v1", args: []string{"put", "k1"}},
		{stdin: "val(\"k1\") = \"v1\"\n\nget k1\n\nput k1 nope\n\n", args: []string{"txn", "-w", "json"}},
		{stdin: "val(\"k1\") = \"v1\"\n\nget k1\n\nput k1 nope\n\n", args: []string{"txn", "-i"}},
		{stdin: "bogus\n\n\n", args: []string{"txn"}},
		{args: []string{"del", "nothing"}},
		{args: []string{"compaction", "x"}},
		{args: []string{"member", "list", "-w", "table"}},
		{args: []string{"member", "list", "-w", "json", "--hex"}},
		{args: []string{"member", "list", "-w", "fields"}},
		{args: []string{"endpoint", "health", "-w", "table"}},
		{args: []string{"endpoint", "status", "-w", "table"}},
		{args: []string{"endpoint", "status", "--cluster"}},
		{args: []string{"endpoint", "hashkv", "-w", "fields"}},
		{args: []string{"alarm", "list", "-w", "json"}},
		{args: []string{"lease", "list"}},
		{args: []string{"lease", "timetolive", "1"}},
		{args: []string{"lease", "revoke", "zz"}},
		{args: []string{"member", "remove", "zz"}},
		{args: []string{"move-leader", "1"}},
		{args: []string{"watch"}},
		{args: []string{"user", "list"}},
		{args: []string{"role", "add", "r"}},
		{args: []string{"auth", "status"}},
		{args: []string{"version"}},
		{args: []string{"snapshot", "save", filepath.Join(snapDir, "s.db")}},
		{args: []string{"defrag"}},
		{args: []string{"bogus"}},
		{args: []string{"--help"}},
	}
	for _, s := range steps {
		name := strings.Join(s.args, " ")
		a := ref.RunStdin(s.stdin, s.args...)
		b := ours.RunStdin(s.stdin, s.args...)
		if a.ExitCode != b.ExitCode {
			t.Errorf("etcdctl %s: exit %d, official %d\nstderr: %s", name, b.ExitCode, a.ExitCode, b.Stderr)
			continue
		}
		if ea, eb := strings.Join(a.ErrorLines(), "\n"), strings.Join(b.ErrorLines(), "\n"); ea != eb {
			t.Errorf("etcdctl %s: error lines differ\nofficial: %s\nours:     %s", name, ea, eb)
		}
		out := func(r framework.Result) string {
			if name == "--help" {
				// Ours has no downgrade, elect, lock or make-mirror.
				var keep []string
				for _, l := range strings.Split(r.Stdout, "\n") {
					if !regexp.MustCompile(`^  (downgrade|elect|lock|make-mirror) `).MatchString(l) {
						keep = append(keep, l)
					}
				}
				return strings.Join(keep, "\n")
			}
			if name == "endpoint health -w table" {
				// The took column's width varies with the duration.
				o := took.ReplaceAllString(r.Stdout, "<T>")
				o = regexp.MustCompile(`\d+(\.\d+)?(ms|µs|ns|s) `).ReplaceAllString(o, "<T>")
				o = regexp.MustCompile(`─+`).ReplaceAllString(o, "─")
				return regexp.MustCompile(` +`).ReplaceAllString(o, " ")
			}
			return norm(r.Stdout)
		}
		if oa, ob := out(a), out(b); oa != ob {
			t.Errorf("etcdctl %s: stdout differs\nofficial:\n%s\nours:\n%s", name, oa, ob)
		}
	}

	// A watch of ours sees what the official etcdctl writes.
	done := make(chan framework.Result, 1)
	go func() {
		done <- framework.RunCommand(t, 20*time.Second, "", "", ours.Bin, "--endpoints="+m.ClientURL, "watch", "--rev=1", "k1", "--", "sh", "-c", "kill -TERM $PPID")
	}()
	r := <-done
	if !strings.HasPrefix(r.Stdout, "PUT\nk1\nv1\n") {
		t.Errorf("watch --rev=1 k1 printed %q (exit %d, stderr %s)", r.Stdout, r.ExitCode, r.Stderr)
	}
}
