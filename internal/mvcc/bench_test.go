package mvcc

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

func benchKey(i int) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(i))
	return k
}

// BenchmarkStorePut puts 8-byte keys (10k distinct, so keys get overwritten)
// with 256-byte values, one put per write txn.
func BenchmarkStorePut(b *testing.B) {
	e := newBenchEnv(b)
	val := make([]byte, 256)
	keys := make([][]byte, 10000)
	for i := range keys {
		keys[i] = benchKey(i)
	}
	b.SetBytes(int64(8 + len(val)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		e.s.Put(keys[i%len(keys)], val, 0)
	}
}

// BenchmarkStoreRange reads one random key out of 10k, and a 100-key range.
func BenchmarkStoreRange(b *testing.B) {
	e := newBenchEnv(b)
	val := make([]byte, 256)
	const n = 10000
	for i := range n {
		e.s.Put(benchKey(i), val, 0)
	}
	e.s.Commit()
	ctx := context.Background()
	b.Run("single", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			r, err := e.s.Range(ctx, benchKey(rand.IntN(n)), nil, RangeOptions{})
			if err != nil || len(r.KVs) != 1 {
				b.Fatalf("range %d: %v %v", i, r, err)
			}
		}
	})
	b.Run("100keys", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			start := rand.IntN(n - 100)
			r, err := e.s.Range(ctx, benchKey(start), benchKey(start+100), RangeOptions{})
			if err != nil || len(r.KVs) != 100 {
				b.Fatalf("range %d: %v %v", i, r, err)
			}
		}
	})
	b.Run("parallel-single", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r, err := e.s.Range(ctx, benchKey(rand.IntN(n)), nil, RangeOptions{})
				if err != nil || len(r.KVs) != 1 {
					b.Errorf("range: %v %v", r, err)
					return
				}
			}
		})
	})
}
