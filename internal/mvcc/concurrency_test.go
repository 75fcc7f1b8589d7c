package mvcc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// TestStoreConcurrent runs one writer (each txn writes x and y with the same
// value), readers that check x == y inside a read txn and at older
// revisions, a compactor and a hasher, all at once; run it with -race.
func TestStoreConcurrent(t *testing.T) {
	var hookMu sync.Mutex
	lastHookRev := int64(1)
	e := newTestEnv(t, StoreConfig{CompactionBatchLimit: 5, OnTxnEnd: func(rev int64, _ /*changes*/ []*mvccpb.KeyValue) {
		hookMu.Lock()
		defer hookMu.Unlock()
		if rev != lastHookRev+1 {
			t.Errorf("hook rev %d after %d", rev, lastHookRev)
		}
		lastHookRev = rev
	}})
	s := e.s
	const writes = 400
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(stop)
		for i := range writes {
			v := fmt.Appendf(nil, "%d", i)
			txn := s.Write()
			txn.Put([]byte("x"), v, 0)
			txn.Put([]byte("y"), v, 0)
			if i%10 == 0 {
				txn.Put(fmt.Appendf(nil, "z%d", i), v, 0)
			}
			if i%10 == 5 {
				txn.DeleteRange([]byte("z"), []byte("z\xff"))
			}
			txn.End()
		}
	}()
	check := func(rv ReadView, rev int64) error {
		r, err := rv.Range(context.Background(), []byte("x"), []byte("z"), RangeOptions{Rev: rev})
		if errors.Is(err, ErrCompacted) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(r.KVs) == 0 {
			return nil
		}
		if len(r.KVs) != 2 || !bytes.Equal(r.KVs[0].Value, r.KVs[1].Value) || r.KVs[0].ModRevision != r.KVs[1].ModRevision {
			return fmt.Errorf("torn read at %d: %s", rev, kvString(r.KVs))
		}
		if rev > 0 && r.KVs[0].ModRevision > rev {
			return fmt.Errorf("read at %d returned revision %d", rev, r.KVs[0].ModRevision)
		}
		return nil
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				rd := s.Read()
				err := check(rd, 0)
				if err == nil {
					err = check(rd, rd.Rev()/2+1)
				}
				rd.End()
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		compactAndHashUntil(s, 20, stop, func(err error) { t.Error(err) })
	}()
	wg.Wait()
	if s.Rev() != writes+1 {
		t.Fatalf("rev = %d, want %d", s.Rev(), writes+1)
	}
	want := storeState(t, s)
	e.restart()
	if got := storeState(t, e.s); got != want {
		t.Fatalf("after restart:\n%s\nbefore:\n%s", got, want)
	}
}
