package etcdctl

import (
	"bufio"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// txnFlags are the flags of txn.
type txnFlags struct {
	interactive bool
}

const txnLong = `Txn reads multiple etcd requests from standard input and applies them as a single atomic transaction.

A transaction consists of three components:
1) a list of conditions,
2) a list of requests to apply if all the conditions are true,
3) a list of requests to apply if any condition is false.

Example interactive stdin usage:

---
etcdctl txn -i
# compares:
mod("key1") > "0"

# success requests (get, put, delete):
put key1 "overwrote-key1"

# failure requests (get, put, delete):
put key1 "created-key1"
put key2 "some extra key"
---

Refer to https://github.com/etcd-io/etcd/blob/main/etcdctl/README.md#txn-options.`

func (a *app) txnCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "txn [options]",
		Short:   "Txn processes all the requests in one transaction",
		Long:    txnLong,
		GroupID: groupKV,
	}
	cmd.Flags().BoolVarP(&a.txn.interactive, "interactive", "i", false, "Input transaction in interactive mode")
	cmd.Run = a.run(func(cmd *cobra.Command, args []string) error {
		if len(args) != 0 {
			return fail(ExitBadArgs, errors.New("txn command does not accept argument"))
		}
		r := bufio.NewReader(a.io.Stdin)
		cli, err := a.client(cmd)
		if err != nil {
			return err
		}
		defer cli.Close()
		txn := cli.Txn(a.ctx)
		a.prompt("compares:")
		cmps, err := readCompares(r)
		if err != nil {
			return err
		}
		txn.If(cmps...)
		a.prompt("success requests (get, put, del):")
		thens, err := a.readOps(r)
		if err != nil {
			return err
		}
		txn.Then(thens...)
		a.prompt("failure requests (get, put, del):")
		elses, err := a.readOps(r)
		if err != nil {
			return err
		}
		txn.Else(elses...)
		resp, err := txn.Commit()
		if err != nil {
			return fail(ExitError, err)
		}
		return a.out.Txn(resp)
	})
	return cmd
}

func (a *app) prompt(s string) {
	if a.txn.interactive {
		fmt.Fprintln(a.io.Stdout, s)
	}
}

// readLines reads trimmed lines up to the first empty one. Input that
// ends before the empty line is an error (io.EOF), as in etcdctl.
func readLines(r *bufio.Reader, each func(line string) error) error {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return fail(ExitInvalidInput, err)
		}
		line = strings.TrimSpace(line)
		if line == "" {
			return nil
		}
		if err := each(line); err != nil {
			return err
		}
	}
}

func readCompares(r *bufio.Reader) ([]clientv3.Cmp, error) {
	var cmps []clientv3.Cmp
	err := readLines(r, func(line string) error {
		cmp, err := parseCompare(line)
		if err != nil {
			return fail(ExitInvalidInput, err)
		}
		cmps = append(cmps, *cmp)
		return nil
	})
	return cmps, err
}

func (a *app) readOps(r *bufio.Reader) ([]clientv3.Op, error) {
	var ops []clientv3.Op
	err := readLines(r, func(line string) error {
		op, err := a.parseRequest(line)
		if err != nil {
			return err
		}
		ops = append(ops, *op)
		return nil
	})
	return ops, err
}

