package framework

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestParseLogLine(t *testing.T) {
	l, ok := ParseLogLine(`{"level":"info","ts":"2026-01-01T00:00:00Z","msg":"ready to serve client requests"}`)
	if !ok || l.Msg() != ReadyMessage || l.Level() != "info" {
		t.Fatalf("ParseLogLine = %v, %v", l, ok)
	}
	for _, s := range []string{"", "plain text", "{not json", `["array"]`} {
		if _, ok := ParseLogLine(s); ok {
			t.Errorf("ParseLogLine(%q) accepted a non-object line", s)
		}
	}
}

func TestFreePortDistinct(t *testing.T) {
	seen := map[int]bool{}
	for range 50 {
		p := FreePort(t)
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		if !PortFree(p) {
			t.Fatalf("port %d is not free", p)
		}
	}
}

func TestModulePath(t *testing.T) {
	got := modulePath([]byte("// c\nmodule github.com/etcdgo/etcd/tests\n\ngo 1.26\n"))
	if got != "github.com/etcdgo/etcd/tests" {
		t.Fatalf("modulePath = %q", got)
	}
	if got := modulePath([]byte("modulex foo\n")); got != "" {
		t.Fatalf("modulePath accepted %q", got)
	}
}

// TestReferenceMemberLifecycle drives the reference etcd through the member
// helpers: start, write, clean stop, restart, kill -9, start again.
func TestReferenceMemberLifecycle(t *testing.T) {
	ref := Reference(t)
	m := StartMember(t, MemberConfig{Bin: ref.Etcd, Name: "life"})
	cli := m.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, "k", "v1"); err != nil {
		t.Fatalf("put: %v", err)
	}
	ctl := m.Etcdctl(t)
	if out := ctl.MustRun("get", "k", "--print-value-only"); out != "v1\n" {
		t.Fatalf("etcdctl get = %q", out)
	}
	if err := m.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if m.Running() {
		t.Fatal("running after Stop")
	}
	if r := ctl.Run("get", "k"); r.ExitCode == 0 {
		t.Fatalf("etcdctl succeeded against a stopped member: %q", r.Stdout)
	}
	if err := m.Start(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if _, err := cli.Put(ctx, "k", "v2"); err != nil {
		t.Fatalf("put after restart: %v", err)
	}
	pid := m.PID()
	m.Kill()
	if m.Running() {
		t.Fatal("running after Kill")
	}
	if err := m.Restart(); err != nil {
		t.Fatalf("start after kill: %v", err)
	}
	if m.PID() == pid {
		t.Fatal("same pid after restart")
	}
	resp, err := cli.Get(ctx, "k")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v2" || resp.Kvs[0].Version != 2 {
		t.Fatalf("get after kill/restart = %v", resp.Kvs)
	}
	if n := strings.Count(m.Logs(), ReadyMessage); n != 3 {
		t.Fatalf("ready message seen %d times in the logs, want 3", n)
	}
	if fi, err := os.Stat(m.LogPath()); err != nil || fi.Size() == 0 {
		t.Fatalf("log file %s: %v", m.LogPath(), err)
	}
}

func TestReferenceCluster(t *testing.T) {
	ms := StartCluster(t, Reference(t).Etcd, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := ms[0].Client(t).Put(ctx, "c", "x"); err != nil {
		t.Fatalf("put: %v", err)
	}
	resp, err := ms[2].Client(t).Get(ctx, "c")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "x" {
		t.Fatalf("get from another member = %v, %v", resp, err)
	}
	out := NewEtcdctl(t, ClusterEndpoints(ms)...).MustRun("member", "list")
	if n := strings.Count(out, ", started, "); n != 3 {
		t.Fatalf("member list shows %d started members:\n%s", n, out)
	}
}

func TestWaitReadyReportsEarlyExit(t *testing.T) {
	p := NewProcess(t, ProcessConfig{Name: "bad", Bin: Reference(t).Etcd, Args: []string{"--no-such-flag"}, ReadyTimeout: 20 * time.Second})
	start := time.Now()
	err := p.Start()
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("Start = %v, want an early-exit error", err)
	}
	if time.Since(start) > 15*time.Second {
		t.Fatalf("early exit noticed only after %s", time.Since(start))
	}
	if code, err := p.Wait(time.Second); err != nil || code != 2 {
		t.Fatalf("exit code = %d, %v", code, err)
	}
}

// TestReincarnate checks that a member's next runs get the fresh data dir,
// the joining flags and the same ports; /bin/echo stands in for etcd so the
// arguments of a run can be read back from its output.
func TestReincarnate(t *testing.T) {
	m := NewMember(t, MemberConfig{Bin: "/bin/echo", Name: "m1", InitialCluster: "m0=http://127.0.0.1:1,m1=http://127.0.0.1:2",
		ExtraArgs: []string{"--snapshot-count", "7"}})
	dir := t.TempDir()
	m.Reincarnate(dir, "m1=http://127.0.0.1:2,m2=http://127.0.0.1:3")
	if m.DataDir != dir {
		t.Fatalf("DataDir = %q, want %q", m.DataDir, dir)
	}
	if err := m.StartNoWait(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	out := m.Tail(1)
	for _, want := range []string{
		"--data-dir " + dir + " ",
		"--initial-cluster m1=http://127.0.0.1:2,m2=http://127.0.0.1:3 ",
		"--initial-cluster-state existing",
		"--listen-client-urls " + m.ClientURL,
		"--listen-peer-urls " + m.PeerURL,
		"--snapshot-count 7",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("run's arguments %q lack %q", out, want)
		}
	}
	if strings.Contains(out, "--initial-cluster-state new") {
		t.Errorf("run's arguments %q still say new", out)
	}
}
