package etcdctl

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Global flag defaults, as etcdctl's.
const (
	defaultDialTimeout      = 2 * time.Second
	defaultCommandTimeout   = 5 * time.Second
	defaultKeepAliveTime    = 2 * time.Second
	defaultKeepAliveTimeout = 6 * time.Second
	defaultEndpoint         = "127.0.0.1:2379"
)

// Command groups of the help output.
const (
	groupKV          = "kv"
	groupCluster     = "cluster maintenance"
	groupAuth        = "authentication"
	groupUtility     = "utility"
	groupConcurrency = "concurrency"
)

// globalFlags are the flags every command inherits.
type globalFlags struct {
	endpoints          []string
	debug              bool
	writeOut           string
	hex                bool
	dialTimeout        time.Duration
	commandTimeout     time.Duration
	keepAliveTime      time.Duration
	keepAliveTimeout   time.Duration
	maxRequestBytes    int
	maxRecvBytes       int
	insecureTransport  bool
	insecureDiscovery  bool
	insecureSkipVerify bool
	cert, key, cacert  string
	jwtToken           string
	user, password     string
	discoverySrv       string
	discoverySrvName   string
}

// app is one Run: its I/O, its parsed flags, and the failure of the
// command that ran. Commands record failures in failed instead of
// returning them to cobra, so that cobra prints usage only for its own
// flag and argument errors, as etcdctl does.
type app struct {
	ctx     context.Context
	rawArgs []string
	io      IO
	env     map[string]string

	global globalFlags
	out    *printer

	get      getFlags
	put      putFlags
	del      delFlags
	txn      txnFlags
	compact  compactFlags
	watch    watchFlags
	lease    leaseFlags
	member   memberFlags
	endpoint endpointFlags
	user     userFlags
	role     roleFlags
	check    checkFlags

	failed error
}

func newApp(ctx context.Context, args []string, stdio IO) *app {
	// Interactive watch prints from several goroutines.
	var mu sync.Mutex
	stdio.Stdout = &lockedWriter{mu: &mu, w: stdio.Stdout}
	stdio.Stderr = &lockedWriter{mu: &mu, w: stdio.Stderr}
	a := &app{ctx: ctx, rawArgs: args, io: stdio, env: map[string]string{}}
	for _, kv := range stdio.Environ {
		k, v, _ := cutEnv(kv)
		a.env[k] = v
	}
	return a
}

// lockedWriter serializes writes to w under mu.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func cutEnv(kv string) (string, string, bool) {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}

// getenv returns the value of an environment variable of this Run.
func (a *app) getenv(k string) string { return a.env[k] }

