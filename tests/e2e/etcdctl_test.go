package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/etcdgo/etcd/tests/framework"
)

// ctlStep is one etcdctl invocation run against both servers.
type ctlStep struct {
	args  []string
	stdin string
	// want, if set, is the exact stdout expected from both servers.
	want *string
	// wantExit is the exit code expected from both servers.
	wantExit int
}

func str(s string) *string { return &s }

func step(args ...string) ctlStep { return ctlStep{args: args} }

func stepWant(want string, args ...string) ctlStep { return ctlStep{args: args, want: str(want)} }

func stepFail(args ...string) ctlStep { return ctlStep{args: args, wantExit: 1} }

// TestEtcdctlKV drives the official etcdctl v3.7.3 against our etcd and the
// official etcd v3.7.3 with the same commands and compares what it prints.
func TestEtcdctlKV(t *testing.T) {
	ref := framework.Reference(t)
	theirs := framework.StartMember(t, framework.MemberConfig{Bin: ref.Etcd, Name: "infra"})
	ours := framework.StartMember(t, framework.MemberConfig{Name: "infra"})
	ctlRef := theirs.Etcdctl(t)
	ctlOurs := ours.Etcdctl(t)

	run := func(s ctlStep) (framework.Result, framework.Result) {
		t.Helper()
		name := strings.Join(s.args, " ")
		a := ctlRef.RunStdin(s.stdin, s.args...)
		b := ctlOurs.RunStdin(s.stdin, s.args...)
		if a.ExitCode != s.wantExit {
			t.Errorf("etcdctl %s against the reference etcd: exit %d, want %d (the test expectation is wrong)\nstdout:\n%s\nstderr:\n%s", name, a.ExitCode, s.wantExit, a.Stdout, a.Stderr)
		}
		if b.ExitCode != a.ExitCode {
			t.Errorf("etcdctl %s: exit %d, reference etcd gives %d\nstdout:\n%s\nstderr:\n%s", name, b.ExitCode, a.ExitCode, b.Stdout, b.Stderr)
			return a, b
		}
		ea, eb := strings.Join(a.ErrorLines(), "\n"), strings.Join(b.ErrorLines(), "\n")
		if ea != eb {
			t.Errorf("etcdctl %s: error output differs\nreference: %s\nours:      %s", name, ea, eb)
		}
		na, nb := normalizeCtl(s.args, a.Stdout, theirs), normalizeCtl(s.args, b.Stdout, ours)
		if na != nb {
			t.Errorf("etcdctl %s: output differs (-reference +ours):\n%s", name, cmp.Diff(strings.Split(na, "\n"), strings.Split(nb, "\n")))
		}
		if s.want != nil {
			if a.Stdout != *s.want {
				t.Errorf("etcdctl %s against the reference etcd printed %q, want %q (the test expectation is wrong)", name, a.Stdout, *s.want)
			}
			if b.Stdout != *s.want {
				t.Errorf("etcdctl %s printed %q, want %q", name, b.Stdout, *s.want)
			}
		}
		return a, b
	}

	steps := []ctlStep{
		stepWant("", "get", "foo"),
		stepWant("OK\n", "put", "foo", "bar"),
		stepWant("OK\n", "put", "foo1", "bar1"),
		stepWant("OK\n", "put", "foo2", "bar2"),
		stepWant("OK\n", "put", "foo3", "bar3"),
		stepWant("OK\n", "put", "zoo", "zv"),
		stepWant("OK\n", "put", "foo", "bar-new"),
		stepWant("OK\nfoo\nbar-new\n", "put", "foo", "bar-newer", "--prev-kv"),
		stepWant("OK\n", "put", "foo2", "--ignore-value"),
		stepFail("put", "nokey", "--ignore-value"),
		{args: []string{"put", "fromstdin"}, stdin: "value from stdin\n", want: str("OK\n")},
		stepWant("foo\nbar-newer\n", "get", "foo"),
		step("get", "foo", "-w", "json"),
		step("get", "foo", "-w", "fields"),
		stepWant("foo\nbar-newer\nfoo1\nbar1\nfoo2\nbar2\nfoo3\nbar3\n", "get", "foo", "--prefix"),
		stepWant("foo\nbar-newer\nfoo1\nbar1\n", "get", "foo", "--prefix", "--limit", "2"),
		step("get", "foo", "--prefix", "--limit", "2", "-w", "json"),
		stepWant("foo1\nbar1\nfoo2\nbar2\n", "get", "foo1", "foo3"),
		step("get", "foo2", "--from-key"),
		step("get", "", "--from-key", "--keys-only"),
		stepWant("foo\nbar\n", "get", "foo", "--rev", "2"),
		stepWant("", "get", "foo", "--rev", "1"),
		step("get", "foo", "--prefix", "--rev", "4", "-w", "json"),
		stepFail("get", "foo", "--rev", "1000"),
		stepWant("foo\n\nfoo1\n\nfoo2\n\nfoo3\n\n", "get", "foo", "--prefix", "--keys-only"),
		stepWant("bar-newer\nbar1\nbar2\nbar3\n", "get", "foo", "--prefix", "--print-value-only"),
		step("get", "foo", "--prefix", "--count-only", "-w", "fields"),
		step("get", "", "--from-key", "--count-only", "--limit", "1", "-w", "fields"),
		step("get", "foo", "--prefix", "--keys-only", "-w", "json"),
		step("get", "foo", "--prefix", "--consistency", "s"),
	}
	for _, target := range []string{"KEY", "VALUE", "CREATE", "MODIFY", "VERSION"} {
		for _, order := range []string{"ASCEND", "DESCEND"} {
			steps = append(steps,
				step("get", "", "--from-key", "--sort-by", target, "--order", order),
				step("get", "foo", "--prefix", "--sort-by", target, "--order", order, "--limit", "3", "-w", "json"),
			)
		}
	}
	steps = append(steps,
		step("get", "", "--from-key", "--order", "DESCEND", "--keys-only"),
		// Transactions, in etcdctl's stdin syntax: compares, blank line,
		// success requests, blank line, failure requests, blank line.
		ctlStep{
			args:  []string{"txn"},
			stdin: "value(\"foo\") = \"bar-newer\"\nmod(\"foo1\") > \"0\"\n\nput foo \"txn-success\"\nget foo1\n\nput foo \"txn-failure\"\n\n",
			want:  str("SUCCESS\n\nOK\n\nfoo1\nbar1\n"),
		},
		ctlStep{
			args:  []string{"txn"},
			stdin: "version(\"foo\") = \"1\"\n\nput foo \"never\"\n\nget foo\ndel zoo\n\n",
			want:  str("FAILURE\n\nfoo\ntxn-success\n\n1\n"),
		},
		ctlStep{
			args:  []string{"txn", "-w", "json"},
			stdin: "create(\"foo2\") < \"100\"\nvalue(\"foo3\") != \"x\"\n\nput foo4 \"v4\"\ndel foo1\nget foo --prefix\n\n\n",
		},
		ctlStep{
			args:  []string{"txn"},
			stdin: "version(\"missing\") = \"0\"\n\nput missing \"now-present\"\n\n\n",
			want:  str("SUCCESS\n\nOK\n"),
		},
		stepWant("1\n", "del", "foo"),
		stepWant("0\n", "del", "foo"),
		stepWant("3\nfoo2\nbar2\nfoo3\nbar3\nfoo4\nv4\n", "del", "foo", "--prefix", "--prev-kv"),
		step("put", "r1", "a"),
		step("put", "r2", "b"),
		step("put", "r3", "c"),
		stepWant("2\n", "del", "r1", "r3"),
		step("del", "r", "--from-key", "-w", "json"),
		step("get", "", "--from-key", "-w", "json"),
		// Reads at old revisions.
		stepWant("foo\nbar-new\n", "get", "foo", "--rev", "7"),
		step("get", "", "--prefix", "--rev", "10", "-w", "json"),
		stepWant("compacted revision 10\n", "compaction", "--physical", "10"),
		stepFail("get", "foo", "--rev", "9"),
		step("get", "", "--prefix", "--rev", "10"),
		stepFail("compaction", "10"),
		stepFail("compaction", "100000"),
		stepWant("OK\n", "put", "after-compaction", "x"),
		step("get", "", "--prefix", "-w", "json"),
	)
	for _, s := range steps {
		run(s)
	}

	// endpoint status: version, leader and raft index.
	for _, srv := range []struct {
		name string
		ctl  *framework.Etcdctl
	}{{"reference etcd", ctlRef}, {"our etcd", ctlOurs}} {
		out := srv.ctl.MustRun("endpoint", "status", "-w", "json")
		checkEndpointStatus(t, srv.name, out)
		if r := srv.ctl.Run("endpoint", "health"); r.ExitCode != 0 || !strings.Contains(r.Stdout+r.Stderr, "is healthy") {
			t.Errorf("%s: endpoint health: exit %d\n%s%s", srv.name, r.ExitCode, r.Stdout, r.Stderr)
		}
	}
	run(step("member", "list"))
	run(step("member", "list", "-w", "json"))
}

