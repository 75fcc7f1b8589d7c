package framework

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ProcessConfig describes a long-running server process.
type ProcessConfig struct {
	// Name labels the process in test logs and names its log file.
	Name string
	// Bin is the executable.
	Bin string
	// Args are the command-line arguments, without the executable.
	Args []string
	// Dir is the working directory; empty means a fresh temporary one.
	Dir string
	// Env is appended to the test's environment.
	Env []string
	// ReadyTimeout bounds the wait for ReadyMessage; 0 means
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration
}

// Process is a server process that can be started, stopped, killed and
// restarted with the same arguments. Its combined stdout and stderr go to an
// in-memory buffer and to a log file. It is killed on test cleanup.
type Process struct {
	t       testing.TB
	cfg     ProcessConfig
	logPath string

	mu      sync.Mutex
	logFile *os.File
	lines   []string // every complete output line, across all runs
	run     *run     // current or last run; nil before the first Start
	starts  int
}

// run is one execution of the process.
type run struct {
	cmd       *exec.Cmd
	firstLine int           // index in Process.lines of this run's first line
	done      chan struct{} // closed when the process has exited
	err       error         // cmd.Wait's result; valid once done is closed
}

// NewProcess prepares a process without starting it.
func NewProcess(t testing.TB, cfg ProcessConfig) *Process {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = filepath.Base(cfg.Bin)
	}
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	logDir := t.TempDir()
	if os.Getenv("E2E_KEEP_LOGS") != "" {
		d, err := os.MkdirTemp("", "etcdgo-e2e-logs-")
		if err != nil {
			t.Fatalf("log dir: %v", err)
		}
		logDir = d
	}
	p := &Process{t: t, cfg: cfg, logPath: filepath.Join(logDir, cfg.Name+".log")}
	f, err := os.Create(p.logPath)
	if err != nil {
		t.Fatalf("creating log file: %v", err)
	}
	p.logFile = f
	t.Cleanup(p.cleanup)
	return p
}

// Start launches the process and waits until it logs ReadyMessage.
func (p *Process) Start() error {
	if err := p.StartNoWait(); err != nil {
		return err
	}
	return p.WaitReady(p.cfg.ReadyTimeout)
}

// StartNoWait launches the process without waiting for readiness.
func (p *Process) StartNoWait() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run != nil && !isClosed(p.run.done) {
		return fmt.Errorf("%s: already running", p.cfg.Name)
	}
	p.starts++
	p.appendLocked(fmt.Sprintf("--- framework: start #%d: %s %s", p.starts, p.cfg.Bin, strings.Join(p.cfg.Args, " ")))
	cmd := exec.Command(p.cfg.Bin, p.cfg.Args...)
	cmd.Dir = p.cfg.Dir
	cmd.Env = append(cleanEnv(), p.cfg.Env...)
	w := &lineWriter{p: p}
	cmd.Stdout = w
	cmd.Stderr = w
	setProcAttr(cmd)
	r := &run{cmd: cmd, firstLine: len(p.lines), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: starting %s: %w", p.cfg.Name, p.cfg.Bin, err)
	}
	p.run = r
	go func() {
		r.err = cmd.Wait()
		w.flush()
		close(r.done)
	}()
	return nil
}

// WaitReady waits until the current run logs a JSON line whose "msg" is
// ReadyMessage. It fails early if the process exits.
func (p *Process) WaitReady(timeout time.Duration) error {
	return p.WaitForLog(func(l LogLine) bool { return l.Msg() == ReadyMessage }, timeout)
}

// WaitForLog waits until the current run logs a JSON line for which match
// returns true, the process exits, or timeout passes.
func (p *Process) WaitForLog(match func(LogLine) bool, timeout time.Duration) error {
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	if r == nil {
		return fmt.Errorf("%s: not started", p.cfg.Name)
	}
	deadline := time.Now().Add(timeout)
	next := r.firstLine
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		p.mu.Lock()
		lines := p.lines[next:]
		next = len(p.lines)
		p.mu.Unlock()
		for _, s := range lines {
			if l, ok := ParseLogLine(s); ok && match(l) {
				return nil
			}
		}
		select {
		case <-r.done:
			// Check the lines flushed at exit before giving up.
			p.mu.Lock()
			rest := p.lines[next:]
			p.mu.Unlock()
			for _, s := range rest {
				if l, ok := ParseLogLine(s); ok && match(l) {
					return nil
				}
			}
			return fmt.Errorf("%s: exited (%v) before the awaited log line; last output:\n%s", p.cfg.Name, r.err, p.Tail(40))
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: awaited log line not seen within %s; last output:\n%s", p.cfg.Name, timeout, p.Tail(40))
		}
	}
}

