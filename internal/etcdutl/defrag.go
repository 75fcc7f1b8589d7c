package etcdutl

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/humanize"
)

// backendPath is where a data dir keeps its backend, as etcd's datadir
// package names it.
func backendPath(dataDir string) string { return filepath.Join(dataDir, "member", "snap", "db") }

func (a *app) defragCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "defrag",
		Short: "Defragments the storage of the etcd",
		Run:   a.run(a.defrag),
	}
	cmd.Flags().StringVar(&a.defragDataDir, "data-dir", "", "Required. Defragments a data directory not in use by etcd.")
	_ = cmd.MarkFlagRequired("data-dir")
	_ = cmd.MarkFlagDirname("data-dir")
	return cmd
}

func (a *app) defrag(*cobra.Command, []string) error {
	if err := DefragData(a.defragDataDir, a.flockTimeout, newConsoleLogger(a.stderr)); err != nil {
		return fail(ExitError, fmt.Errorf("Failed to defragment etcd data[%s] (%w)", a.defragDataDir, err))
	}
	return nil
}

// DefragData rewrites the backend of the data dir (which no member may be
// using) compactly, waiting up to lockTimeout (0: forever) for its file
// lock, and logs the sizes before and after as etcd does.
func DefragData(dataDir string, lockTimeout time.Duration, lg *slog.Logger) error {
	path := backendPath(dataDir)
	if _, err := os.Stat(path); err != nil {
		return err
	}
	be, err := backend.New(backend.Config{Path: path, LockTimeout: lockTimeout, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	size1, inUse1 := be.Size(), be.SizeInUse()
	lg.Info("defragmenting", "path", path,
		"current-db-size-bytes", size1, "current-db-size", humanize.Bytes(uint64(size1)),
		"current-db-size-in-use-bytes", inUse1, "current-db-size-in-use", humanize.Bytes(uint64(inUse1)))
	start := time.Now()
	derr := be.Defrag()
	size2, inUse2 := be.Size(), be.SizeInUse()
	if err := errors.Join(derr, be.Close()); err != nil {
		return err
	}
	lg.Info("finished defragmenting directory", "path", path,
		"current-db-size-bytes-diff", size2-size1, "current-db-size-bytes", size2, "current-db-size", humanize.Bytes(uint64(size2)),
		"current-db-size-in-use-bytes-diff", inUse2-inUse1, "current-db-size-in-use-bytes", inUse2, "current-db-size-in-use", humanize.Bytes(uint64(inUse2)),
		"took", time.Since(start).String())
	return nil
}
