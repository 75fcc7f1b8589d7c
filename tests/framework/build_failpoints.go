package framework

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var (
	fpOnce sync.Once
	fpBin  string
	fpErr  error
)

// EtcdFailpointBinary returns this repository's etcd built with
// `-tags failpoints`, whose crash points (internal/failpoint) are armed by
// the ETCD_FAILPOINTS environment variable. It is built once per test
// binary, next to the other binaries. E2E_ETCD_FAILPOINT_BINARY overrides
// it.
func EtcdFailpointBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("E2E_ETCD_FAILPOINT_BINARY"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatalf("E2E_ETCD_FAILPOINT_BINARY: %v", err)
		}
		return abs
	}
	fpOnce.Do(func() {
		root, err := binDir()
		if err != nil {
			fpErr = err
			return
		}
		repo, err := moduleRoot(mainModule)
		if err != nil {
			fpErr = err
			return
		}
		dir := filepath.Join(root, "failpoints")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fpErr = err
			return
		}
		fpBin = filepath.Join(dir, "etcd")
		fpErr = goBuild(repo, fpBin, "-tags", "failpoints", "./cmd/etcd")
	})
	if fpErr != nil {
		t.Fatalf("building etcd with -tags failpoints: %v", fpErr)
	}
	return fpBin
}
