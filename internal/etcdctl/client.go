package etcdctl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc/grpclog"
)

// envPrefix prefixes the environment variable of every global flag:
// --dial-timeout is ETCDCTL_DIAL_TIMEOUT.
const envPrefix = "ETCDCTL"

// flagToEnv returns the environment variable of a flag.
func flagToEnv(name string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// logger returns the Run's logger on stderr.
func (a *app) logger() *zap.Logger { return newLogger(a.io.Stderr, zapcore.InfoLevel) }

// applyEnv sets the inherited (global) flags of cmd that the command line
// left unset from their ETCDCTL_* variables, warns about unknown ETCDCTL_*
// variables and, as etcdctl, refuses a variable whose flag is also on the
// command line.
func (a *app) applyEnv(cmd *cobra.Command) error {
	lg := a.logger()
	fs := cmd.InheritedFlags()
	used := map[string]bool{}
	set := map[string]bool{}
	if cmd.Name() == "watch" {
		used[flagToEnv("watch-key")] = true
		used[flagToEnv("watch-range-end")] = true
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		key := flagToEnv(f.Name)
		if f.Changed {
			set[key] = true
			return
		}
		if v := a.getenv(key); v != "" {
			used[key] = true
			if serr := fs.Set(f.Name, v); serr != nil && err == nil {
				err = fmt.Errorf("invalid value %q for %s: %w", v, key, serr)
			}
		}
	})
	keys := make([]string, 0, len(a.env))
	for k := range a.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if used[k] {
			continue
		}
		if set[k] {
			lg.WithOptions(zap.WithFatalHook(noExit{})).Fatal(
				"conflicting environment variable is shadowed by corresponding command-line flag (either unset environment variable or disable flag))",
				zap.String("environment-variable", k))
			return exitQuietly(ExitError)
		}
		if strings.HasPrefix(k, envPrefix+"_") {
			lg.Warn("unrecognized environment variable", zap.String("environment-variable", k+"="+a.env[k]))
		}
	}
	// As etcdctl, a bad value in the environment is ignored: the flag
	// keeps its default.
	_ = err
	if a.global.debug {
		grpclog.SetLoggerV2(grpclog.NewLoggerV2WithVerbosity(a.io.Stderr, a.io.Stderr, a.io.Stderr, 4))
		fs.VisitAll(func(f *pflag.Flag) {
			fmt.Fprintf(a.io.Stderr, "%s=%v\n", flagToEnv(f.Name), f.Value)
		})
	}
	return nil
}

// noExit is a fatal hook that returns instead of exiting the process:
// Run turns the fatal log into an exit code.
type noExit struct{}

func (noExit) OnWrite(*zapcore.CheckedEntry, []zapcore.Field) {}

// clientConfig reads the environment, sets up the output printer and
// returns the client configuration of cmd, as etcdctl does before every
// command that talks to a cluster.
func (a *app) clientConfig(cmd *cobra.Command) (*clientv3.ConfigSpec, error) {
	if err := a.applyEnv(cmd); err != nil {
		return nil, err
	}
	eps, err := a.endpointsFromFlags()
	if err != nil {
		return nil, fail(ExitError, err)
	}
	sec, err := a.secureConfig(cmd)
	if err != nil {
		return nil, err
	}
	auth, err := a.authConfig()
	if err != nil {
		return nil, err
	}
	if err := a.initPrinter(); err != nil {
		return nil, err
	}
	return &clientv3.ConfigSpec{
		Endpoints:          eps,
		DialTimeout:        a.global.dialTimeout,
		KeepAliveTime:      a.global.keepAliveTime,
		KeepAliveTimeout:   a.global.keepAliveTimeout,
		MaxCallSendMsgSize: a.global.maxRequestBytes,
		MaxCallRecvMsgSize: a.global.maxRecvBytes,
		Secure:             sec,
		Auth:               auth,
	}, nil
}

// initPrinter sets the printer of --write-out and --hex.
func (a *app) initPrinter() error {
	p := newPrinter(a.global.writeOut, a.global.hex, a.io.Stdout, a.io.Stderr)
	if p == nil {
		return fail(ExitBadFeature, errors.New("unsupported output format"))
	}
	a.out = p
	return nil
}

func (a *app) secureConfig(cmd *cobra.Command) (*clientv3.SecureConfig, error) {
	g := &a.global
	for _, f := range []struct {
		name, val string
	}{{"cert", g.cert}, {"key", g.key}, {"cacert", g.cacert}} {
		if f.val == "" && cmd.Flags().Changed(f.name) {
			return nil, failf(ExitBadArgs, "empty string is passed to --%s option", f.name)
		}
	}
	sc := &clientv3.SecureConfig{
		Cert:               g.cert,
		Key:                g.key,
		Cacert:             g.cacert,
		InsecureTransport:  g.insecureTransport,
		InsecureSkipVerify: g.insecureSkipVerify,
	}
	if !g.insecureDiscovery {
		sc.ServerName = g.discoverySrv
	}
	return sc, nil
}

