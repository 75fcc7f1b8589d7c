package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcdgo/etcd/tests/framework"
)

func TestVersionFlag(t *testing.T) {
	bin := framework.EtcdBinary(t)
	r := framework.RunCommand(t, 30*time.Second, "", "", bin, "--version")
	if r.ExitCode != 0 {
		t.Fatalf("etcd --version: exit %d\nstdout:\n%s\nstderr:\n%s", r.ExitCode, r.Stdout, r.Stderr)
	}
	first, _, _ := strings.Cut(r.Stdout, "\n")
	if !strings.HasPrefix(first, "etcd Version: 3.7") {
		t.Fatalf("etcd --version first line = %q, want prefix %q\nfull stdout:\n%s", first, "etcd Version: 3.7", r.Stdout)
	}
}

func TestBadFlagExit2(t *testing.T) {
	bin := framework.EtcdBinary(t)
	dir := t.TempDir()
	r := framework.RunCommand(t, 30*time.Second, dir, "", bin, "--no-such-flag-xyz")
	if r.ExitCode != 2 {
		t.Fatalf("etcd --no-such-flag-xyz: exit %d, want 2\nstdout:\n%s\nstderr:\n%s", r.ExitCode, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "no-such-flag-xyz") {
		t.Fatalf("stderr does not name the unknown flag:\n%s", r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "default.etcd")); err == nil {
		t.Fatal("a rejected command line still created ./default.etcd")
	}
}
