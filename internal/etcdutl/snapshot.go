package etcdutl

import (
	"errors"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/etcdgo/etcd/internal/snapshot"
)

// defaultInitialMmapSize is the default of --initial-memory-map-size
// (etcd's backend.InitialMmapSize, 10 GiB).
const defaultInitialMmapSize = 10 * 1024 * 1024 * 1024

// restoreFlags are the flags of `snapshot restore`.
type restoreFlags struct {
	dataDir         string
	walDir          string
	initialCluster  string
	clusterToken    string
	peerURLs        string
	name            string
	skipHashCheck   bool
	initialMmapSize uint64
	revisionBump    uint64
	markCompacted   bool
}

func (a *app) snapshotCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot <subcommand>",
		Short: "Manages etcd node snapshots",
	}
	cmd.AddCommand(a.snapshotRestoreCommand(), a.snapshotStatusCommand())
	return cmd
}

func (a *app) snapshotStatusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status <filename>",
		Short: "Gets backend snapshot status of a given file",
		Long: `When --write-out is set to simple, this command prints out comma-separated status lists for each endpoint.
The items in the lists are hash, revision, total keys, total size.
`,
		Run: a.run(a.snapshotStatus),
	}
}

func (a *app) snapshotRestoreCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "restore <filename> --data-dir {output dir} [options]",
		Short: "Restores an etcd member snapshot to an etcd directory",
		Run:   a.run(a.snapshotRestore),
	}
	f := &a.restore
	fs := cmd.Flags()
	fs.StringVar(&f.dataDir, "data-dir", "", "Path to the output data directory")
	fs.StringVar(&f.walDir, "wal-dir", "", "Path to the WAL directory (use --data-dir if none given)")
	fs.StringVar(&f.initialCluster, "initial-cluster", snapshot.DefaultInitialCluster, "Initial cluster configuration for restore bootstrap")
	fs.StringVar(&f.clusterToken, "initial-cluster-token", snapshot.DefaultInitialClusterToken, "Initial cluster token for the etcd cluster during restore bootstrap")
	fs.StringVar(&f.peerURLs, "initial-advertise-peer-urls", snapshot.DefaultPeerURL, "List of this member's peer URLs to advertise to the rest of the cluster")
	fs.StringVar(&f.name, "name", snapshot.DefaultName, "Human-readable name for this member")
	fs.BoolVar(&f.skipHashCheck, "skip-hash-check", false, "Ignore snapshot integrity hash value (required if copied from data directory)")
	fs.Uint64Var(&f.initialMmapSize, "initial-memory-map-size", defaultInitialMmapSize, "Initial memory map size of the database in bytes. It uses the default value if not defined or defined to 0")
	fs.Uint64Var(&f.revisionBump, "bump-revision", 0, "How much to increase the latest revision after restore")
	fs.BoolVar(&f.markCompacted, "mark-compacted", false, "Mark the latest revision after restore as the point of scheduled compaction (required if --bump-revision > 0, disallowed otherwise)")
	_ = cmd.MarkFlagDirname("data-dir")
	_ = cmd.MarkFlagDirname("wal-dir")
	return cmd
}

func (a *app) snapshotStatus(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fail(ExitBadArgs, errors.New("snapshot status requires exactly one argument"))
	}
	if _, err := os.Stat(args[0]); err != nil {
		return fail(ExitError, err)
	}
	p, err := newPrinter(a.writeOut, a.stdout)
	if err != nil {
		return err
	}
	st, err := snapshot.FileStatus(args[0])
	if err != nil {
		return fail(ExitError, trimOp(err, "snapshot status: "))
	}
	return p.DBStatus(st)
}

// restoreConfig validates the restore flags and arguments as etcdutl does
// and builds the snapshot.RestoreConfig.
func (a *app) restoreConfig(args []string) (snapshot.RestoreConfig, error) {
	f := &a.restore
	if len(args) != 1 {
		return snapshot.RestoreConfig{}, fail(ExitBadArgs, errors.New("snapshot restore requires exactly one argument"))
	}
	if (f.revisionBump == 0 && f.markCompacted) || (f.revisionBump > 0 && !f.markCompacted) {
		return snapshot.RestoreConfig{}, fail(ExitBadArgs, errors.New("--mark-compacted required if --revision-bump > 0"))
	}
	dataDir := f.dataDir
	if dataDir == "" {
		dataDir = f.name + ".etcd"
	}
	return snapshot.RestoreConfig{
		SnapshotPath:        args[0],
		Name:                f.name,
		OutputDataDir:       dataDir,
		OutputWALDir:        f.walDir,
		PeerURLs:            strings.Split(f.peerURLs, ","),
		InitialCluster:      f.initialCluster,
		InitialClusterToken: f.clusterToken,
		SkipHashCheck:       f.skipHashCheck,
		RevisionBump:        f.revisionBump,
		MarkCompacted:       f.markCompacted,
		Logger:              newConsoleLogger(a.stderr),
	}, nil
}

func (a *app) snapshotRestore(_ *cobra.Command, args []string) error {
	cfg, err := a.restoreConfig(args)
	if err != nil {
		return err
	}
	if err := snapshot.Restore(cfg); err != nil {
		return fail(ExitError, trimOp(err, "snapshot restore: "))
	}
	return nil
}

// trimOp drops the operation prefix internal/snapshot puts on its errors,
// which etcdutl's messages do not carry.
func trimOp(err error, prefix string) error {
	if msg, ok := strings.CutPrefix(err.Error(), prefix); ok {
		return &trimmedError{msg: msg, err: err}
	}
	return err
}

// trimmedError is err with a shorter message.
type trimmedError struct {
	msg string
	err error
}

func (e *trimmedError) Error() string { return e.msg }
func (e *trimmedError) Unwrap() error { return e.err }
