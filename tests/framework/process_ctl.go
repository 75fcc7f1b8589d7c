package framework

import (
	"fmt"
	"syscall"
)

// SetEnv replaces the variables appended to the environment of the next
// runs (ProcessConfig.Env); the current run keeps its own.
func (p *Process) SetEnv(env []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg.Env = append([]string(nil), env...)
}

// Signal sends sig to the current run, for instance SIGSTOP and SIGCONT to
// freeze and thaw it. It fails if the process is not running.
func (p *Process) Signal(sig syscall.Signal) error {
	r := p.current()
	if r == nil || isClosed(r.done) {
		return fmt.Errorf("%s: not running", p.cfg.Name)
	}
	return r.cmd.Process.Signal(sig)
}

// ExitCode returns the exit status of the last run once it has ended (-1
// if a signal ended it); ok is false while it runs or before the first run.
func (p *Process) ExitCode() (code int, ok bool) {
	r := p.current()
	if r == nil || !isClosed(r.done) {
		return 0, false
	}
	return r.cmd.ProcessState.ExitCode(), true
}

// Exited returns a channel closed when the current run ends, or nil before
// the first run.
func (p *Process) Exited() <-chan struct{} {
	r := p.current()
	if r == nil {
		return nil
	}
	return r.done
}

// Args returns a copy of the command-line arguments of the next runs.
func (p *Process) Args() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.cfg.Args...)
}

// SetArgs replaces the command-line arguments of the next runs, for
// instance to start a member again on a fresh data directory; the current
// run keeps its own.
func (p *Process) SetArgs(args []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg.Args = append([]string(nil), args...)
}
