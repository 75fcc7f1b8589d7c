package etcdctl

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond for up to 10 s (a bound against hangs, not a timing
// assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWatch watches a prefix with --prev-kv and an exec command, and
// stops when the context ends.
func TestWatch(t *testing.T) {
	c := newCtl(t)
	out, errb := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	dir := t.TempDir()
	args := []string{"--endpoints=" + c.member.ClientURL, "watch", "w", "--prefix", "--prev-kv", "--",
		"sh", "-c", `echo "$ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY $ETCD_WATCH_VALUE" >> ` + filepath.Join(dir, "events")}
	go func() {
		done <- Run(ctx, args, IO{Stdin: strings.NewReader(""), Stdout: out, Stderr: errb, Environ: []string{"PATH=" + os.Getenv("PATH")}})
	}()
	// The watch starts after a moment; write until the first event shows.
	waitFor(t, "the first event", func() bool {
		c.mustRun("", "put", "w1", "a")
		time.Sleep(50 * time.Millisecond)
		return strings.Contains(out.String(), "PUT\nw1\na\n")
	})
	c.mustRun("", "put", "w1", "b")
	c.mustRun("", "del", "w1")
	c.mustRun("", "put", "other", "x")
	want := "PUT\nw1\na\nw1\nb\nDELETE\nw1\nb\nw1\n\n"
	waitFor(t, "the delete event", func() bool { return strings.HasSuffix(out.String(), want) })
	waitFor(t, "the command run for the delete", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "events"))
		return strings.Contains(string(b), "DELETE")
	})
	cancel()
	// Cancelling ends the watch (ExitInterrupted, as when the server
	// cancels it); it may also kill a command still exiting (ExitError,
	// reported as the kill or as the cancelled context).
	killed := strings.Contains(errb.String(), "signal: killed") || strings.Contains(errb.String(), "context canceled")
	if code := <-done; code != ExitInterrupted && !(code == ExitError && killed) {
		t.Errorf("watch exit %d, want %d; stderr %s", code, ExitInterrupted, errb.String())
	}
	if strings.Contains(out.String(), "other") {
		t.Errorf("watch on prefix w printed another key:\n%s", out.String())
	}
	events, err := os.ReadFile(filepath.Join(dir, "events"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(events), "\"PUT\" \"w1\" \"b\"\n\"DELETE\" \"w1\" \"\"\n") {
		t.Errorf("exec command saw:\n%s", events)
	}
}

// TestWatchInteractive reads watch lines from stdin.
func TestWatchInteractive(t *testing.T) {
	c := newCtl(t)
	c.mustRun("", "put", "i1", "v1")
	pr, pw := io.Pipe()
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(context.Background(), []string{"--endpoints=" + c.member.ClientURL, "watch", "-i"}, IO{Stdin: pr, Stdout: out, Stderr: errb})
	}()
	io.WriteString(pw, "watch i1 --rev=1\n")
	waitFor(t, "the history event", func() bool { return strings.Contains(out.String(), "PUT\ni1\nv1\n") })
	io.WriteString(pw, "bogus\n")
	waitFor(t, "the invalid command error", func() bool { return strings.Contains(errb.String(), "Invalid command bogus (only support watch)") })
	pw.Close()
	if code := <-done; code != ExitInvalidInput || !strings.Contains(errb.String(), "Error: error reading watch request line: EOF") {
		t.Errorf("exit %d stderr %q", code, errb.String())
	}
}

