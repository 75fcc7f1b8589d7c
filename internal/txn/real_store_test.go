package txn

import (
	"path/filepath"
	"testing"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/mvcc"
)

func init() {
	storeFactories = append(storeFactories, storeFactory{"mvcc", func(t *testing.T) testStore { return openRealStore(t) }})
}

// realStore is the mvcc store on a bbolt backend in a temp dir.
type realStore struct {
	*mvcc.Store
}

func openRealStore(t testing.TB) testStore {
	t.Helper()
	be, err := backend.New(backend.Config{Path: filepath.Join(t.TempDir(), "db")})
	if err != nil {
		t.Fatal(err)
	}
	s := mvcc.NewStore(nil, be, mvcc.StoreConfig{})
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if err := be.Close(); err != nil {
			t.Error(err)
		}
	})
	return realStore{s}
}

func (s realStore) compact(t *testing.T, rev int64) {
	t.Helper()
	done, err := s.Compact(rev)
	if err != nil {
		t.Fatalf("compact %d: %v", rev, err)
	}
	<-done
}

var _ Store = mvcc.KV(nil)