func (a *app) authConfig() (*clientv3.AuthConfig, error) {
	g := &a.global
	if g.user == "" && g.jwtToken == "" {
		return nil, nil
	}
	if g.jwtToken != "" {
		return &clientv3.AuthConfig{Token: g.jwtToken}, nil
	}
	if g.password != "" {
		return &clientv3.AuthConfig{Username: g.user, Password: g.password}, nil
	}
	if name, pw, ok := strings.Cut(g.user, ":"); ok {
		return &clientv3.AuthConfig{Username: name, Password: pw}, nil
	}
	pw, err := readPassword(a.io, "Password: ")
	if err != nil {
		return nil, fail(ExitError, err)
	}
	return &clientv3.AuthConfig{Username: g.user, Password: pw}, nil
}

// endpointsFromFlags returns the endpoints from DNS discovery
// (--discovery-srv) or else --endpoints.
func (a *app) endpointsFromFlags() ([]string, error) {
	g := &a.global
	if g.discoverySrv != "" {
		eps, err := a.discoverEndpoints()
		if err != nil {
			return nil, err
		}
		if len(eps) > 0 {
			return eps, nil
		}
	}
	eps := make([]string, len(g.endpoints))
	for i, ep := range g.endpoints {
		eps[i] = strings.TrimSpace(ep)
	}
	return eps, nil
}

// discoverEndpoints looks up the _etcd-client-ssl and _etcd-client SRV
// records of --discovery-srv (with the --discovery-srv-name suffix).
// Insecure (http) endpoints are dropped unless --insecure-discovery.
func (a *app) discoverEndpoints() ([]string, error) {
	g := &a.global
	suffix := ""
	if g.discoverySrvName != "" {
		suffix = "-" + g.discoverySrvName
	}
	var eps []string
	var errs []error
	for _, s := range []struct{ service, scheme string }{{"etcd-client-ssl", "https"}, {"etcd-client", "http"}} {
		_, addrs, err := net.LookupSRV(s.service+suffix, "tcp", g.discoverySrv)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, srv := range addrs {
			ep := fmt.Sprintf("%s://%s", s.scheme, net.JoinHostPort(strings.TrimSuffix(srv.Target, "."), fmt.Sprint(srv.Port)))
			if s.scheme == "http" && !g.insecureDiscovery {
				fmt.Fprintf(a.io.Stderr, "ignoring discovered insecure endpoint %q\n", ep)
				continue
			}
			eps = append(eps, ep)
		}
	}
	if len(errs) == 2 {
		return nil, fmt.Errorf("error querying DNS SRV records for _etcd-client %w", errors.Join(errs...))
	}
	return eps, nil
}

// newClient connects a client with spec: a bad configuration exits with
// ExitBadArgs, a failed connection with ExitBadConnection.
func (a *app) newClient(spec *clientv3.ConfigSpec) (*clientv3.Client, error) {
	cfg, err := a.clientv3Config(spec)
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(*cfg)
	if err != nil {
		return nil, fail(ExitBadConnection, err)
	}
	return cli, nil
}

func (a *app) clientv3Config(spec *clientv3.ConfigSpec) (*clientv3.Config, error) {
	lg := a.logger()
	cfg, err := clientv3.NewClientConfig(spec, lg)
	if err != nil {
		return nil, fail(ExitBadArgs, err)
	}
	cfg.Logger = lg.Named("etcd-client")
	cfg.Context = a.ctx
	return cfg, nil
}

// client builds the configuration of cmd and connects.
func (a *app) client(cmd *cobra.Command) (*clientv3.Client, error) {
	spec, err := a.clientConfig(cmd)
	if err != nil {
		return nil, err
	}
	return a.newClient(spec)
}

// commandCtx bounds a short command by --command-timeout.
func (a *app) commandCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(a.ctx, a.global.commandTimeout)
}

// endpointsFromCluster returns --endpoints, or with --cluster the client
// URLs of every member in the member list.
func (a *app) endpointsFromCluster(cluster bool, spec *clientv3.ConfigSpec) ([]string, error) {
	if !cluster {
		return a.global.endpoints, nil
	}
	ls := spec.Clone()
	ls.MaxCallSendMsgSize, ls.MaxCallRecvMsgSize = 0, 0
	cfg, err := clientv3.NewClientConfig(ls, a.logger())
	if err != nil {
		return nil, fail(ExitError, err)
	}
	cfg.Logger = a.logger().Named("etcd-client")
	c, err := clientv3.New(*cfg)
	if err != nil {
		return nil, fail(ExitError, err)
	}
	defer c.Close()
	ctx, cancel := a.commandCtx()
	defer cancel()
	resp, err := c.MemberList(ctx)
	if err != nil {
		return nil, fail(ExitError, fmt.Errorf("failed to fetch endpoints from etcd cluster member list: %w", err))
	}
	var eps []string
	for _, m := range resp.Members {
		eps = append(eps, m.ClientURLs...)
	}
	return eps, nil
}
