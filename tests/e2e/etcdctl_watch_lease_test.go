package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/etcdgo/etcd/tests/framework"
)

// watchLifetime bounds every background etcdctl watch process.
const watchLifetime = 60 * time.Second

// ctlWatch is a running `etcdctl watch` whose stdout is read line by line.
type ctlWatch struct {
	t      *testing.T
	cmd    *exec.Cmd
	cancel context.CancelFunc
	stdin  io.WriteCloser
	done   chan struct{} // closed once the process has exited
	exit   int

	mu     sync.Mutex
	lines  []string
	stderr bytes.Buffer
	change chan struct{} // closed and replaced on every new line
}

// startCtlWatch starts etcdctl (the reference one) against ctl's endpoints
// with args; it is killed after watchLifetime and on test cleanup.
func startCtlWatch(t *testing.T, ctl *framework.Etcdctl, args ...string) *ctlWatch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), watchLifetime)
	full := append([]string{"--endpoints=" + strings.Join(ctl.Endpoints, ","), "--dial-timeout=2s"}, args...)
	cmd := exec.CommandContext(ctx, ctl.Bin, full...)
	cmd.Dir = t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") && !strings.HasPrefix(kv, "ETCDCTL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	w := &ctlWatch{t: t, cmd: cmd, cancel: cancel, done: make(chan struct{}), change: make(chan struct{})}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	w.stdin = stdin
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &lockedWriter{mu: &w.mu, w: &w.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatalf("etcdctl %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			close(w.change)
			w.change = make(chan struct{})
			w.mu.Unlock()
		}
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			w.exit = ee.ExitCode()
		}
		close(w.done)
	}()
	t.Cleanup(w.stop)
	return w
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// waitLine waits until a line after index from satisfies match and returns
// the number of lines read at that point; it fails the test on timeout or if
// the process exits first.
func (w *ctlWatch) waitLine(from int, match func(string) bool, timeout time.Duration) int {
	w.t.Helper()
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		for i := from; i < len(w.lines); i++ {
			if match(w.lines[i]) {
				n := len(w.lines)
				w.mu.Unlock()
				return n
			}
		}
		ch := w.change
		w.mu.Unlock()
		select {
		case <-ch:
		case <-w.done:
			w.mu.Lock()
			defer w.mu.Unlock()
			for i := from; i < len(w.lines); i++ {
				if match(w.lines[i]) {
					return len(w.lines)
				}
			}
			w.t.Fatalf("etcdctl watch exited (%d) before the expected line\nstdout:\n%s\nstderr:\n%s", w.exit, strings.Join(w.lines, "\n"), w.stderr.String())
		case <-deadline:
			w.mu.Lock()
			defer w.mu.Unlock()
			w.t.Fatalf("etcdctl watch: expected line not seen within %s\nstdout:\n%s\nstderr:\n%s", timeout, strings.Join(w.lines, "\n"), w.stderr.String())
		}
	}
}

// waitValue waits for a line equal to v.
func (w *ctlWatch) waitValue(from int, v string) int {
	w.t.Helper()
	return w.waitLine(from, func(l string) bool { return l == v }, 20*time.Second)
}

// stop kills the process (if still running) and waits for it.
func (w *ctlWatch) stop() {
	w.cancel()
	<-w.done
}

// output stops the process and returns its stdout lines from index from.
func (w *ctlWatch) output(from int) []string {
	w.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.lines[from:])
}

