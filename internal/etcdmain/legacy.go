package etcdmain

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/etcdgo/etcd/internal/config"
)

// forceNewMember applies the 2013-style -f flag: a member started with it
// over a data dir that already holds a member (a WAL) discards that member
// (data dir/member and --wal-dir) and starts as a new one, joining the
// cluster of -C if given (the cluster replaces the old member that had the
// same peer URLs), or bootstrapping a new cluster otherwise. Without -f, or
// on an empty data dir, it does nothing.
func forceNewMember(lg *slog.Logger, cfg *config.Config) error {
	if !cfg.ForceNewMember {
		return nil
	}
	memberDir := filepath.Join(cfg.DataDir, "member")
	walDir := cfg.WALDir
	if walDir == "" {
		walDir = filepath.Join(memberDir, "wal")
	}
	if _, err := os.Stat(walDir); os.IsNotExist(err) {
		return nil
	}
	lg.Warn("-f given: discarding the member in the data dir and starting a new member",
		"data-dir", cfg.DataDir, "wal-dir", walDir)
	for _, d := range []string{walDir, memberDir} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("-f: remove %s: %w", d, err)
		}
	}
	return nil
}
