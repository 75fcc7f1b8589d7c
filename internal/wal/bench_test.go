package wal

import (
	"path/filepath"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// BenchmarkWALSaveSync measures Save with an fdatasync per call: one 256-byte
// entry per Save (per record) and 100 entries per Save (group commit).
// b.N counts entries in both, so ns/op is per entry.
func BenchmarkWALSaveSync(b *testing.B) {
	for _, tc := range []struct {
		name  string
		batch int
	}{{"per-record-256B", 1}, {"batch-100x256B", 100}} {
		b.Run(tc.name, func(b *testing.B) {
			dir := filepath.Join(b.TempDir(), "wal")
			w, err := Create(nil, dir, []byte("md"))
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			data := make([]byte, 256)
			batch := make([]*raftpb.Entry, tc.batch)
			b.SetBytes(256)
			b.ResetTimer()
			var index uint64
			for done := 0; done < b.N; done += tc.batch {
				for i := range batch {
					index++
					batch[i] = newEntry(index, 1, data)
				}
				if err := w.Save(hardState(1, 1, index), batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
