package framework

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Result is the outcome of a finished command.
type Result struct {
	Stdout   string
	Stderr   string
	ExitCode int
}

// ErrorLines returns the stderr lines that start with "Error:", which is how
// etcdctl reports failures (other stderr lines are client retry logs).
func (r Result) ErrorLines() []string {
	var out []string
	for _, l := range strings.Split(r.Stderr, "\n") {
		if strings.HasPrefix(l, "Error:") {
			out = append(out, l)
		}
	}
	return out
}

// RunCommand runs bin with args in dir (empty: a fresh temporary directory)
// and stdin, waits at most timeout, and returns its output and exit code. It
// fails the test if the command cannot be run or does not finish in time.
func RunCommand(t testing.TB, timeout time.Duration, dir, stdin, bin string, args ...string) Result {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	setProcAttr(cmd)
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("%s %s: did not finish within %s\nstdout:\n%s\nstderr:\n%s", bin, strings.Join(args, " "), timeout, res.Stdout, res.Stderr)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
	default:
		t.Fatalf("%s %s: %v", bin, strings.Join(args, " "), err)
	}
	return res
}

// cleanEnv is the test's environment without ETCD_ and ETCDCTL_ variables,
// which the tools would read as flags.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "ETCD_") || strings.HasPrefix(kv, "ETCDCTL_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
