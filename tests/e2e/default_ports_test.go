package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/etcdgo/etcd/tests/framework"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestDefaultPortsNoFlags runs etcd without any flag: it must serve clients
// on 127.0.0.1:2379 and the legacy 127.0.0.1:4001, accept peer connections on
// 2380 and the legacy 7001, and keep its data in ./default.etcd.
func TestDefaultPortsNoFlags(t *testing.T) {
	for _, port := range []int{2379, 2380, 4001, 7001} {
		if !framework.PortFree(port) {
			t.Fatalf("127.0.0.1:%d is already in use on this machine; TestDefaultPortsNoFlags needs the default ports 2379, 2380, 4001 and 7001 free", port)
		}
	}
	dir := t.TempDir()
	p := framework.NewProcess(t, framework.ProcessConfig{Name: "noflags", Bin: framework.EtcdBinary(t), Dir: dir})
	if err := p.Start(); err != nil {
		t.Fatalf("etcd with no flags: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "default.etcd")); err != nil || !fi.IsDir() {
		t.Fatalf("./default.etcd not created in the working directory: %v", err)
	}

	for _, port := range []int{2379, 4001} {
		if err := framework.DialTCP(fmt.Sprintf("127.0.0.1:%d", port), 3*time.Second); err != nil {
			t.Fatalf("client port %d does not accept TCP connections: %v", port, err)
		}
	}

	c2379 := framework.NewClient(t, "http://127.0.0.1:2379")
	c4001 := framework.NewClient(t, "http://127.0.0.1:4001")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	check := func(from, to string, w, r clientv3.KV) {
		t.Helper()
		key := fmt.Sprintf("via-%s", from)
		val := fmt.Sprintf("written on %s, read on %s", from, to)
		pr, err := w.Put(ctx, key, val)
		if err != nil {
			t.Fatalf("put via %s: %v", from, err)
		}
		gr, err := r.Get(ctx, key)
		if err != nil {
			t.Fatalf("get via %s: %v", to, err)
		}
		if len(gr.Kvs) != 1 || string(gr.Kvs[0].Value) != val || gr.Kvs[0].ModRevision != pr.Header.Revision {
			t.Fatalf("get %q via %s after put via %s (rev %d) = %v", key, to, from, pr.Header.Revision, gr.Kvs)
		}
	}
	check("2379", "4001", c2379, c4001)
	check("4001", "2379", c4001, c2379)

	for _, port := range []int{2380, 7001} {
		if err := framework.DialTCP(fmt.Sprintf("127.0.0.1:%d", port), 3*time.Second); err != nil {
			t.Errorf("peer port %d does not accept TCP connections: %v", port, err)
		}
	}
	if err := p.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}
