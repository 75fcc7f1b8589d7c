package snapshot

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"

	"github.com/coreos/go-semver/semver"
	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdgo/etcd/internal/schema"
)

// FileStatus reads a snapshot file (or a member/snap/db) read-only and
// reports its status as `etcdutl snapshot status` does. It fails when bbolt's
// consistency check finds errors.
func FileStatus(path string) (Status, error) {
	var st Status
	if _, err := os.Stat(path); err != nil {
		return st, fmt.Errorf("snapshot status: %w", err)
	}
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true})
	if err != nil {
		return st, fmt.Errorf("snapshot status: open %s: %w", path, err)
	}
	defer db.Close()

	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	err = db.View(func(tx *bolt.Tx) error {
		var checkErrs []error
		for cerr := range tx.Check() {
			checkErrs = append(checkErrs, cerr)
		}
		if len(checkErrs) > 0 {
			return fmt.Errorf("snapshot file integrity check failed, %d errors found: %w", len(checkErrs), errors.Join(checkErrs...))
		}
		st.TotalSize = tx.Size()
		st.Version = storageVersion(tx)
		live := map[string]struct{}{}
		c := tx.Cursor()
		for name, _ := c.First(); name != nil; name, _ = c.Next() {
			b := tx.Bucket(name)
			if b == nil {
				return fmt.Errorf("cannot get hash of bucket %s", name)
			}
			h.Write(name)
			isKey := string(name) == string(schema.Key.Name)
			err := b.ForEach(func(k, v []byte) error {
				h.Write(k)
				h.Write(v)
				if isKey {
					if len(k) < schema.RevBytesLen {
						return fmt.Errorf("bad revision key %x in bucket %s", k, name)
					}
					st.Revision = schema.BytesToRev(k).Main
					kv := &mvccpb.KeyValue{}
					if err := proto.Unmarshal(v, kv); err != nil {
						return fmt.Errorf("cannot unmarshal the value of revision %x: %w", k, err)
					}
					if schema.IsTombstone(k) {
						delete(live, string(kv.GetKey()))
					} else {
						live[string(kv.GetKey())] = struct{}{}
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("hash bucket %s: %w", name, err)
			}
		}
		st.TotalKey = len(live)
		return nil
	})
	if err != nil {
		return Status{}, fmt.Errorf("snapshot status: %w", err)
	}
	st.Hash = h.Sum32()
	return st, nil
}

// storageVersion returns meta's storageVersion as a semantic version
// ("3.6.0"), or "" when it is absent or does not parse.
func storageVersion(tx *bolt.Tx) string {
	meta := tx.Bucket(schema.Meta.Name)
	if meta == nil {
		return ""
	}
	v := meta.Get(schema.MetaStorageVersionName)
	if v == nil {
		return ""
	}
	ver, err := semver.NewVersion(string(v))
	if err != nil {
		return ""
	}
	return ver.String()
}
