package etcdctl

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcdgo/etcd/internal/humanize"
)

const snapshotExample = `  # Save snapshot to a given file
  etcdctl snapshot save /backup/etcd-snapshot.db
  
  # Get snapshot from given address and save it to file
  etcdctl snapshot save --endpoints=127.0.0.1:3000 /backup/etcd-snapshot.db
  
  # Get snapshot from given address with certificates
  etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/etcd/ca.crt --cert=/etc/etcd/etcd.crt --key=/etc/etcd/etcd.key snapshot save /backup/etcd-snapshot.db
  
  # Get snapshot with certain user and password
  etcdctl --user=root --password=password123 snapshot save /backup/etcd-snapshot.db
  
  # Get snapshot from given address with timeout
  etcdctl --endpoints=https://127.0.0.1:2379 --dial-timeout=20s snapshot save /backup/etcd-snapshot.db
  
  # Save snapshot with desirable time format
  etcdctl snapshot save /mnt/backup/etcd/backup_$(date +%Y%m%d_%H%M%S).db`

func (a *app) snapshotCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "snapshot <subcommand>",
		Short:   "Manages etcd node snapshots",
		Example: snapshotExample,
		GroupID: groupCluster,
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "save <filename>",
		Short:   "Stores an etcd node backend snapshot to a given file",
		Example: snapshotExample,
		Run:     a.run(a.snapshotSave),
	})
	return cmd
}

func (a *app) snapshotSave(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fail(ExitBadArgs, errors.New("snapshot save expects one argument <filename>"))
	}
	spec, err := a.clientConfig(cmd)
	if err != nil {
		return err
	}
	cfg, err := a.clientv3Config(spec)
	if err != nil {
		return err
	}
	// Without an explicit --command-timeout, a snapshot may take as long
	// as it takes.
	ctx, cancel := a.ctx, func() {}
	if cmd.Flags().Changed("command-timeout") {
		ctx, cancel = a.commandCtx()
	}
	defer cancel()
	path := args[0]
	version, err := a.saveSnapshot(ctx, cfg, path)
	if err != nil {
		return fail(ExitInterrupted, err)
	}
	fmt.Fprintf(a.io.Stdout, "Snapshot saved at %s\n", path)
	if version != "" {
		fmt.Fprintf(a.io.Stdout, "Server version %s\n", version)
	}
	return nil
}

// saveSnapshot streams the backend of the one endpoint of cfg into
// path.part, checks that it ends with its SHA-256, syncs it and renames it
// to path. It returns the server's version.
func (a *app) saveSnapshot(ctx context.Context, cfg *clientv3.Config, path string) (string, error) {
	lg := a.logger()
	if len(cfg.Endpoints) != 1 {
		return "", fmt.Errorf("snapshot must be requested to one selected node, not multiple %v", cfg.Endpoints)
	}
	cfg.Logger = lg.Named("client")
	cli, err := clientv3.New(*cfg)
	if err != nil {
		return "", err
	}
	defer cli.Close()
	part := path + ".part"
	defer os.RemoveAll(part)
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fmt.Errorf("could not open %s (%w)", part, err)
	}
	defer f.Close()
	lg.Info("created temporary db file", zap.String("path", part))
	start := time.Now()
	resp, err := cli.SnapshotWithVersion(ctx)
	if err != nil {
		return "", err
	}
	defer resp.Snapshot.Close()
	lg.Info("fetching snapshot", zap.String("endpoint", cfg.Endpoints[0]))
	size, err := io.Copy(f, resp.Snapshot)
	if err != nil {
		return resp.Version, fmt.Errorf("could not write snapshot: %w", err)
	}
	// The stream ends with the SHA-256 of the db, whose size is a multiple
	// of 512.
	if size%512 != sha256.Size {
		return resp.Version, fmt.Errorf("sha256 checksum not found [bytes: %d]", size)
	}
	if err := f.Sync(); err != nil {
		return resp.Version, fmt.Errorf("could not fsync snapshot: %w", err)
	}
	if err := f.Close(); err != nil {
		return resp.Version, fmt.Errorf("could not close file descriptor: %w", err)
	}
	lg.Info("fetched snapshot",
		zap.String("endpoint", cfg.Endpoints[0]),
		zap.String("size", humanize.Bytes(uint64(size))),
		zap.Duration("took", time.Since(start)),
		zap.String("etcd-version", resp.Version),
	)
	if err := os.Rename(part, path); err != nil {
		return resp.Version, fmt.Errorf("could not rename %s to %s (%w)", part, path, err)
	}
	lg.Info("saved", zap.String("path", path))
	return resp.Version, nil
}
