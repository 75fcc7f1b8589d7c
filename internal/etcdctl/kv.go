package etcdctl

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// getFlags are the flags of get.
type getFlags struct {
	consistency                string
	order, sortBy              string
	limit, rev                 int64
	prefix, fromKey            bool
	keysOnly, countOnly        bool
	printValueOnly             bool
	minCreateRev, maxCreateRev int64
	minModRev, maxModRev       int64
	stream                     bool
}

func (f *getFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.consistency, "consistency", "l", "Linearizable(l) or Serializable(s)")
	fs.StringVar(&f.order, "order", "", "Order of results; ASCEND or DESCEND (ASCEND by default)")
	fs.StringVar(&f.sortBy, "sort-by", "", "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION")
	fs.Int64Var(&f.limit, "limit", 0, "Maximum number of results")
	fs.BoolVar(&f.prefix, "prefix", false, "Get keys with matching prefix")
	fs.BoolVar(&f.fromKey, "from-key", false, "Get keys that are greater than or equal to the given key using byte compare")
	fs.Int64Var(&f.rev, "rev", 0, "Specify the kv revision")
	fs.BoolVar(&f.keysOnly, "keys-only", false, "Get only the keys")
	fs.BoolVar(&f.countOnly, "count-only", false, "Get only the count")
	fs.BoolVar(&f.printValueOnly, "print-value-only", false, `Only write values when using the "simple" output format`)
	fs.Int64Var(&f.minCreateRev, "min-create-rev", 0, "Minimum create revision")
	fs.Int64Var(&f.maxCreateRev, "max-create-rev", 0, "Maximum create revision")
	fs.Int64Var(&f.minModRev, "min-mod-rev", 0, "Minimum modification revision")
	fs.Int64Var(&f.maxModRev, "max-mod-rev", 0, "Maximum modification revision")
	fs.BoolVar(&f.stream, "stream", false, "Use the RangeStream RPC")
}

func (a *app) getCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "get [options] <key> [range_end]",
		Short:   "Gets the key or a range of keys",
		GroupID: groupKV,
	}
	a.get.register(cmd)
	cmd.Run = a.run(func(cmd *cobra.Command, args []string) error {
		key, opts, err := a.get.op(args)
		if err != nil {
			return err
		}
		cli, err := a.client(cmd)
		if err != nil {
			return err
		}
		defer cli.Close()
		ctx, cancel := a.commandCtx()
		var resp *clientv3.GetResponse
		if a.get.stream {
			var st clientv3.GetStreamChan
			st, err = cli.GetStream(ctx, key, opts...)
			if err == nil {
				resp, err = clientv3.GetStreamToGetResponse(st)
			}
		} else {
			resp, err = cli.Get(ctx, key, opts...)
		}
		cancel()
		if err != nil {
			return fail(ExitError, err)
		}
		if a.get.countOnly && a.out.format != formatFields {
			return fail(ExitBadArgs, errors.New("--count-only is only for `--write-out=fields`"))
		}
		if a.get.printValueOnly {
			if a.out.format != formatSimple {
				return fail(ExitBadArgs, errors.New("print-value-only is only for `--write-out=simple`"))
			}
			a.out.valueOnly = true
		}
		return a.out.Get(resp)
	})
	return cmd
}

// serializable parses a --consistency value. As etcdctl, the error names
// get's --consistency value.
func serializable(v, getValue string) (bool, error) {
	switch v {
	case "s":
		return true, nil
	case "l":
		return false, nil
	}
	return false, failf(ExitBadFeature, "unknown consistency flag %q", getValue)
}

