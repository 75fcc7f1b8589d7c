package etcdutl

import (
	"io"
	"time"

	"github.com/spf13/cobra"
)

// Global flag defaults, as etcdutl's.
const (
	defaultFlockTimeout = 10 * time.Second
	defaultWriteOut     = "simple"
)

// app holds the parsed flags of one Run and the failure of the command that
// ran. Commands record failures in failed instead of returning them, so
// that cobra prints usage only for its own (flag and argument) errors, as
// etcdutl does.
type app struct {
	stdout, stderr io.Writer

	// Global flags.
	flockTimeout time.Duration
	writeOut     string

	restore restoreFlags
	// defragDataDir is defrag's --data-dir; hashKVRev is hashkv's --rev.
	defragDataDir string
	hashKVRev     int64

	failed error
}

func newApp(stdout, stderr io.Writer) *app {
	return &app{stdout: stdout, stderr: stderr}
}

// rootCommand builds the command tree.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:        Name,
		Short:      "An administrative command line tool for etcd3.",
		SuggestFor: []string{Name},
	}
	// --timeout bounds the wait for the db file's lock (defrag, hashkv); the
	// snapshot commands open files read-only or create them fresh.
	root.PersistentFlags().DurationVar(&a.flockTimeout, "timeout", defaultFlockTimeout, "time to wait to obtain a file lock on db file, 0 to block indefinitely")
	root.PersistentFlags().StringVarP(&a.writeOut, "write-out", "w", defaultWriteOut, "set the output format (fields, json, protobuf, simple, table)")
	_ = root.RegisterFlagCompletionFunc("write-out", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"fields", "json", "protobuf", "simple", "table"}, cobra.ShellCompDirectiveDefault
	})
	root.AddCommand(
		a.snapshotCommand(),
		a.defragCommand(),
		a.hashKVCommand(),
		a.versionCommand(),
		a.completionCommand(),
	)
	// Help shows just the usage, on stdout. Usage printed after a flag or
	// argument error goes to stderr (cobra's "out" writer, set by Run).
	root.SetHelpFunc(func(c *cobra.Command, _ []string) {
		_, _ = io.WriteString(a.stdout, c.UsageString())
	})
	return root
}

// run adapts a command body that returns an error to cobra's Run.
func (a *app) run(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) {
	return func(cmd *cobra.Command, args []string) {
		a.failed = f(cmd, args)
	}
}
