package etcdctl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
)

var (
	errBadArgsNum              = errors.New("bad number of arguments")
	errBadArgsNumConflictEnv   = errors.New("bad number of arguments (found conflicting environment key)")
	errBadArgsNumSeparator     = errors.New("bad number of arguments (found separator --, but no commands)")
	errBadArgsInteractiveWatch = errors.New("args[0] must be 'watch' for interactive calls")
)

// watchFlags are the flags of watch.
type watchFlags struct {
	interactive    bool
	prefix         bool
	rev            int64
	prevKV         bool
	progressNotify bool
}

func (f *watchFlags) register(fs *pflag.FlagSet) {
	fs.BoolVarP(&f.interactive, "interactive", "i", false, "Interactive mode")
	fs.BoolVar(&f.prefix, "prefix", false, "Watch on a prefix if prefix is set")
	fs.Int64Var(&f.rev, "rev", 0, "Revision to start watching")
	fs.BoolVar(&f.prevKV, "prev-kv", false, "get the previous key-value pair before the event happens")
	fs.BoolVar(&f.progressNotify, "progress-notify", false, "get periodic watch progress notification from server")
}

func (a *app) watchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]",
		Short:   "Watches events stream on keys or prefixes",
		GroupID: groupKV,
	}
	a.watch.register(cmd.Flags())
	cmd.Run = a.run(a.watchRun)
	return cmd
}

func (a *app) watchRun(cmd *cobra.Command, args []string) error {
	envKey, envRange := a.getenv("ETCDCTL_WATCH_KEY"), a.getenv("ETCDCTL_WATCH_RANGE_END")
	if envKey == "" && envRange != "" {
		return failf(ExitBadArgs, "ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END=%q", envRange)
	}
	if a.watch.interactive {
		return a.watchInteractive(cmd, envKey, envRange)
	}
	watchArgs, execArgs, _, err := parseWatchArgs(a.rawArgs, args, envKey, envRange, false)
	if err != nil {
		return fail(ExitBadArgs, err)
	}
	cli, err := a.client(cmd)
	if err != nil {
		return err
	}
	wc, err := a.watchChan(cli, watchArgs, a.watch)
	if err != nil {
		cli.Close()
		return fail(ExitBadArgs, err)
	}
	if err := a.printWatch(cli, wc, execArgs); err != nil {
		cli.Close()
		return err
	}
	if err := cli.Close(); err != nil {
		return fail(ExitBadConnection, err)
	}
	return fail(ExitInterrupted, errors.New("watch is canceled by the server"))
}

// watchInteractive reads `watch ...` and `progress` lines from stdin.
func (a *app) watchInteractive(cmd *cobra.Command, envKey, envRange string) error {
	cli, err := a.client(cmd)
	if err != nil {
		return err
	}
	defer cli.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(a.ctx)
	defer cancel()
	failed := make(chan error, 1)
	r := bufio.NewReader(a.io.Stdin)
	for {
		select {
		case err := <-failed:
			return err
		default:
		}
		l, err := r.ReadString('\n')
		if err != nil {
			return fail(ExitInvalidInput, fmt.Errorf("error reading watch request line: %w", err))
		}
		l = strings.TrimSuffix(l, "\n")
		args, err := argify(l)
		if err != nil {
			return err
		}
		if len(args) < 1 {
			fmt.Fprintf(a.io.Stderr, "Invalid command: %s (watch and progress supported)\n", l)
			continue
		}
		switch args[0] {
		case "watch":
			if len(args) < 2 && envKey == "" {
				fmt.Fprintf(a.io.Stderr, "Invalid command %s (command type or key is not provided)\n", l)
				continue
			}
			watchArgs, execArgs, flags, perr := parseWatchArgs(a.rawArgs, args, envKey, envRange, true)
			if perr != nil {
				return fail(ExitBadArgs, perr)
			}
			ch, err := a.watchChanCtx(ctx, cli, watchArgs, flags)
			if err != nil {
				fmt.Fprintf(a.io.Stderr, "Invalid command %s (%v)\n", l, err)
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := a.printWatch(cli, ch, execArgs); err != nil {
					select {
					case failed <- err:
					default:
					}
					cancel()
				}
			}()
		case "progress":
			if err := cli.RequestProgress(clientv3.WithRequireLeader(ctx)); err != nil {
				return fail(ExitError, err)
			}
		default:
			fmt.Fprintf(a.io.Stderr, "Invalid command %s (only support watch)\n", l)
		}
	}
}

func (a *app) watchChan(cli *clientv3.Client, args []string, f watchFlags) (clientv3.WatchChan, error) {
	return a.watchChanCtx(a.ctx, cli, args, f)
}

func (a *app) watchChanCtx(ctx context.Context, cli *clientv3.Client, args []string, f watchFlags) (clientv3.WatchChan, error) {
	if len(args) < 1 {
		return nil, errBadArgsNum
	}
	key := args[0]
	opts := []clientv3.OpOption{clientv3.WithRev(f.rev)}
	if len(args) == 2 {
		if f.prefix {
			return nil, errors.New("`range_end` and `--prefix` are mutually exclusive")
		}
		opts = append(opts, clientv3.WithRange(args[1]))
	}
	if f.prefix {
		opts = append(opts, clientv3.WithPrefix())
	}
	if f.prevKV {
		opts = append(opts, clientv3.WithPrevKV())
	}
	if f.progressNotify {
		opts = append(opts, clientv3.WithProgressNotify())
	}
	return cli.Watch(clientv3.WithRequireLeader(ctx), key, opts...), nil
}