// op validates the arguments of get and returns the key and options.
func (f *getFlags) op(args []string) (string, []clientv3.OpOption, error) {
	if len(args) == 0 {
		return "", nil, fail(ExitBadArgs, errors.New("get command needs one argument as key and an optional argument as range_end"))
	}
	if f.prefix && f.fromKey {
		return "", nil, fail(ExitBadArgs, errors.New("`--prefix` and `--from-key` cannot be set at the same time, choose one"))
	}
	if f.keysOnly && f.countOnly {
		return "", nil, fail(ExitBadArgs, errors.New("`--keys-only` and `--count-only` cannot be set at the same time, choose one"))
	}
	var opts []clientv3.OpOption
	ser, err := serializable(f.consistency, f.consistency)
	if err != nil {
		return "", nil, err
	}
	if ser {
		opts = append(opts, clientv3.WithSerializable())
	}
	key := args[0]
	if len(args) > 1 {
		if f.prefix || f.fromKey {
			return "", nil, fail(ExitBadArgs, errors.New("too many arguments, only accept one argument when `--prefix` or `--from-key` is set"))
		}
		opts = append(opts, clientv3.WithRange(args[1]))
	}
	opts = append(opts, clientv3.WithLimit(f.limit))
	if f.rev > 0 {
		opts = append(opts, clientv3.WithRev(f.rev))
	}

	order := clientv3.SortNone
	switch strings.ToUpper(f.order) {
	case "ASCEND":
		order = clientv3.SortAscend
	case "DESCEND":
		order = clientv3.SortDescend
	case "":
	default:
		return "", nil, failf(ExitBadFeature, "bad sort order %v", f.order)
	}
	target := clientv3.SortByKey
	switch strings.ToUpper(f.sortBy) {
	case "CREATE":
		target = clientv3.SortByCreateRevision
	case "KEY", "":
		target = clientv3.SortByKey
	case "MODIFY":
		target = clientv3.SortByModRevision
	case "VALUE":
		target = clientv3.SortByValue
	case "VERSION":
		target = clientv3.SortByVersion
	default:
		return "", nil, failf(ExitBadFeature, "bad sort target %v", f.sortBy)
	}
	opts = append(opts, clientv3.WithSort(target, order))

	if f.prefix {
		if key == "" {
			key = "\x00"
			opts = append(opts, clientv3.WithFromKey())
		} else {
			opts = append(opts, clientv3.WithPrefix())
		}
	}
	if f.fromKey {
		if key == "" {
			key = "\x00"
		}
		opts = append(opts, clientv3.WithFromKey())
	}
	if f.keysOnly {
		opts = append(opts, clientv3.WithKeysOnly())
	}
	if f.countOnly {
		opts = append(opts, clientv3.WithCountOnly())
	}
	if f.minCreateRev > 0 {
		opts = append(opts, clientv3.WithMinCreateRev(f.minCreateRev))
	}
	if f.maxCreateRev > 0 {
		if f.minCreateRev > f.maxCreateRev {
			return "", nil, failf(ExitBadFeature, "getMinCreateRev(=%v) > getMaxCreateRev(=%v)", f.minCreateRev, f.maxCreateRev)
		}
		opts = append(opts, clientv3.WithMaxCreateRev(f.maxCreateRev))
	}
	if f.minModRev > 0 {
		opts = append(opts, clientv3.WithMinModRev(f.minModRev))
	}
	if f.maxModRev > 0 {
		if f.minModRev > f.maxModRev {
			return "", nil, failf(ExitBadFeature, "getMinModRev(=%v) > getMaxModRev(=%v)", f.minModRev, f.maxModRev)
		}
		opts = append(opts, clientv3.WithMaxModRev(f.maxModRev))
	}
	return key, opts, nil
}

// putFlags are the flags of put.
type putFlags struct {
	lease       string
	prevKV      bool
	ignoreValue bool
	ignoreLease bool
}

func (f *putFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.lease, "lease", "0", "lease ID (in hexadecimal) to attach to the key")
	fs.BoolVar(&f.prevKV, "prev-kv", false, "return the previous key-value pair before modification")
	fs.BoolVar(&f.ignoreValue, "ignore-value", false, "updates the key using its current value")
	fs.BoolVar(&f.ignoreLease, "ignore-lease", false, "updates the key using its current lease")
}

const putLong = `
Puts the given key into the store.

When <value> begins with '-', <value> is interpreted as a flag.
Insert '--' for workaround:

$ put <key> -- <value>
$ put -- <key> <value>

If <value> isn't given as a command line argument and '--ignore-value' is not specified,
this command tries to read the value from standard input.

If <lease> isn't given as a command line argument and '--ignore-lease' is not specified,
this command tries to read the value from standard input.

For example,
$ cat file | put <key>
will store the content of the file to <key>.
`

func (a *app) putCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "put [options] <key> <value> (<value> can also be given from stdin)",
		Short:   "Puts the given key into the store",
		Long:    putLong,
		GroupID: groupKV,
	}
	a.put.register(cmd)
	cmd.Run = a.run(func(cmd *cobra.Command, args []string) error {
		key, value, opts, err := a.put.op(args, a.io.Stdin)
		if err != nil {
			return err
		}
		cli, err := a.client(cmd)
		if err != nil {
			return err
		}
		defer cli.Close()
		ctx, cancel := a.commandCtx()
		resp, err := cli.Put(ctx, key, value, opts...)
		cancel()
		if err != nil {
			return fail(ExitError, err)
		}
		return a.out.Put(resp)
	})
	return cmd
}

