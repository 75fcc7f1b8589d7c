package etcdctl

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcdgo/etcd/internal/etcdmain"
)

// With -update, the golden transcripts are rewritten from the official
// etcdctl binary named by $ETCDCTL_REF (e.g. built with
// `cd tests && go build -o /tmp/ref-etcdctl go.etcd.io/etcd/etcdctl/v3`)
// run against the same in-process server.
var update = flag.Bool("update", false, "rewrite testdata/*.golden with the official etcdctl in $ETCDCTL_REF")

// result is one etcdctl invocation's outcome.
type result struct {
	stdout, stderr string
	code           int
}

// ctl runs etcdctl commands against one in-process member.
type ctl struct {
	t      *testing.T
	member *etcdmain.TestMember
	ref    string // the official binary, when updating goldens
	env    []string
}

func newCtl(t *testing.T) *ctl {
	t.Helper()
	c := &ctl{t: t, member: etcdmain.StartForTest(t)}
	if *update {
		c.ref = os.Getenv("ETCDCTL_REF")
		if c.ref == "" {
			t.Fatal("-update needs ETCDCTL_REF, the official etcdctl binary")
		}
	}
	return c
}

// run runs etcdctl --endpoints=<member> args with stdin, in-process (or
// the official binary when updating goldens).
func (c *ctl) run(stdin string, args ...string) result {
	c.t.Helper()
	return c.runCtx(context.Background(), stdin, args...)
}

func (c *ctl) runCtx(ctx context.Context, stdin string, args ...string) result {
	c.t.Helper()
	full := append([]string{"--endpoints=" + c.member.ClientURL}, args...)
	var out, errb bytes.Buffer
	if c.ref != "" {
		cmd := exec.CommandContext(ctx, c.ref, full...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Env = c.env
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			c.t.Fatalf("run %s: %v", c.ref, err)
		}
		return result{out.String(), errb.String(), code}
	}
	code := Run(ctx, full, IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Environ: c.env})
	return result{out.String(), errb.String(), code}
}

func (c *ctl) mustRun(stdin string, args ...string) string {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("etcdctl %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func (c *ctl) client() *clientv3.Client {
	c.t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{c.member.ClientURL}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cli.Close() })
	return cli
}

// normalizer replaces the values that change from run to run (IDs derived
// from the random ports, the ports, durations) with placeholders.
func (c *ctl) normalizer() func(string) string {
	c.t.Helper()
	cli := c.client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ml, err := cli.MemberList(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	member, cluster := ml.Members[0].ID, ml.Header.ClusterId
	clientHost := strings.TrimPrefix(c.member.ClientURL, "http://")
	peerHost := strings.TrimPrefix(c.member.PeerURL, "http://")
	took := regexp.MustCompile(`took = [0-9.]+[µnm]?s|"took":"[^"]*"|took [0-9.]+[µnm]?s`)
	return func(s string) string {
		s = strings.ReplaceAll(s, fmt.Sprint(member), "<MEMBER>")
		s = strings.ReplaceAll(s, fmt.Sprintf("%x", member), "<member>")
		s = strings.ReplaceAll(s, fmt.Sprint(cluster), "<CLUSTER>")
		s = strings.ReplaceAll(s, fmt.Sprintf("%x", cluster), "<cluster>")
		s = strings.ReplaceAll(s, clientHost, "<client>")
		s = strings.ReplaceAll(s, peerHost, "<peer>")
		return took.ReplaceAllString(s, "took <T>")
	}
}

// step is one command of a golden transcript.
type step struct {
	stdin string
	args  []string
}

func st(args ...string) step { return step{args: args} }

// transcript runs the steps and renders each as "$ args", its stdout, its
// stderr lines prefixed "! " and its exit code.
func (c *ctl) transcript(steps []step, norm func(string) string) string {
	c.t.Helper()
	var b strings.Builder
	for _, s := range steps {
		r := c.run(s.stdin, s.args...)
		fmt.Fprintf(&b, "$ etcdctl %s\n", strings.Join(s.args, " "))
		b.WriteString(norm(r.stdout))
		for _, l := range strings.Split(strings.TrimRight(r.stderr, "\n"), "\n") {
			// The client's retry warnings carry addresses and times.
			if l == "" || strings.HasPrefix(l, "{\"level\":\"warn\"") {
				continue
			}
			fmt.Fprintf(&b, "! %s\n", norm(l))
		}
		fmt.Fprintf(&b, "[exit %d]\n", r.code)
	}
	return b.String()
}

func (c *ctl) golden(name, got string) {
	c.t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			c.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatalf("read golden: %v", err)
	}
	if got != string(want) {
		c.t.Errorf("%s: output differs from the official etcdctl's:\n%s", name, firstDiff(got, string(want)))
	}
}