// syncWatch puts key=value until the watch reports it, so that the watch is
// known to be established; it returns the number of lines read by then.
func syncWatch(t *testing.T, ctl *framework.Etcdctl, w *ctlWatch, key, value string) int {
	t.Helper()
	for i := 0; i < 100; i++ {
		ctl.MustRun("put", key, value)
		deadline := time.Now().Add(200 * time.Millisecond)
		for time.Now().Before(deadline) {
			w.mu.Lock()
			for _, l := range w.lines {
				if l == value {
					n := len(w.lines)
					w.mu.Unlock()
					return n
				}
			}
			ch := w.change
			w.mu.Unlock()
			select {
			case <-ch:
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	t.Fatalf("watch never reported the sync put of %s", key)
	return 0
}

// transcript is what one server made etcdctl print, step by step.
type transcript struct {
	names   []string
	outputs map[string]string
}

func (tr *transcript) add(name, out string) {
	if tr.outputs == nil {
		tr.outputs = map[string]string{}
	}
	base := name
	for i := 2; ; i++ {
		if _, dup := tr.outputs[name]; !dup {
			break
		}
		name = fmt.Sprintf("%s #%d", base, i)
	}
	tr.names = append(tr.names, name)
	tr.outputs[name] = out
}

var (
	leaseGranted = regexp.MustCompile(`^lease ([0-9a-f]+) granted with TTL\((\d+)s\)\n$`)
	remainingTTL = regexp.MustCompile(`remaining\((\d+)s\)`)
	jsonTTL      = regexp.MustCompile(`"ttl":(\d+)`)
	attachedKeys = regexp.MustCompile(`attached keys\(\[([^\]]*)\]\)`)
	otherLease   = regexp.MustCompile(`\blease [0-9a-f]{1,16} `)
)

// normalizeLease replaces a lease ID (hex and decimal) with <lease> and
// checks remaining TTLs are close to the granted one before replacing them.
func normalizeLease(t *testing.T, who, out string, hexID string, granted int) string {
	t.Helper()
	if hexID != "" {
		id, err := strconv.ParseUint(hexID, 16, 64)
		if err != nil {
			t.Fatalf("%s: lease id %q: %v", who, hexID, err)
		}
		out = strings.ReplaceAll(out, hexID, "<lease>")
		out = strings.ReplaceAll(out, strconv.FormatUint(id, 10), "<lease>")
	}
	// Other leases the server chose an ID for (lease grant 0).
	out = otherLease.ReplaceAllString(out, "lease <other-lease> ")
	check := func(s string) string {
		n, _ := strconv.Atoi(s)
		if n < granted-10 || n > granted {
			t.Errorf("%s: remaining TTL %d, granted %d\n%s", who, n, granted, out)
		}
		return "<ttl>"
	}
	out = remainingTTL.ReplaceAllStringFunc(out, func(m string) string {
		return "remaining(" + check(remainingTTL.FindStringSubmatch(m)[1]) + ")"
	})
	out = jsonTTL.ReplaceAllStringFunc(out, func(m string) string {
		return `"ttl":` + check(jsonTTL.FindStringSubmatch(m)[1])
	})
	return out
}

// ctlResult renders exit code, Error: lines and normalised stdout.
func ctlResult(args []string, r framework.Result, m *framework.Member) string {
	return fmt.Sprintf("exit %d\n%s\n%s", r.ExitCode, strings.Join(r.ErrorLines(), "\n"), normalizeCtl(args, r.Stdout, m))
}

// watchLeaseScenario runs the etcdctl watch and lease commands against one
// member and returns what etcdctl printed, normalised.
func watchLeaseScenario(t *testing.T, who string, m *framework.Member) *transcript {
	ctl := m.Etcdctl(t)
	tr := &transcript{}
	run := func(args ...string) framework.Result {
		t.Helper()
		r := ctl.Run(args...)
		tr.add(strings.Join(args, " "), ctlResult(args, r, m))
		return r
	}
	lines := func(ls []string) string { return strings.Join(ls, "\n") }

	// History: revisions are deterministic here (a fresh member at rev 1).
	for _, kv := range [][2]string{{"a/1", "x1"}, {"a/2", "x2"}, {"a/1", "x1b"}, {"b", "y"}, {"a/3", "x3"}} {
		run("put", kv[0], kv[1])
	}
	run("del", "a/2")
	run("put", "a/end", "END") // rev 8
	for _, args := range [][]string{
		{"watch", "a/", "--prefix", "--rev", "1"},
		{"watch", "a/", "--prefix", "--rev", "3", "--prev-kv"},
		{"watch", "a/1", "--rev", "1"},
		{"watch", "a/", "a/f", "--rev", "2"},
		{"watch", "", "--prefix", "--rev", "5", "--prev-kv"},
		{"watch", "a/", "--prefix", "--rev", "1", "-w", "json"},
	} {
		w := startCtlWatch(t, ctl, args...)
		match := func(l string) bool { return l == "END" || strings.Contains(l, `"RU5E"`) }
		if slices.Contains(args, "a/1") {
			match = func(l string) bool { return l == "x1b" }
		}
		w.waitLine(0, match, 20*time.Second)
		out := w.output(0)
		name := strings.Join(args, " ")
		if isJSON(args) {
			var norm []string
			for _, l := range out {
				norm = append(norm, normalizeJSON(l))
			}
			out = norm
		}
		tr.add(name, lines(out))
	}

	// A live JSON watch from the next revision (9); each put waits for its
	// event so responses are not batched by chance.
	{
		w := startCtlWatch(t, ctl, "watch", "j", "--rev", "9", "--prev-kv", "-w", "json")
		n := 0
		for _, v := range []string{"j1", "j2", "END"} {
			run("put", "j", v)
			n = w.waitLine(n, func(l string) bool {
				return strings.Contains(l, `"`+b64(v)+`"`)
			}, 20*time.Second)
		}
		run("del", "j")
		w.waitLine(n, func(l string) bool { return strings.Contains(l, `"type":1`) }, 20*time.Second)
		var norm []string
		for _, l := range w.output(0) {
			norm = append(norm, normalizeJSON(l))
		}
		tr.add("watch j --rev 9 --prev-kv -w json (live)", lines(norm))
	}

	// Leases.
	grant := ctl.Run("lease", "grant", "100")
	sm := leaseGranted.FindStringSubmatch(grant.Stdout)
	if grant.ExitCode != 0 || sm == nil {
		t.Fatalf("%s: lease grant 100: exit %d\n%s%s", who, grant.ExitCode, grant.Stdout, grant.Stderr)
	}
	id := sm[1]
	norm := func(args []string, r framework.Result) string {
		return normalizeLease(t, who, ctlResult(args, r, m), id, 100)
	}
	tr.add("lease grant 100", norm([]string{"lease", "grant"}, grant))
	lrun := func(args ...string) {
		t.Helper()
		r := ctl.Run(args...)
		r.Stdout = sortAttachedKeys(r.Stdout)
		tr.add(strings.ReplaceAll(strings.Join(args, " "), id, "<lease>"), norm(args, r))
	}
	lrun("lease", "list")
	lrun("lease", "list", "-w", "json")
	lrun("lease", "timetolive", id)
	lrun("lease", "timetolive", id, "--keys")
	lrun("put", "--lease", id, "lk1", "v1")
	lrun("put", "--lease="+id, "lk2", "v2")
	lrun("put", "--lease", "123456", "lk3", "v3")
	lrun("lease", "timetolive", id, "--keys")
	lrun("lease", "timetolive", id, "--keys", "-w", "json")
	lrun("get", "lk", "--prefix", "-w", "json")
	lrun("lease", "keep-alive", "--once", id)
	lrun("lease", "keep-alive", "--once", "123456")
	lrun("lease", "revoke", id)
	lrun("get", "lk", "--prefix")
	lrun("lease", "timetolive", id)
	lrun("lease", "timetolive", id, "--keys")
	lrun("lease", "list")
	lrun("lease", "revoke", id)
	lrun("lease", "revoke", "123456")
	lrun("lease", "revoke", "zz")
	lrun("lease", "grant", "0")
	lrun("lease", "grant", "abc")

	// Compaction, then a watch from below it: etcdctl reports the
	// cancellation and exits.
	run("compaction", "5")
	{
		args := []string{"watch", "a/", "--prefix", "--rev", "2"}
		w := startCtlWatch(t, ctl, args...)
		select {
		case <-w.done:
		case <-time.After(10 * time.Second):
		}
		out := w.output(0)
		w.mu.Lock()
		var errLines []string
		for _, l := range strings.Split(w.stderr.String(), "\n") {
			if strings.HasPrefix(l, "Error:") {
				errLines = append(errLines, l)
			}
		}
		w.mu.Unlock()
		tr.add(strings.Join(args, " ")+" (compacted)", fmt.Sprintf("exit %d\n%s\n%s", w.exit, strings.Join(errLines, "\n"), lines(out)))
	}

	// Live watches, established by a sync put first: revisions differ
	// between the servers from here on, so only simple output is compared.
	{
		w := startCtlWatch(t, ctl, "watch", "k")
		n := syncWatch(t, ctl, w, "k", "sync")
		run("put", "k", "v1")
		run("put", "k2", "other")
		run("put", "k", "v2")
		run("del", "k")
		run("put", "k", "END")
		w.waitValue(n, "END")
		tr.add("watch k (live)", lines(w.output(n)))
	}
	{
		w := startCtlWatch(t, ctl, "watch", "p/", "--prefix", "--prev-kv")
		n := syncWatch(t, ctl, w, "p/sync", "sync")
		run("put", "p/a", "1")
		run("put", "p/b", "2")
		run("put", "p/a", "3")
		run("put", "q", "outside")
		run("del", "p/", "--prefix")
		run("put", "p/z", "END")
		w.waitValue(n, "END")
		tr.add("watch p/ --prefix --prev-kv (live)", lines(w.output(n)))
	}
	{
		// Interactive: watch commands read from stdin.
		w := startCtlWatch(t, ctl, "watch", "-i")
		if _, err := io.WriteString(w.stdin, "watch i1\nwatch i/ --prefix --prev-kv\n"); err != nil {
			t.Fatal(err)
		}
		n := syncWatch(t, ctl, w, "i1", "sync")
		n = syncWatch(t, ctl, w, "i/sync", "sync2")
		run("put", "i/x", "1")
		run("put", "i/x", "2")
		run("del", "i/x")
		run("put", "i1", "i1v")
		run("put", "i/z", "END")
		w.waitValue(n, "END")
		out := w.output(n)
		tr.add("watch -i (live)", lines(out))
	}
	return tr
}

// sortAttachedKeys sorts the keys `lease timetolive --keys` prints (text
// and JSON): etcd lists them in map order.
func sortAttachedKeys(out string) string {
	out = attachedKeys.ReplaceAllStringFunc(out, func(m string) string {
		ks := strings.Fields(attachedKeys.FindStringSubmatch(m)[1])
		slices.Sort(ks)
		return "attached keys([" + strings.Join(ks, " ") + "])"
	})
	if !strings.HasPrefix(out, "{") || !strings.Contains(out, `"keys"`) {
		return out
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return out
	}
	if ks, ok := v["keys"].([]any); ok {
		slices.SortFunc(ks, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	}
	b, err := json.Marshal(v)
	if err != nil {
		return out
	}
	return string(b) + "\n"
}

func b64(s string) string {
	b, _ := json.Marshal([]byte(s))
	return strings.Trim(string(b), `"`)
}

// TestEtcdctlWatchLease runs the official etcdctl's watch and lease commands
// against our etcd and the official etcd v3.7.3 and compares the outputs.
func TestEtcdctlWatchLease(t *testing.T) {
	ref := framework.Reference(t)
	theirs := framework.StartMember(t, framework.MemberConfig{Bin: ref.Etcd, Name: "infra"})
	ours := framework.StartMember(t, framework.MemberConfig{Name: "infra"})
	want := watchLeaseScenario(t, "reference etcd", theirs)
	got := watchLeaseScenario(t, "our etcd", ours)
	if !slices.Equal(want.names, got.names) {
		t.Fatalf("step lists differ: %v vs %v", want.names, got.names)
	}
	for _, name := range want.names {
		a, b := want.outputs[name], got.outputs[name]
		if a != b {
			t.Errorf("etcdctl %s: output differs (-reference +ours):\n%s", name, cmp.Diff(strings.Split(a, "\n"), strings.Split(b, "\n")))
		}
	}
	if testing.Verbose() {
		for _, name := range want.names {
			t.Logf("etcdctl %s (reference):\n%s", name, want.outputs[name])
		}
	}
}