// endpointStatus is the part of `etcdctl endpoint status -w json` checked.
type endpointStatus struct {
	Endpoint string
	Status   struct {
		Header struct {
			MemberID json.Number `json:"member_id"`
			Revision json.Number `json:"revision"`
		} `json:"header"`
		Version   string      `json:"version"`
		Leader    json.Number `json:"leader"`
		RaftIndex json.Number `json:"raftIndex"`
		RaftTerm  json.Number `json:"raftTerm"`
		DBSize    json.Number `json:"dbSize"`
	}
}

func checkEndpointStatus(t *testing.T, who, out string) {
	t.Helper()
	var st []endpointStatus
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&st); err != nil || len(st) != 1 {
		t.Errorf("%s: endpoint status -w json: %v, %d entries\n%s", who, err, len(st), out)
		return
	}
	s := st[0].Status
	if !strings.HasPrefix(s.Version, "3.7") {
		t.Errorf("%s: endpoint status version = %q, want 3.7.x\n%s", who, s.Version, out)
	}
	leader, _ := strconv.ParseUint(string(s.Leader), 10, 64)
	member, _ := strconv.ParseUint(string(s.Header.MemberID), 10, 64)
	if leader == 0 || leader != member {
		t.Errorf("%s: endpoint status leader = %s, member_id = %s; a single member must lead itself\n%s", who, s.Leader, s.Header.MemberID, out)
	}
	rev, _ := strconv.ParseInt(string(s.Header.Revision), 10, 64)
	idx, _ := strconv.ParseUint(string(s.RaftIndex), 10, 64)
	if idx == 0 || int64(idx) < rev {
		t.Errorf("%s: endpoint status raftIndex = %s below revision %d\n%s", who, s.RaftIndex, rev, out)
	}
	if term, _ := strconv.ParseUint(string(s.RaftTerm), 10, 64); term == 0 {
		t.Errorf("%s: endpoint status raftTerm = %s\n%s", who, s.RaftTerm, out)
	}
	if size, _ := strconv.ParseInt(string(s.DBSize), 10, 64); size <= 0 {
		t.Errorf("%s: endpoint status dbSize = %s\n%s", who, s.DBSize, out)
	}
}

