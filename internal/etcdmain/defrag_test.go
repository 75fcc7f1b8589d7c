package etcdmain_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// defragKeepValue is the value of keep/<i>, 4 KiB that name their key.
func defragKeepValue(i int) string {
	s := fmt.Sprintf("keep-%04d-", i)
	return s + strings.Repeat("v", 4096-len(s))
}

// TestDefragmentWhileReading fills a member, deletes and compacts away most
// of it, then defragments it while readers on the same member range over
// the surviving keys (serializable and linearizable) and a writer bumps a
// counter. Every read must succeed and see all surviving keys with their
// values, a counter that never goes back and revisions that never go back;
// afterwards the db is smaller, on disk too, and holds the same data.
func TestDefragmentWhileReading(t *testing.T) {
	const keep, junk, perTxn = 200, 1800, 100
	m := startMember(t)
	val := strings.Repeat("j", 4096)
	for start := 0; start < keep+junk; start += perTxn {
		var ops []clientv3.Op
		for i := start; i < start+perTxn; i++ {
			if i < keep {
				ops = append(ops, clientv3.OpPut(fmt.Sprintf("keep/%04d", i), defragKeepValue(i)))
			} else {
				ops = append(ops, clientv3.OpPut(fmt.Sprintf("junk/%04d", i), val))
			}
		}
		if _, err := m.cli.Txn(m.ctx()).Then(ops...).Commit(); err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
	del, err := m.cli.Delete(m.ctx(), "junk/", clientv3.WithPrefix())
	if err != nil || del.Deleted != junk {
		t.Fatalf("delete junk: %v %v", del, err)
	}
	if _, err := m.cli.Compact(m.ctx(), del.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("compact: %v", err)
	}
	// A revision past the compaction: the hash at the compaction's own
	// revision is the one the compaction stored, which covers its history.
	if _, err := m.cli.Put(m.ctx(), "marker", "v"); err != nil {
		t.Fatal(err)
	}
	before := mustStatus(t, m)
	if before.DbSizeInUse >= before.DbSize/2 {
		t.Fatalf("db size %d, in use %d: the deletes freed too little for the test", before.DbSize, before.DbSizeInUse)
	}
	hashBefore, err := m.cli.HashKV(m.ctx(), m.clientURL, 0)
	if err != nil {
		t.Fatal(err)
	}

	var (
		defragBegun atomic.Bool
		defragDone  atomic.Bool
		duringReads atomic.Int64
		wg          sync.WaitGroup
		errs        = make(chan error, 8)
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
		cancel()
	}
	// The writer bumps "counter" until the readers are done.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ctx.Err() == nil; i++ {
			cctx, ccancel := context.WithTimeout(ctx, callTimeout)
			_, err := m.cli.Put(cctx, "counter", strconv.Itoa(i))
			ccancel()
			if err != nil && ctx.Err() == nil {
				fail(fmt.Errorf("put counter %d: %w", i, err))
				return
			}
		}
	}()
	started := make(chan struct{}, 2)
	var readers sync.WaitGroup
	for r, serializable := range []bool{true, false} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var lastRev int64
			lastCounter := 0
			after := 0 // reads that began once the defragmentation had returned
			for n := 0; after < 5; n++ {
				if ctx.Err() != nil {
					return
				}
				wasBegun, wasDone := defragBegun.Load(), defragDone.Load()
				opts := []clientv3.OpOption{clientv3.WithPrefix()}
				if serializable {
					opts = append(opts, clientv3.WithSerializable())
				}
				cctx, ccancel := context.WithTimeout(ctx, callTimeout)
				resp, err := m.cli.Get(cctx, "keep/", opts...)
				var cresp *clientv3.GetResponse
				if err == nil {
					cresp, err = m.cli.Get(cctx, "counter", opts...)
				}
				ccancel()
				if err != nil {
					fail(fmt.Errorf("reader %d, read %d: %w", r, n, err))
					return
				}
				if len(resp.Kvs) != keep {
					fail(fmt.Errorf("reader %d, read %d: %d keys under keep/, want %d", r, n, len(resp.Kvs), keep))
					return
				}
				for i, kv := range resp.Kvs {
					if string(kv.Key) != fmt.Sprintf("keep/%04d", i) || string(kv.Value) != defragKeepValue(i) {
						fail(fmt.Errorf("reader %d, read %d: key %d is %q with a wrong value", r, n, i, kv.Key))
						return
					}
				}
				if resp.Header.Revision < lastRev || cresp.Header.Revision < resp.Header.Revision {
					fail(fmt.Errorf("reader %d, read %d: revisions %d, %d after %d", r, n, resp.Header.Revision, cresp.Header.Revision, lastRev))
					return
				}
				lastRev = cresp.Header.Revision
				if len(cresp.Kvs) == 1 {
					c, _ := strconv.Atoi(string(cresp.Kvs[0].Value))
					if c < lastCounter {
						fail(fmt.Errorf("reader %d, read %d: counter %d after %d", r, n, c, lastCounter))
						return
					}
					lastCounter = c
				}
				if n == 0 {
					started <- struct{}{}
				}
				switch {
				case wasDone:
					after++
				case wasBegun && !defragDone.Load():
					duringReads.Add(1)
				}
			}
		}()
	}
	for range 2 {
		select {
		case <-started:
		case err := <-errs:
			t.Fatal(err)
		}
	}
	defragBegun.Store(true)
	_, derr := m.cli.Defragment(m.ctx(), m.clientURL)
	defragDone.Store(true)
	readers.Wait()
	cancel()
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if derr != nil {
		t.Fatalf("defragment: %v", derr)
	}
	t.Logf("%d reads ran entirely while the defragmentation did", duringReads.Load())

	after := mustStatus(t, m)
	if after.DbSize >= before.DbSize {
		t.Errorf("db size %d after the defragmentation, %d before", after.DbSize, before.DbSize)
	}
	fi, err := os.Stat(filepath.Join(m.dataDir, "member", "snap", "db"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() >= before.DbSize {
		t.Errorf("db file of %d bytes after the defragmentation, %d before", fi.Size(), before.DbSize)
	}
	// The history is what it was, plus the writer's puts.
	h, err := m.cli.HashKV(m.ctx(), m.clientURL, hashBefore.Header.Revision)
	if err != nil {
		t.Fatal(err)
	}
	if h.Hash != hashBefore.Hash {
		t.Errorf("hash at revision %d: %d after the defragmentation, %d before", hashBefore.Header.Revision, h.Hash, hashBefore.Hash)
	}
	if _, err := m.cli.Put(m.ctx(), "after-defrag", "v"); err != nil {
		t.Errorf("put after defragmentation: %v", err)
	}
}