// TestLease grants, attaches, inspects, keeps alive and revokes a lease.
func TestLease(t *testing.T) {
	c := newCtl(t)
	out := c.mustRun("", "lease", "grant", "100")
	m := regexp.MustCompile(`^lease ([0-9a-f]{16}) granted with TTL\(100s\)\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("lease grant printed %q", out)
	}
	id := m[1]
	c.mustRun("", "put", "lk", "v", "--lease="+id)
	if out := c.mustRun("", "lease", "timetolive", id, "--keys"); !regexp.MustCompile(`^lease ` + id + ` granted with TTL\(100s\), remaining\(\d+s\), attached keys\(\[lk\]\)\n$`).MatchString(out) {
		t.Errorf("timetolive printed %q", out)
	}
	if out := c.mustRun("", "lease", "list"); out != "found 1 leases\n"+id+"\n" {
		t.Errorf("lease list printed %q", out)
	}
	if out := c.mustRun("", "lease", "keep-alive", "--once", id); out != "lease "+id+" keepalived with TTL(100)\n" {
		t.Errorf("keep-alive printed %q", out)
	}
	if out := c.mustRun("", "lease", "keep-alive", "--once", id, "-w", "json"); !strings.Contains(out, `"TTL":100`) {
		t.Errorf("keep-alive json printed %q", out)
	}
	if out := c.mustRun("", "put", "lk", "v2", "--ignore-lease", "-w", "fields", "--hex"); !strings.Contains(out, `"RaftTerm"`) {
		t.Errorf("put fields printed %q", out)
	}
	if out := c.mustRun("", "get", "lk", "-w", "fields", "--hex"); !strings.Contains(out, `"Lease" : `+id) {
		t.Errorf("--ignore-lease lost the lease:\n%s", out)
	}
	if out := c.mustRun("", "lease", "revoke", id); out != "lease "+id+" revoked\n" {
		t.Errorf("revoke printed %q", out)
	}
	if out := c.mustRun("", "get", "lk"); out != "" {
		t.Errorf("key of a revoked lease is still there: %q", out)
	}
	if out := c.mustRun("", "lease", "timetolive", id); out != "lease "+id+" already expired\n" {
		t.Errorf("timetolive of a revoked lease printed %q", out)
	}
	r := c.run("", "lease", "keep-alive", "--once", id)
	if r.code != ExitBadConnection || !strings.Contains(r.stderr, "Error: etcdserver: requested lease not found") {
		t.Errorf("keep-alive of a revoked lease: exit %d stderr %q", r.code, r.stderr)
	}
}

// TestSnapshotSaveAndDefrag saves a snapshot and defragments.
func TestSnapshotSaveAndDefrag(t *testing.T) {
	c := newCtl(t)
	c.mustRun("", "put", "s", "v")
	path := filepath.Join(t.TempDir(), "snap.db")
	out := c.mustRun("", "snapshot", "save", path)
	if !strings.HasPrefix(out, "Snapshot saved at "+path+"\nServer version ") {
		t.Errorf("snapshot save printed %q", out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%512 != sha256.Size {
		t.Fatalf("snapshot of %d bytes has no trailing sha256", len(b))
	}
	body := b[:len(b)-sha256.Size]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], b[len(body):]) {
		t.Errorf("snapshot checksum does not match its contents")
	}
	if _, err := os.Stat(path + ".part"); !os.IsNotExist(err) {
		t.Errorf("the .part file was left behind: %v", err)
	}
	r := c.run("", "--endpoints="+c.member.ClientURL+","+c.member.ClientURL, "snapshot", "save", path)
	if r.code != ExitInterrupted || !strings.Contains(r.stderr, "snapshot must be requested to one selected node") {
		t.Errorf("snapshot with two endpoints: exit %d stderr %q", r.code, r.stderr)
	}
	if out := c.mustRun("", "defrag"); !regexp.MustCompile(`^Finished defragmenting etcd member\[` + regexp.QuoteMeta(c.member.ClientURL) + `\]. took .+\n$`).MatchString(out) {
		t.Errorf("defrag printed %q", out)
	}
}

// TestEnvironment maps ETCDCTL_* variables to global flags.
func TestEnvironment(t *testing.T) {
	c := newCtl(t)
	c.mustRun("", "put", "e", "v")
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"get", "e"}, IO{Stdout: &out, Stderr: &errb, Environ: []string{
		"ETCDCTL_ENDPOINTS=" + c.member.ClientURL, "ETCDCTL_WRITE_OUT=fields", "ETCDCTL_HEX=true", "ETCDCTL_BOGUS=1",
	}})
	if code != 0 || !strings.Contains(out.String(), `"Lease" : 0000000000000000`) {
		t.Errorf("exit %d, stdout %q: ETCDCTL_WRITE_OUT/ETCDCTL_HEX not applied", code, out.String())
	}
	if !strings.Contains(errb.String(), `"msg":"unrecognized environment variable","environment-variable":"ETCDCTL_BOGUS=1"`) {
		t.Errorf("no warning about ETCDCTL_BOGUS: %q", errb.String())
	}
	out.Reset()
	errb.Reset()
	code = Run(context.Background(), []string{"--endpoints=" + c.member.ClientURL, "get", "e"}, IO{Stdout: &out, Stderr: &errb, Environ: []string{
		"ETCDCTL_ENDPOINTS=" + c.member.ClientURL,
	}})
	if code != ExitError || out.Len() != 0 || !strings.Contains(errb.String(), `"level":"fatal"`) || !strings.Contains(errb.String(), `"environment-variable":"ETCDCTL_ENDPOINTS"`) {
		t.Errorf("flag and variable both set: exit %d stdout %q stderr %q", code, out.String(), errb.String())
	}
}

// TestCheckPerf runs a shortened check perf and checks that it reports
// and cleans up.
func TestCheckPerf(t *testing.T) {
	c := newCtl(t)
	old := checkPerfDuration
	checkPerfDuration = 2 * time.Second
	defer func() { checkPerfDuration = old }()
	r := c.run("", "check", "perf", "--auto-compact")
	if !strings.Contains(r.stdout, "writes/s\n") || !strings.Contains(r.stdout, "Compacting with revision ") {
		t.Errorf("check perf: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if (r.code == 0) != strings.HasSuffix(r.stdout, "PASS\n") {
		t.Errorf("exit %d does not match the verdict in %q", r.code, r.stdout)
	}
	if out := c.mustRun("", "get", "/etcdctl-check-perf/", "--prefix", "--count-only", "-w", "fields"); !strings.Contains(out, `"Count" : 0`) {
		t.Errorf("check perf left keys behind:\n%s", out)
	}
	c.mustRun("", "put", "/etcdctl-check-perf/x", "y")
	if r := c.run("", "check", "perf"); r.code != ExitInvalidInput || !strings.Contains(r.stderr, `prefix "/etcdctl-check-perf/" has keys`) {
		t.Errorf("check perf on a used prefix: exit %d stderr %q", r.code, r.stderr)
	}
	if r := c.run("", "check", "perf", "--load=huge"); r.code != ExitBadFeature {
		t.Errorf("check perf --load=huge: exit %d", r.code)
	}
}
