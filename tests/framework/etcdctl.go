package framework

import (
	"strings"
	"testing"
	"time"
)

// Etcdctl runs the official etcdctl against fixed endpoints.
type Etcdctl struct {
	t         testing.TB
	Bin       string
	Endpoints []string
	// Timeout bounds each invocation.
	Timeout time.Duration
}

// NewEtcdctl returns a runner for the reference etcdctl (built on first use)
// talking to endpoints.
func NewEtcdctl(t testing.TB, endpoints ...string) *Etcdctl {
	t.Helper()
	return &Etcdctl{t: t, Bin: Reference(t).Etcdctl, Endpoints: endpoints, Timeout: 30 * time.Second}
}

// Run runs etcdctl --endpoints=... args and returns its result.
func (e *Etcdctl) Run(args ...string) Result {
	e.t.Helper()
	return e.RunStdin("", args...)
}

// RunStdin is Run with stdin.
func (e *Etcdctl) RunStdin(stdin string, args ...string) Result {
	e.t.Helper()
	full := append([]string{"--endpoints=" + strings.Join(e.Endpoints, ","), "--dial-timeout=2s", "--command-timeout=10s"}, args...)
	return RunCommand(e.t, e.Timeout, "", stdin, e.Bin, full...)
}

// MustRun runs etcdctl and fails the test unless it exits 0; it returns
// stdout.
func (e *Etcdctl) MustRun(args ...string) string {
	e.t.Helper()
	r := e.Run(args...)
	if r.ExitCode != 0 {
		e.t.Fatalf("etcdctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.ExitCode, r.Stdout, r.Stderr)
	}
	return r.Stdout
}
