// Package framework runs etcd processes for end-to-end tests.
//
// It builds this repository's binaries (./cmd/... in the main module) and the
// official reference tools pinned by the tests module (etcd, etcdctl and
// etcdutl v3.7.3, declared as `tool` directives in tests/go.mod) once per test
// binary run, starts members on free 127.0.0.1 ports with fresh data
// directories, captures their JSON logs, waits for readiness, and stops,
// kills or restarts them. Everything a test starts is killed and removed by
// t.Cleanup.
//
// Environment:
//
//	E2E_ETCD_BINARY  path of an etcd binary to use instead of building
//	                 ./cmd/etcd (for instance the reference etcd, to check
//	                 the tests themselves).
//	E2E_KEEP_LOGS    if non-empty, member log files are kept and their paths
//	                 logged when a test fails.
package framework

import "time"

const (
	// ReadyMessage is the "msg" of the log line a member prints once it
	// serves client requests.
	ReadyMessage = "ready to serve client requests"

	// DefaultReadyTimeout bounds how long Start waits for ReadyMessage.
	DefaultReadyTimeout = 30 * time.Second

	// DefaultStopTimeout bounds how long Stop waits after SIGTERM before it
	// sends SIGKILL.
	DefaultStopTimeout = 10 * time.Second
)
