// Package etcdctl implements the etcdctl command line client of etcd's v3
// API: the same commands, flags, ETCDCTL_* environment variables, output
// formats (simple, fields, json, protobuf, table) and exit codes as etcdctl
// v3.7, on top of go.etcd.io/etcd/client/v3. cmd/etcdctl only calls Run.
package etcdctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Name is the program name.
const Name = "etcdctl"

// Exit codes, as etcdctl's.
const (
	ExitSuccess       = 0
	ExitError         = 1
	ExitBadConnection = 2
	ExitInvalidInput  = 3
	ExitBadFeature    = 4
	ExitInterrupted   = 5
	ExitIO            = 6
	ExitBadArgs       = 128
)

// IO is the process environment a Run works in.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Environ is the environment as KEY=value strings (os.Environ()); the
	// ETCDCTL_* variables are read from it and it is passed to commands
	// run by `watch ... -- command`.
	Environ []string
}

// exitError is a failure with the exit code to leave with. A nil err
// exits with the code and prints nothing.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// fail returns err to be printed as "Error: <err>" and exited with code.
func fail(code int, err error) error { return &exitError{code: code, err: err} }

// failf is fail with a formatted error.
func failf(code int, format string, args ...any) error {
	return fail(code, fmt.Errorf(format, args...))
}

// exitQuietly exits with code without printing an error.
func exitQuietly(code int) error { return &exitError{code: code} }

func init() {
	// etcdctl accepts unambiguous prefixes of command names.
	cobra.EnablePrefixMatching = true
}

// Run runs etcdctl with args (without the program name) and returns the
// exit code. Long-running commands (watch, lease keep-alive) stop when ctx
// ends.
func Run(ctx context.Context, args []string, stdio IO) int {
	if stdio.Stdin == nil {
		stdio.Stdin = strings.NewReader("")
	}
	if stdio.Stdout == nil {
		stdio.Stdout = io.Discard
	}
	if stdio.Stderr == nil {
		stdio.Stderr = io.Discard
	}
	a := newApp(ctx, args, stdio)
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdio.Stdin)
	// As in etcdctl, which leaves cobra's writers at their defaults, the
	// usage printed after a flag error goes to stderr; help goes to
	// stdout (see rootCommand's help function).
	root.SetOut(stdio.Stderr)
	root.SetErr(stdio.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		err = a.failed
	}
	if err == nil {
		return ExitSuccess
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stdio.Stderr, "Error:", ee.err)
		}
		return ee.code
	}
	// Cobra already printed its own (flag, argument, command) errors.
	return ExitError
}