var (
	hexID         = regexp.MustCompile(`\b[0-9a-f]{16}\b|\b[0-9a-f]{12,15}\b`)
	fieldsIDLines = regexp.MustCompile(`(?m)^"(ClusterID|MemberID|RaftTerm)" : .*\n`)
)

// normalizeCtl removes from etcdctl output what legitimately differs between
// two servers: cluster and member ids, raft terms and the member's URLs.
func normalizeCtl(args []string, out string, m *framework.Member) string {
	out = strings.ReplaceAll(out, m.ClientURL, "<client-url>")
	out = strings.ReplaceAll(out, m.PeerURL, "<peer-url>")
	if isJSON(args) {
		return normalizeJSON(out)
	}
	if len(args) > 0 && args[0] == "member" {
		out = hexID.ReplaceAllString(out, "<id>")
	}
	return fieldsIDLines.ReplaceAllString(out, "")
}

func isJSON(args []string) bool {
	for i, a := range args {
		if a == "-w=json" || a == "--write-out=json" || ((a == "-w" || a == "--write-out") && i+1 < len(args) && args[i+1] == "json") {
			return true
		}
	}
	return false
}

// normalizeJSON decodes etcdctl's JSON output, drops header.cluster_id,
// header.member_id, header.raft_term and member IDs, and re-encodes it with
// sorted keys.
func normalizeJSON(out string) string {
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "undecodable JSON: " + err.Error() + "\n" + out
	}
	stripIDs(v)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("unencodable JSON: %v", err)
	}
	return buf.String()
}

func stripIDs(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch k {
			case "cluster_id", "member_id", "raft_term", "ID":
				delete(x, k)
			default:
				stripIDs(e)
			}
		}
	case []any:
		for _, e := range x {
			stripIDs(e)
		}
	}
}