// printWatch prints every response of ch and, with execArgs, runs the
// command once per event with ETCD_WATCH_* in its environment.
func (a *app) printWatch(cli *clientv3.Client, ch clientv3.WatchChan, execArgs []string) error {
	for resp := range ch {
		if resp.Canceled {
			fmt.Fprintf(a.io.Stderr, "watch was canceled (%v)\n", resp.Err())
		}
		if resp.IsProgressNotify() {
			fmt.Fprintf(a.io.Stdout, "progress notify: %d\n", resp.Header.GetRevision())
		}
		if err := a.out.Watch(&resp); err != nil {
			return err
		}
		if len(execArgs) == 0 {
			continue
		}
		for _, ev := range resp.Events {
			c := exec.CommandContext(cli.Ctx(), execArgs[0], execArgs[1:]...)
			c.Env = append(append([]string(nil), a.io.Environ...),
				fmt.Sprintf("ETCD_WATCH_REVISION=%d", resp.Header.GetRevision()),
				fmt.Sprintf("ETCD_WATCH_EVENT_TYPE=%q", ev.GetType()),
				fmt.Sprintf("ETCD_WATCH_KEY=%q", ev.GetKv().GetKey()),
				fmt.Sprintf("ETCD_WATCH_VALUE=%q", ev.GetKv().GetValue()),
			)
			c.Stdout, c.Stderr = a.io.Stdout, a.io.Stderr
			if err := c.Run(); err != nil {
				fmt.Fprintf(a.io.Stderr, "command %q error (%v)\n", execArgs, err)
				return exitQuietly(ExitError)
			}
		}
	}
	return nil
}

// parseWatchArgs splits the arguments of watch into the watched key (and
// range end) and the command to run per event (after "--"). rawArgs are
// the process arguments, which still hold the "--" that cobra removed
// from commandArgs; in interactive mode commandArgs is one input line,
// whose flags are parsed here and returned.
func parseWatchArgs(rawArgs, commandArgs []string, envKey, envRange string, interactive bool) (watchArgs, execArgs []string, flags watchFlags, err error) {
	raw := append([]string(nil), rawArgs...)
	watchArgs = append([]string(nil), commandArgs...)
	for i := range raw {
		if raw[i] == "watch" {
			raw = raw[i+1:]
			break
		}
	}
	if interactive {
		if watchArgs[0] != "watch" {
			return nil, nil, flags, errBadArgsInteractiveWatch
		}
		watchArgs = watchArgs[1:]
	}

	execIdx, execExist := 0, false
	if !interactive {
		for execIdx = range raw {
			if raw[execIdx] == "--" {
				execExist = true
				break
			}
		}
		if execExist && execIdx == len(raw)-1 {
			return nil, nil, flags, errBadArgsNumSeparator
		}
		if !execExist && len(raw) < 1 && envKey == "" {
			return nil, nil, flags, errBadArgsNum
		}
		if execExist && envKey != "" {
			// ETCDCTL_WATCH_KEY=foo watch foo -- echo 1: the key is given
			// twice.
			widx, ridx := len(watchArgs)-1, len(raw)-1
			for ; widx >= 0; widx-- {
				if watchArgs[widx] == raw[ridx] {
					ridx--
					continue
				}
				if ridx == execIdx {
					return nil, nil, flags, errBadArgsNumConflictEnv
				}
			}
		}
		if !execExist && len(watchArgs) > 0 && envKey != "" {
			return nil, nil, flags, errBadArgsNumConflictEnv
		}
	} else {
		for execIdx = range watchArgs {
			if watchArgs[execIdx] == "--" {
				execExist = true
				break
			}
		}
		if execExist && execIdx == len(watchArgs)-1 {
			return nil, nil, flags, errBadArgsNumSeparator
		}
		var f watchFlags
		fs := pflag.NewFlagSet("watch", pflag.ContinueOnError)
		f.register(fs)
		if perr := fs.Parse(watchArgs); perr != nil {
			return nil, nil, flags, perr
		}
		pArgs := fs.Args()
		if !execExist && envKey == "" && len(pArgs) < 1 {
			return nil, nil, flags, errBadArgsNum
		}
		if !execExist && len(pArgs) > 0 && envKey != "" {
			return nil, nil, flags, errBadArgsNumConflictEnv
		}
	}

	withSep := raw
	if interactive {
		withSep = watchArgs
	}
	idx, foundSep := 0, false
	for idx = range withSep {
		if withSep[idx] == "--" {
			foundSep = true
			break
		}
	}
	if foundSep {
		execArgs = withSep[idx+1:]
	}
	if interactive {
		fs := pflag.NewFlagSet("watch", pflag.ContinueOnError)
		flags.register(fs)
		if perr := fs.Parse(withSep); perr != nil {
			return nil, nil, watchFlags{}, perr
		}
		watchArgs = fs.Args()
	}
	if envKey != "" {
		ranges := []string{envKey}
		if envRange != "" {
			ranges = append(ranges, envRange)
		}
		watchArgs = append(ranges, watchArgs...)
	}
	if !foundSep {
		return watchArgs, nil, flags, nil
	}
	// watchArgs ends with the exec command: cut it at the last occurrence
	// of its first word.
	end := 0
	for end = len(watchArgs) - 1; end >= 0; end-- {
		if watchArgs[end] == withSep[idx+1] {
			break
		}
	}
	if end < 0 {
		end = 0
	}
	watchArgs = watchArgs[:end]
	return watchArgs, execArgs, flags, nil
}
