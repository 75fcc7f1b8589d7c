// Package etcdutl is the command line of etcdutl, the offline administration
// tool for etcd data files. It mirrors the official etcdutl v3.7: the same
// command names, flags, defaults, output formats, error lines and exit codes.
//
// Commands:
//
//	etcdutl snapshot restore <filename> [--data-dir ...] [options]
//	etcdutl snapshot status <filename> [-w simple|json|table|fields]
//	etcdutl defrag --data-dir <dir>
//	etcdutl hashkv <filename> [--rev <revision>] [-w simple|json|table|fields]
//	etcdutl version
//	etcdutl completion bash|zsh|fish|powershell
//
// Failures print "Error: <message>" on stderr and exit with the codes of
// etcd's cobrautl (ExitError, ExitBadFeature, ExitBadArgs). The work itself
// is done by internal/snapshot, internal/backend (defrag) and internal/mvcc
// (hashkv); this package only parses and prints.
package etcdutl

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes, as etcd's cobrautl defines them.
const (
	ExitSuccess    = 0
	ExitError      = 1
	ExitBadFeature = 4
	ExitBadArgs    = 128
)

// Name is the program name shown in usage lines.
const Name = "etcdutl"

// Run executes etcdutl with args (without the program name), writing command
// output to stdout and diagnostics to stderr, and returns the process exit
// code.
func Run(args []string, stdout, stderr io.Writer) int {
	a := newApp(stdout, stderr)
	root := a.rootCommand()
	root.SetArgs(args)
	// Cobra's "out" writer only receives usage after errors: help and
	// command output are written to stdout directly.
	root.SetOut(stderr)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		err = a.failed
	}
	if err == nil {
		return ExitSuccess
	}
	code := ExitError
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		err = ee.err
	}
	fmt.Fprintln(stderr, "Error:", err)
	return code
}

// exitError is a failure with the exit code etcdutl uses for it.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func fail(code int, err error) error { return &exitError{code: code, err: err} }

func init() {
	// etcdutl accepts unambiguous command prefixes ("snap stat").
	cobra.EnablePrefixMatching = true
}