// Running reports whether the process is currently running.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.run != nil && !isClosed(p.run.done)
}

// PID returns the pid of the current run, or 0.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil || p.run.cmd.Process == nil {
		return 0
	}
	return p.run.cmd.Process.Pid
}

// Stop sends SIGTERM and waits up to DefaultStopTimeout for the process to
// exit, then sends SIGKILL. It returns nil if the process exited with status
// 0 or by the SIGTERM itself (etcd re-raises it after shutting down), the
// exit error otherwise, or an error if SIGKILL was needed.
func (p *Process) Stop() error {
	return p.StopTimeout(DefaultStopTimeout)
}

// StopTimeout is Stop with an explicit bound before SIGKILL.
func (p *Process) StopTimeout(timeout time.Duration) error {
	r := p.current()
	if r == nil || isClosed(r.done) {
		return nil
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
		return stopError(r)
	case <-time.After(timeout):
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	return fmt.Errorf("%s: did not exit within %s of SIGTERM; killed", p.cfg.Name, timeout)
}

// Kill sends SIGKILL and waits for the process to exit.
func (p *Process) Kill() {
	r := p.current()
	if r == nil || isClosed(r.done) {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
}

// Restart stops the process (SIGTERM, then SIGKILL after a bound) if it is
// running, starts it again with the same arguments and working directory,
// and waits for readiness.
func (p *Process) Restart() error {
	if err := p.Stop(); err != nil && !isExitError(err) {
		p.t.Logf("%s: stop before restart: %v", p.cfg.Name, err)
	}
	return p.Start()
}

// Wait waits up to timeout for the process to exit by itself and returns its
// exit code (-1 if killed by a signal).
func (p *Process) Wait(timeout time.Duration) (int, error) {
	r := p.current()
	if r == nil {
		return 0, fmt.Errorf("%s: not started", p.cfg.Name)
	}
	select {
	case <-r.done:
		return r.cmd.ProcessState.ExitCode(), nil
	case <-time.After(timeout):
		return 0, fmt.Errorf("%s: still running after %s", p.cfg.Name, timeout)
	}
}

// Logs returns all output lines of all runs, joined.
func (p *Process) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// Lines returns a copy of all output lines of all runs.
func (p *Process) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// Tail returns the last n output lines.
func (p *Process) Tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := p.lines
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// LogPath is the file the output is written to.
func (p *Process) LogPath() string { return p.logPath }

// Dir is the working directory.
func (p *Process) Dir() string { return p.cfg.Dir }

func (p *Process) current() *run {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.run
}

func (p *Process) cleanup() {
	p.Kill()
	if p.t.Failed() {
		p.t.Logf("%s: last output lines (full log %s):\n%s", p.cfg.Name, p.logPath, p.Tail(60))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.logFile != nil {
		_ = p.logFile.Close()
		p.logFile = nil
	}
}

func (p *Process) appendLocked(line string) {
	p.lines = append(p.lines, line)
	if p.logFile != nil {
		_, _ = p.logFile.WriteString(line + "\n")
	}
}

// lineWriter splits a run's output into lines. exec.Cmd calls Write from a
// single goroutine because Stdout and Stderr are the same writer.
type lineWriter struct {
	p       *Process
	partial []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		w.p.mu.Lock()
		w.p.appendLocked(line)
		w.p.mu.Unlock()
	}
	return len(b), nil
}

func (w *lineWriter) flush() {
	if len(w.partial) == 0 {
		return
	}
	w.p.mu.Lock()
	w.p.appendLocked(string(w.partial))
	w.p.mu.Unlock()
	w.partial = nil
}

// LogLine is one decoded JSON log line.
type LogLine map[string]any

// ParseLogLine decodes a JSON object log line; ok is false for other lines.
func ParseLogLine(s string) (LogLine, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") {
		return nil, false
	}
	var l LogLine
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, false
	}
	return l, true
}

// Msg returns the line's "msg" field.
func (l LogLine) Msg() string {
	s, _ := l["msg"].(string)
	return s
}

// Level returns the line's "level" field.
func (l LogLine) Level() string {
	s, _ := l["level"].(string)
	return strings.ToLower(s)
}

// stopError is nil for an exit status 0 or death by SIGTERM.
func stopError(r *run) error {
	if r.err == nil {
		return nil
	}
	if ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
		return nil
	}
	return r.err
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func isExitError(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}