// parseRequest parses one get, put or del line of a txn with the flags of
// those commands.
func (a *app) parseRequest(line string) (*clientv3.Op, error) {
	args, err := argify(line)
	if err != nil {
		return nil, err
	}
	if len(args) < 2 {
		return nil, failf(ExitInvalidInput, "invalid txn compare request: %s", line)
	}
	var (
		op    *clientv3.Op
		opErr error
	)
	var gf getFlags
	get := &cobra.Command{Use: "get [options] <key> [range_end]", Short: "Gets the key or a range of keys"}
	gf.register(get)
	get.Run = func(_ *cobra.Command, args []string) {
		key, opts, err := gf.op(args)
		if err != nil {
			opErr = err
			return
		}
		o := clientv3.OpGet(key, opts...)
		op = &o
	}
	var pf putFlags
	put := &cobra.Command{Use: "put [options] <key> <value> (<value> can also be given from stdin)", Short: "Puts the given key into the store", Long: putLong}
	pf.register(put)
	put.Run = func(_ *cobra.Command, args []string) {
		key, value, opts, err := pf.op(args, a.io.Stdin)
		if err != nil {
			opErr = err
			return
		}
		o := clientv3.OpPut(key, value, opts...)
		op = &o
	}
	var df delFlags
	del := &cobra.Command{Use: "del [options] <key> [range_end]", Short: "Removes the specified key or range of keys [key, range_end)"}
	df.register(del)
	del.Run = func(_ *cobra.Command, args []string) {
		key, opts, err := df.op(args, a.io.Stderr)
		if err != nil {
			opErr = err
			return
		}
		o := clientv3.OpDelete(key, opts...)
		op = &o
	}
	root := &cobra.Command{SilenceErrors: true}
	root.AddCommand(put, get, del)
	root.SetArgs(args)
	root.SetOut(a.io.Stdout)
	root.SetErr(a.io.Stderr)
	root.SetIn(a.io.Stdin)
	if err := root.Execute(); err != nil {
		return nil, failf(ExitInvalidInput, "invalid txn request: %s", line)
	}
	if opErr != nil {
		return nil, opErr
	}
	if op == nil {
		return nil, failf(ExitInvalidInput, "invalid txn request: %s", line)
	}
	return op, nil
}

// parseCompare parses a txn comparison: target("key") op "value", with
// target one of ver/version, c/create, m/mod, val/value, lease.
func parseCompare(line string) (*clientv3.Cmp, error) {
	var key, op, val string
	target, rest, ok := strings.Cut(line, "(")
	if !ok {
		return nil, fmt.Errorf("malformed comparison: %s", line)
	}
	n, serr := fmt.Sscanf(rest, "%q) %s %q", &key, &op, &val)
	if n != 3 {
		return nil, fmt.Errorf("malformed comparison: %s; got %s(%q) %s %q", line, target, key, op, val)
	}
	if serr != nil {
		return nil, fmt.Errorf("malformed comparison: %s (%w)", line, serr)
	}
	var (
		v   int64
		err error
		cmp clientv3.Cmp
	)
	switch target {
	case "ver", "version":
		if v, err = strconv.ParseInt(val, 10, 64); err == nil {
			cmp = clientv3.Compare(clientv3.Version(key), op, v)
		}
	case "c", "create":
		if v, err = strconv.ParseInt(val, 10, 64); err == nil {
			cmp = clientv3.Compare(clientv3.CreateRevision(key), op, v)
		}
	case "m", "mod":
		if v, err = strconv.ParseInt(val, 10, 64); err == nil {
			cmp = clientv3.Compare(clientv3.ModRevision(key), op, v)
		}
	case "val", "value":
		cmp = clientv3.Compare(clientv3.Value(key), op, val)
	case "lease":
		cmp = clientv3.Compare(clientv3.LeaseValue(key), op, val)
	default:
		return nil, fmt.Errorf("malformed comparison: %s (unknown target %s)", line, target)
	}
	if err != nil {
		return nil, fmt.Errorf("invalid txn compare request: %s", line)
	}
	return &cmp, nil
}

// argsRegexp splits a line into words: "double quoted" (with escapes),
// 'single quoted', or runs of non-space characters.
var argsRegexp = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'[^']*'|[^'"\s]\S*[^'"\s]?`)

// argify splits a line like a shell would, for txn and interactive watch
// lines.
func argify(s string) ([]string, error) {
	args := argsRegexp.FindAllString(s, -1)
	for i, arg := range args {
		if arg == "" {
			continue
		}
		switch arg[0] {
		case '\'':
			args[i] = arg[1 : len(arg)-1]
		case '"':
			if _, err := fmt.Sscanf(arg, "%q", &args[i]); err != nil {
				return nil, fail(ExitInvalidInput, err)
			}
		}
	}
	return args, nil
}
