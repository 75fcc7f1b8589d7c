package backend

import (
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkBatchTxPut measures puts through the batch tx with the committer
// running at its defaults (100ms / 10000 writes), fsync off.
func BenchmarkBatchTxPut(b *testing.B) {
	be := newTestBackend(b, Config{BatchInterval: DefaultBatchInterval, BatchLimit: DefaultBatchLimit})
	defer be.Close()
	val := make([]byte, 256)
	key := make([]byte, 8)
	tx := be.BatchTx()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		binary.BigEndian.PutUint64(key, uint64(i))
		tx.Lock()
		tx.UnsafeSeqPut(testBucket, key, val)
		tx.Unlock()
	}
	be.ForceCommit()
}

// BenchmarkReadTxRange measures taking a view and reading a 10-key range
// while a writer keeps writing (and committing) in the background.
func BenchmarkReadTxRange(b *testing.B) {
	be := newTestBackend(b, Config{BatchInterval: 10 * time.Millisecond, BatchLimit: 1000})
	defer be.Close()
	val := make([]byte, 256)
	tx := be.BatchTx()
	tx.Lock()
	for i := 0; i < 100000; i++ {
		k := make([]byte, 8)
		binary.BigEndian.PutUint64(k, uint64(i))
		tx.UnsafeSeqPut(testBucket, k, val)
	}
	tx.Unlock()
	be.ForceCommit()

	stop := make(chan struct{})
	done := make(chan struct{})
	var writes atomic.Int64
	go func() {
		defer close(done)
		k := make([]byte, 8)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			binary.BigEndian.PutUint64(k, uint64(i%100000))
			tx.Lock()
			tx.UnsafePut(testBucket, k, val)
			tx.Unlock()
			writes.Add(1)
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		start := make([]byte, 8)
		end := make([]byte, 8)
		i := uint64(0)
		for pb.Next() {
			i = (i + 7919) % 99990
			binary.BigEndian.PutUint64(start, i)
			binary.BigEndian.PutUint64(end, i+10)
			r := be.ReadTx()
			ks, _ := r.UnsafeRange(testBucket, start, end, 0)
			if len(ks) != 10 {
				b.Errorf("got %d keys", len(ks))
			}
			r.Release()
		}
	})
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(writes.Load())/b.Elapsed().Seconds(), "bg-writes/s")
}
