package etcdutl

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/mvcc"
)

// HashKV is what `etcdutl hashkv` prints: etcd's hash of the keyspace of a
// db file up to a revision.
type HashKV struct {
	Hash            uint32 `json:"hash"`
	HashRevision    int64  `json:"hashRevision"`
	CompactRevision int64  `json:"compactRevision"`
}

func (a *app) hashKVCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hashkv <filename>",
		Short: "Prints the KV history hash of a given file",
		Args:  cobra.ExactArgs(1),
		Run:   a.run(a.hashKV),
	}
	cmd.Flags().Int64Var(&a.hashKVRev, "rev", 0, "maximum revision to hash (default: latest revision)")
	return cmd
}

func (a *app) hashKV(_ *cobra.Command, args []string) error {
	p, err := newPrinter(a.writeOut, a.stdout)
	if err != nil {
		return err
	}
	h, err := CalculateHashKV(args[0], a.hashKVRev, a.flockTimeout)
	if err != nil {
		return fail(ExitError, err)
	}
	return p.DBHashKV(h)
}

// CalculateHashKV opens the db file (waiting up to lockTimeout for its
// lock; 0: forever) and hashes its keyspace up to rev (0: the latest), as
// Maintenance.HashKV would on a member with that file.
func CalculateHashKV(path string, rev int64, lockTimeout time.Duration) (HashKV, error) {
	if _, err := os.Stat(path); err != nil {
		return HashKV{}, err
	}
	discard := slog.New(slog.DiscardHandler)
	be, err := backend.New(backend.Config{Path: path, LockTimeout: lockTimeout, Logger: discard})
	if err != nil {
		return HashKV{}, err
	}
	st := mvcc.NewStore(discard, be, mvcc.StoreConfig{})
	h, herr := st.HashByRev(rev)
	if err := errors.Join(herr, st.Close(), be.Close()); err != nil {
		return HashKV{}, err
	}
	return HashKV{Hash: h.Hash, HashRevision: h.Revision, CompactRevision: h.CompactRevision}, nil
}

// hashKVHeader and hashKVRow are the columns of the simple and table
// formats.
var hashKVHeader = []string{"hash", "hash revision", "compact revision"}

func hashKVRow(h HashKV) []string {
	return []string{fmt.Sprint(h.Hash), fmt.Sprint(h.HashRevision), fmt.Sprint(h.CompactRevision)}
}
