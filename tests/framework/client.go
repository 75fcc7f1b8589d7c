package framework

import (
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// DefaultDialTimeout is the dial timeout of clients made by NewClient.
const DefaultDialTimeout = 2 * time.Second

// NewClient returns a client/v3 client for endpoints with a short dial
// timeout and a silent logger; it is closed on test cleanup.
func NewClient(t testing.TB, endpoints ...string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          DefaultDialTimeout,
		DialKeepAliveTime:    5 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("client for %v: %v", endpoints, err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// Client returns a client for the member; see NewClient.
func (m *Member) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	return NewClient(t, m.Endpoints()...)
}

// Etcdctl returns a reference etcdctl runner for the member.
func (m *Member) Etcdctl(t testing.TB) *Etcdctl {
	t.Helper()
	return NewEtcdctl(t, m.Endpoints()...)
}