// rootCommand builds the command tree.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:        Name,
		Short:      "A simple command line client for etcd3.",
		SuggestFor: []string{Name},
	}
	g := &a.global
	pf := root.PersistentFlags()
	pf.StringSliceVar(&g.endpoints, "endpoints", []string{defaultEndpoint}, "gRPC endpoints")
	pf.BoolVar(&g.debug, "debug", false, "enable client-side debug logging")
	pf.StringVarP(&g.writeOut, "write-out", "w", "simple", "set the output format (fields, json, protobuf, simple, table)")
	pf.BoolVar(&g.hex, "hex", false, "print byte strings as hex encoded strings")
	_ = root.RegisterFlagCompletionFunc("write-out", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"fields", "json", "protobuf", "simple", "table"}, cobra.ShellCompDirectiveDefault
	})
	pf.DurationVar(&g.dialTimeout, "dial-timeout", defaultDialTimeout, "dial timeout for client connections")
	pf.DurationVar(&g.commandTimeout, "command-timeout", defaultCommandTimeout, "timeout for short running command (excluding dial timeout)")
	pf.DurationVar(&g.keepAliveTime, "keepalive-time", defaultKeepAliveTime, "keepalive time for client connections")
	pf.DurationVar(&g.keepAliveTimeout, "keepalive-timeout", defaultKeepAliveTimeout, "keepalive timeout for client connections")
	pf.IntVar(&g.maxRequestBytes, "max-request-bytes", 0, "client-side request send limit in bytes (if 0, it defaults to 2.0 MiB (2 * 1024 * 1024).)")
	pf.IntVar(&g.maxRecvBytes, "max-recv-bytes", 0, "client-side response receive limit in bytes (if 0, it defaults to \"math.MaxInt32\")")
	pf.BoolVar(&g.insecureTransport, "insecure-transport", true, "disable transport security for client connections")
	pf.BoolVar(&g.insecureDiscovery, "insecure-discovery", true, "accept insecure SRV records describing cluster endpoints")
	pf.BoolVar(&g.insecureSkipVerify, "insecure-skip-tls-verify", false, "skip server certificate verification (CAUTION: this option should be enabled only for testing purposes)")
	pf.StringVar(&g.cert, "cert", "", "identify secure client using this TLS certificate file")
	pf.StringVar(&g.key, "key", "", "identify secure client using this TLS key file")
	pf.StringVar(&g.cacert, "cacert", "", "verify certificates of TLS-enabled secure servers using this CA bundle")
	pf.StringVar(&g.jwtToken, "auth-jwt-token", "", "JWT token used for authentication (if this option is used, --user and --password should not be set)")
	pf.StringVar(&g.user, "user", "", "username[:password] for authentication (prompt if password is not supplied)")
	pf.StringVar(&g.password, "password", "", "password for authentication (if this option is used, --user option shouldn't include password)")
	pf.StringVarP(&g.discoverySrv, "discovery-srv", "d", "", "domain name to query for SRV records describing cluster endpoints")
	pf.StringVar(&g.discoverySrvName, "discovery-srv-name", "", "service name to query when using DNS discovery")

	root.AddGroup(
		&cobra.Group{ID: groupKV, Title: "Key-value commands"},
		&cobra.Group{ID: groupCluster, Title: "Cluster maintenance commands"},
		&cobra.Group{ID: groupConcurrency, Title: "Concurrency commands"},
		&cobra.Group{ID: groupAuth, Title: "Authentication commands"},
		&cobra.Group{ID: groupUtility, Title: "Utility commands"},
	)
	root.AddCommand(
		a.getCommand(),
		a.putCommand(),
		a.delCommand(),
		a.txnCommand(),
		a.compactionCommand(),
		a.alarmCommand(),
		a.defragCommand(),
		a.endpointCommand(),
		a.moveLeaderCommand(),
		a.watchCommand(),
		a.versionCommand(),
		a.leaseCommand(),
		a.memberCommand(),
		a.snapshotCommand(),
		a.authCommand(),
		a.userCommand(),
		a.roleCommand(),
		a.checkCommand(),
		a.completionCommand(),
		a.optionsCommand(root),
	)
	root.SetHelpCommandGroupID(groupUtility)

	pf.VisitAll(func(f *pflag.Flag) { _ = pf.MarkHidden(f.Name) })
	if root.Flags().Lookup("help") == nil {
		root.Flags().BoolP("help", "h", false, "help for "+root.Name())
	}
	_ = root.Flags().MarkHidden("help")
	defaultHelp := root.HelpFunc()
	root.SetHelpFunc(func(cmd *cobra.Command, args []string) {
		root.SetOut(a.io.Stdout)
		defer root.SetOut(a.io.Stderr)
		defaultHelp(cmd, args)
		fmt.Fprintln(a.io.Stdout, `Use "etcdctl options" for a list of global command-line options (applies to all commands).`)
	})
	return root
}

// run adapts a command body that returns an error to cobra's Run.
func (a *app) run(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) {
	return func(cmd *cobra.Command, args []string) {
		a.failed = f(cmd, args)
	}
}

// optionsCommand lists the (hidden) global flags.
func (a *app) optionsCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:     "options",
		Short:   "Show the global command-line flags",
		GroupID: groupUtility,
		Run: func(*cobra.Command, []string) {
			fs := pflag.NewFlagSet("global", pflag.ContinueOnError)
			root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
				nf := *f
				nf.Hidden = false
				fs.AddFlag(&nf)
			})
			fmt.Fprintf(a.io.Stdout, "The following options can be passed to any command:\n\n")
			fmt.Fprint(a.io.Stdout, fs.FlagUsages())
		},
	}
}