// TestGoldenKV runs key-value commands in every output format on a fresh
// member and compares with the official etcdctl's transcript.
func TestGoldenKV(t *testing.T) {
	c := newCtl(t)
	txn := "mod(\"k1\") > \"0\"\nval(\"foo\") = \"bar\"\n\nput k1 v1-new --prev-kv\nget k --prefix --keys-only\n\ndel k1\n\n"
	steps := []step{
		st("put", "foo", "bar"),
		st("put", "foo", "baz", "--prev-kv"),
		st("put", "k1", "v1"),
		st("put", "k2", "v2"),
		{stdin: "from-stdin", args: []string{"put", "k3"}},
		st("get", "foo"),
		st("get", "foo", "-w", "json"),
		st("get", "foo", "-w", "fields"),
		st("get", "foo", "-w", "fields", "--hex"),
		st("get", "foo", "--hex"),
		st("get", "k", "--prefix", "--sort-by=MODIFY", "--order=DESCEND", "--keys-only"),
		st("get", "k", "--prefix", "--limit=1", "-w", "json"),
		st("get", "k1", "k3"),
		st("get", "", "--from-key", "--print-value-only"),
		st("get", "k", "--prefix", "--count-only", "-w", "fields"),
		st("get", "foo", "--rev=2"),
		{stdin: txn, args: []string{"txn"}},
		{stdin: txn, args: []string{"txn", "-w", "json"}},
		{stdin: txn, args: []string{"txn", "-i", "-w", "fields"}},
		st("del", "k", "--prefix", "--prev-kv"),
		st("put", "d1", "x"),
		st("del", "d", "--prefix", "-w", "json"),
		st("compaction", "3"),
		st("get", "foo", "--rev=2"),
		// Errors and exit codes.
		st("get"),
		st("get", "foo", "-w", "table"),
		st("get", "foo", "-w", "xml"),
		st("get", "foo", "--count-only"),
		st("get", "a", "--prefix", "--from-key"),
		st("get", "foo", "--sort-by=bogus"),
		st("put"),
		st("put", "x", "y", "--lease=zz"),
		st("del"),
		{stdin: "bogus\n\n\n\n", args: []string{"txn"}},
		{stdin: "\n\nput a\n\n", args: []string{"txn"}},
		{stdin: "\n\nput a b\n", args: []string{"txn"}},
		st("compaction"),
		st("compaction", "1"),
		st("bogus"),
	}
	c.golden("kv.golden", c.transcript(steps, c.normalizer()))
}

// TestGoldenCluster covers the membership, endpoint, alarm, lease error
// and auth commands.
func TestGoldenCluster(t *testing.T) {
	c := newCtl(t)
	steps := []step{
		st("member", "list"),
		st("member", "list", "-w", "table"),
		st("member", "list", "-w", "json"),
		st("member", "list", "-w", "json", "--hex"),
		st("member", "list", "-w", "fields"),
		st("member", "list", "-w", "fields", "--hex"),
		st("member", "list", "--consistency=s"),
		st("endpoint", "hashkv", "-w", "table"),
		st("endpoint", "hashkv", "-w", "json"),
		st("endpoint", "hashkv", "--cluster"),
		st("endpoint", "health", "-w", "json"),
		st("endpoint", "health", "--cluster"),
		st("endpoint", "status", "-w", "protobuf"),
		st("alarm", "list"),
		st("alarm", "list", "-w", "fields"),
		st("alarm", "list", "-w", "json"),
		st("member", "add"),
		st("member", "add", "m2", "http://127.0.0.1:1"),
		st("member", "remove", "xyz"),
		st("member", "update", "1"),
		st("move-leader"),
		st("lease", "grant"),
		st("lease", "grant", "ten"),
		st("lease", "revoke", "xyz"),
		st("lease", "timetolive", "123456"),
		st("watch"),
		st("watch", "a", "b", "--prefix"),
		st("snapshot", "save"),
		st("version"),
		st("user", "add"),
		st("role", "list", "x"),
	}
	c.golden("cluster.golden", c.transcript(steps, c.normalizer()))
}

// TestUnimplementedAuth checks that auth commands call the server and
// report its answer as etcdctl does.
func TestUnimplementedAuth(t *testing.T) {
	c := newCtl(t)
	for _, args := range [][]string{
		{"auth", "status"}, {"user", "list"}, {"role", "add", "r"}, {"user", "add", "u:p"}, {"auth", "enable"},
	} {
		r := c.run("", args...)
		if r.code == 0 {
			// Auth exists on the server: then the command must have worked.
			if r.stdout == "" {
				t.Errorf("etcdctl %q: exit 0 without output", args)
			}
			continue
		}
		if r.code != ExitError || !strings.Contains(r.stderr, "Error: ") {
			t.Errorf("etcdctl %q: exit %d, stderr %q; want exit 1 with an Error line", args, r.code, r.stderr)
		}
	}
}

// firstDiff shows the first differing line of got and want with the
// lines before it.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			ctx := strings.Join(w[max(0, i-6):min(i, len(w))], "\n")
			return fmt.Sprintf("after:\n%s\ngot:  %q\nwant: %q", ctx, gl, wl)
		}
	}
	return ""
}