// op validates the arguments of put, reading the value from stdin when
// it is not an argument.
func (f *putFlags) op(args []string, stdin io.Reader) (string, string, []clientv3.OpOption, error) {
	usage := errors.New("put command needs 1 argument and input from stdin or 2 arguments")
	if len(args) == 0 {
		return "", "", nil, fail(ExitBadArgs, usage)
	}
	key := args[0]
	if f.ignoreValue && len(args) > 1 {
		return "", "", nil, fail(ExitBadArgs, errors.New("put command needs only 1 argument when 'ignore-value' is set"))
	}
	var value string
	if !f.ignoreValue {
		if len(args) > 1 {
			value = args[1]
		} else {
			b, err := io.ReadAll(stdin)
			if err != nil || len(b) == 0 {
				return "", "", nil, fail(ExitBadArgs, usage)
			}
			value = string(b)
		}
	}
	id, err := strconv.ParseInt(f.lease, 16, 64)
	if err != nil {
		return "", "", nil, failf(ExitBadArgs, "bad lease ID (%w), expecting ID in Hex", err)
	}
	var opts []clientv3.OpOption
	if id != 0 {
		opts = append(opts, clientv3.WithLease(clientv3.LeaseID(id)))
	}
	if f.prevKV {
		opts = append(opts, clientv3.WithPrevKV())
	}
	if f.ignoreValue {
		opts = append(opts, clientv3.WithIgnoreValue())
	}
	if f.ignoreLease {
		opts = append(opts, clientv3.WithIgnoreLease())
	}
	return key, value, opts, nil
}

// delFlags are the flags of del.
type delFlags struct {
	prefix, prevKV, fromKey, rangeOK bool
}

func (f *delFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVar(&f.prefix, "prefix", false, "delete keys with matching prefix")
	fs.BoolVar(&f.prevKV, "prev-kv", false, "return deleted key-value pairs")
	fs.BoolVar(&f.fromKey, "from-key", false, "delete keys that are greater than or equal to the given key using byte compare")
	fs.BoolVar(&f.rangeOK, "range", false, "delete range of keys")
}

func (a *app) delCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "del [options] <key> [range_end]",
		Short:   "Removes the specified key or range of keys [key, range_end)",
		GroupID: groupKV,
	}
	a.del.register(cmd)
	cmd.Run = a.run(func(cmd *cobra.Command, args []string) error {
		key, opts, err := a.del.op(args, a.io.Stderr)
		if err != nil {
			return err
		}
		cli, err := a.client(cmd)
		if err != nil {
			return err
		}
		defer cli.Close()
		ctx, cancel := a.commandCtx()
		resp, err := cli.Delete(ctx, key, opts...)
		cancel()
		if err != nil {
			return fail(ExitError, err)
		}
		return a.out.Del(resp)
	})
	return cmd
}

// delRangeDelay is how long del waits, after warning, before deleting an
// explicit [key, range_end) without --range.
const delRangeDelay = 2 * time.Second

// op validates the arguments of del and returns the key and options.
func (f *delFlags) op(args []string, stderr io.Writer) (string, []clientv3.OpOption, error) {
	if len(args) == 0 || len(args) > 2 {
		return "", nil, fail(ExitBadArgs, errors.New("del command needs one argument as key and an optional argument as range_end"))
	}
	if f.prefix && f.fromKey {
		return "", nil, fail(ExitBadArgs, errors.New("`--prefix` and `--from-key` cannot be set at the same time, choose one"))
	}
	var opts []clientv3.OpOption
	key := args[0]
	if len(args) > 1 {
		if f.prefix || f.fromKey {
			return "", nil, fail(ExitBadArgs, errors.New("too many arguments, only accept one argument when `--prefix` or `--from-key` is set"))
		}
		opts = append(opts, clientv3.WithRange(args[1]))
		if !f.rangeOK {
			fmt.Fprintf(stderr, "Warning: Keys between %q and %q will be deleted. Please interrupt the command within next 2 seconds to cancel. "+
				"You can provide `--range` flag to avoid the delay.\n", args[0], args[1])
			time.Sleep(delRangeDelay)
		}
	}
	if f.prefix {
		if key == "" {
			key = "\x00"
			opts = append(opts, clientv3.WithFromKey())
		} else {
			opts = append(opts, clientv3.WithPrefix())
		}
	}
	if f.prevKV {
		opts = append(opts, clientv3.WithPrevKV())
	}
	if f.fromKey {
		if key == "" {
			key = "\x00"
		}
		opts = append(opts, clientv3.WithFromKey())
	}
	return key, opts, nil
}

// compactFlags are the flags of compaction.
type compactFlags struct {
	physical bool
}

func (a *app) compactionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "compaction [options] <revision>",
		Short:   "Compacts the event history in etcd",
		GroupID: groupKV,
	}
	cmd.Flags().BoolVar(&a.compact.physical, "physical", false, "'true' to wait for compaction to physically remove all old revisions")
	cmd.Run = a.run(func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fail(ExitBadArgs, errors.New("compaction command needs 1 argument"))
		}
		rev, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil {
			return fail(ExitError, err)
		}
		var opts []clientv3.CompactOption
		if a.compact.physical {
			opts = append(opts, clientv3.WithCompactPhysical())
		}
		cli, err := a.client(cmd)
		if err != nil {
			return err
		}
		defer cli.Close()
		ctx, cancel := a.commandCtx()
		_, err = cli.Compact(ctx, rev, opts...)
		cancel()
		if err != nil {
			return fail(ExitError, err)
		}
		fmt.Fprintln(a.io.Stdout, "compacted revision", rev)
		return nil
	})
	return cmd
}
