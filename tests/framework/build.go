package framework

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Reference tool packages, pinned by `tool` directives in tests/go.mod.
const (
	refEtcdPkg    = "go.etcd.io/etcd/server/v3"
	refEtcdctlPkg = "go.etcd.io/etcd/etcdctl/v3"
	refEtcdutlPkg = "go.etcd.io/etcd/etcdutl/v3"
	mainModule    = "github.com/etcdgo/etcd"
	testsModule   = "github.com/etcdgo/etcd/tests"
)

// RefBinaries are the official reference binaries.
type RefBinaries struct {
	Etcd    string
	Etcdctl string
	Etcdutl string
}

var (
	binRootOnce sync.Once
	binRoot     string
	binRootErr  error

	oursOnce sync.Once
	oursDir  string
	oursErr  error

	refOnce sync.Once
	refBins RefBinaries
	refErr  error
)

// Main runs the tests of a package and removes the binaries built for them.
// Call it from TestMain: os.Exit(framework.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if binRoot != "" {
		_ = os.RemoveAll(binRoot)
	}
	return code
}

func binDir() (string, error) {
	binRootOnce.Do(func() {
		binRoot, binRootErr = os.MkdirTemp("", "etcdgo-e2e-bin-")
	})
	return binRoot, binRootErr
}

// EtcdBinary returns the path of this repository's etcd binary, building
// ./cmd/... of the main module on first use. E2E_ETCD_BINARY overrides it.
func EtcdBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("E2E_ETCD_BINARY"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatalf("E2E_ETCD_BINARY: %v", err)
		}
		return abs
	}
	dir := ourBinDir(t)
	p := filepath.Join(dir, "etcd")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("building ./cmd/... produced no etcd binary in %s: %v", dir, err)
	}
	return p
}

// EtcdutlBinary returns the path of this repository's etcdutl binary,
// building ./cmd/... of the main module on first use.
func EtcdutlBinary(t testing.TB) string {
	t.Helper()
	p := filepath.Join(ourBinDir(t), "etcdutl")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("building ./cmd/... produced no etcdutl binary: %v", err)
	}
	return p
}

// EtcdctlBinary returns the path of this repository's etcdctl binary,
// building ./cmd/... of the main module on first use.
func EtcdctlBinary(t testing.TB) string {
	t.Helper()
	p := filepath.Join(ourBinDir(t), "etcdctl")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("building ./cmd/... produced no etcdctl binary: %v", err)
	}
	return p
}

// ourBinDir builds all commands of the main module once and returns the
// directory holding them.
func ourBinDir(t testing.TB) string {
	t.Helper()
	oursOnce.Do(func() {
		root, err := binDir()
		if err != nil {
			oursErr = err
			return
		}
		repo, err := moduleRoot(mainModule)
		if err != nil {
			oursErr = err
			return
		}
		oursDir = filepath.Join(root, "ours")
		if err := os.MkdirAll(oursDir, 0o755); err != nil {
			oursErr = err
			return
		}
		oursErr = goBuild(repo, oursDir+string(filepath.Separator), "./cmd/...")
	})
	if oursErr != nil {
		t.Fatalf("building this repository's binaries: %v", oursErr)
	}
	return oursDir
}

// Reference returns the official etcd, etcdctl and etcdutl binaries, built
// once from the versions pinned in tests/go.mod.
func Reference(t testing.TB) RefBinaries {
	t.Helper()
	refOnce.Do(func() {
		root, err := binDir()
		if err != nil {
			refErr = err
			return
		}
		mod, err := moduleRoot(testsModule)
		if err != nil {
			refErr = err
			return
		}
		dir := filepath.Join(root, "ref")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			refErr = err
			return
		}
		// One invocation so the three share the compile work; the server
		// package's main binary is named after its directory ("server").
		if err := goBuild(mod, dir+string(filepath.Separator), refEtcdPkg, refEtcdctlPkg, refEtcdutlPkg); err != nil {
			refErr = err
			return
		}
		etcd := filepath.Join(dir, "etcd")
		if err := os.Rename(filepath.Join(dir, "server"), etcd); err != nil {
			refErr = err
			return
		}
		refBins = RefBinaries{
			Etcd:    etcd,
			Etcdctl: filepath.Join(dir, "etcdctl"),
			Etcdutl: filepath.Join(dir, "etcdutl"),
		}
	})
	if refErr != nil {
		t.Fatalf("building reference binaries: %v", refErr)
	}
	return refBins
}

func goBuild(dir, out string, pkgs ...string) error {
	args := append([]string{"build", "-buildvcs=false", "-o", out}, pkgs...)
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = dir
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s (in %s): %w\n%s", strings.Join(args, " "), dir, err, buf.String())
	}
	fmt.Fprintf(os.Stderr, "framework: built %s in %s\n", strings.Join(pkgs, " "), time.Since(start).Round(time.Millisecond))
	return nil
}

func goTool() string {
	if p := os.Getenv("GOROOT"); p != "" {
		if _, err := os.Stat(filepath.Join(p, "bin", "go")); err == nil {
			return filepath.Join(p, "bin", "go")
		}
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// moduleRoot walks up from the working directory to the directory whose
// go.mod declares module name.
func moduleRoot(name string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && modulePath(data) == name {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod for module " + name + " above the working directory")
		}
		dir = parent
	}
}

func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
