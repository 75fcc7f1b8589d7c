package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcdgo/etcd/tests/framework"
)

// walSegments returns the WAL segment files of a member, oldest first.
func walSegments(t *testing.T, dataDir string) []string {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dataDir, "member", "wal", "*.wal"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no WAL segments in %s: %v", dataDir, err)
	}
	return segs
}

// TestWALTornTailRepaired: a member killed mid-write leaves a torn record at
// the end of its last segment; the next start cuts it away and serves every
// acknowledged write.
func TestWALTornTailRepaired(t *testing.T) {
	m := framework.StartMember(t, framework.MemberConfig{})
	c := m.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 50; i++ {
		if _, err := c.Put(ctx, "k", strings.Repeat("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	// Append half a record's worth of garbage after the last record: the
	// shape a crash in the middle of a write leaves behind.
	segs := walSegments(t, m.DataDir)
	last := segs[len(segs)-1]
	f, err := os.OpenFile(last, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	end := lastNonZero(t, f)
	if _, err := f.WriteAt([]byte{0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}, alignUp(end)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	if err := m.Restart(); err != nil {
		t.Fatalf("member did not start after a torn tail: %v\n%s", err, m.Tail(20))
	}
	resp, err := m.Client(t).Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != strings.Repeat("v", 49) {
		t.Fatalf("after repair k = %v, want the last acknowledged value", resp.Kvs)
	}
}

// TestWALCorruptionRefused: damage in the middle of the log is not a torn
// tail; the member refuses to start and names the file and offset.
func TestWALCorruptionRefused(t *testing.T) {
	m := framework.StartMember(t, framework.MemberConfig{})
	c := m.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 50; i++ {
		if _, err := c.Put(ctx, "k", strings.Repeat("x", 100)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	segs := walSegments(t, m.DataDir)
	seg := segs[0]
	f, err := os.OpenFile(seg, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Flip a byte inside the value of an early put: entry data, which the
	// record's CRC covers (a byte of frame padding would not be noticed).
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data, bytes.Repeat([]byte("x"), 100))
	if at < 0 || int64(at) > lastNonZero(t, f)/2 {
		t.Fatalf("no early put value found in %s", seg)
	}
	off := int64(at + 50)
	b := []byte{data[off] ^ 0xff}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	f.Close()

	if err := m.StartNoWait(); err != nil {
		t.Fatal(err)
	}
	code, err := m.Wait(30 * time.Second)
	if err != nil {
		t.Fatalf("member with a corrupt WAL did not exit: %v", err)
	}
	if code == 0 {
		t.Fatalf("member with a corrupt WAL exited 0")
	}
	logs := m.Logs()
	if !strings.Contains(logs, filepath.Base(seg)) || !strings.Contains(logs, "offset") {
		t.Fatalf("error does not name the file %s and an offset:\n%s", filepath.Base(seg), m.Tail(10))
	}
}

// lastNonZero returns the offset just past the last non-zero byte of f: the
// end of the records in a preallocated segment.
func lastNonZero(t *testing.T, f *os.File) int64 {
	t.Helper()
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	for i := len(data) - 1; i >= 0; i-- {
		if data[i] != 0 {
			return int64(i + 1)
		}
	}
	return 0
}

func alignUp(n int64) int64 { return (n + 7) &^ 7 }
