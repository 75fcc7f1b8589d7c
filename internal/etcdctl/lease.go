package etcdctl

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// leaseFlags are the flags of the lease commands.
type leaseFlags struct {
	keys bool
	once bool
}

func (a *app) leaseCommand() *cobra.Command {
	lc := &cobra.Command{
		Use:     "lease <subcommand>",
		Short:   "Lease related commands. Use `etcdctl lease --help` to see subcommands",
		Long:    "Lease related commands",
		GroupID: groupKV,
	}
	grant := &cobra.Command{Use: "grant <ttl>", Short: "Creates leases", Run: a.run(a.leaseGrant)}
	revoke := &cobra.Command{Use: "revoke <leaseID>", Short: "Revokes leases", Run: a.run(a.leaseRevoke)}
	ttl := &cobra.Command{Use: "timetolive <leaseID> [options]", Short: "Get lease information", Run: a.run(a.leaseTimeToLive)}
	ttl.Flags().BoolVar(&a.lease.keys, "keys", false, "Get keys attached to this lease")
	list := &cobra.Command{Use: "list", Short: "List all active leases", Run: a.run(a.leaseList)}
	ka := &cobra.Command{Use: "keep-alive [options] <leaseID>", Short: "Keeps leases alive (renew)", Run: a.run(a.leaseKeepAlive)}
	ka.Flags().BoolVar(&a.lease.once, "once", false, "Resets the keep-alive time to its original value and cobrautl.Exits immediately")
	lc.AddCommand(grant, revoke, ttl, list, ka)
	return lc
}

func leaseFromArg(arg string) (clientv3.LeaseID, error) {
	id, err := strconv.ParseInt(arg, 16, 64)
	if err != nil {
		return 0, failf(ExitBadArgs, "bad lease ID arg (%w), expecting ID in Hex", err)
	}
	return clientv3.LeaseID(id), nil
}

func (a *app) leaseGrant(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fail(ExitBadArgs, errors.New("lease grant command needs TTL argument"))
	}
	ttl, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil {
		return failf(ExitBadArgs, "bad TTL (%w)", err)
	}
	cli, err := a.client(cmd)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := a.commandCtx()
	resp, err := cli.Grant(ctx, ttl)
	cancel()
	if err != nil {
		return failf(ExitError, "failed to grant lease (%w)", err)
	}
	return a.out.Grant(resp)
}

func (a *app) leaseRevoke(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fail(ExitBadArgs, errors.New("lease revoke command needs 1 argument"))
	}
	id, err := leaseFromArg(args[0])
	if err != nil {
		return err
	}
	cli, err := a.client(cmd)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := a.commandCtx()
	resp, err := cli.Revoke(ctx, id)
	cancel()
	if err != nil {
		return failf(ExitError, "failed to revoke lease (%w)", err)
	}
	return a.out.Revoke(id, resp)
}

func (a *app) leaseTimeToLive(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fail(ExitBadArgs, errors.New("lease timetolive command needs lease ID as argument"))
	}
	var opts []clientv3.LeaseOption
	if a.lease.keys {
		opts = append(opts, clientv3.WithAttachedKeys())
	}
	cli, err := a.client(cmd)
	if err != nil {
		return err
	}
	defer cli.Close()
	id, err := leaseFromArg(args[0])
	if err != nil {
		return err
	}
	resp, err := cli.TimeToLive(a.ctx, id, opts...)
	if err != nil {
		return fail(ExitBadConnection, err)
	}
	return a.out.TimeToLive(resp, a.lease.keys)
}

func (a *app) leaseList(cmd *cobra.Command, _ []string) error {
	cli, err := a.client(cmd)
	if err != nil {
		return err
	}
	defer cli.Close()
	resp, err := cli.Leases(a.ctx)
	if err != nil {
		return fail(ExitBadConnection, err)
	}
	return a.out.Leases(resp)
}

func (a *app) leaseKeepAlive(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fail(ExitBadArgs, errors.New("lease keep-alive command needs lease ID as argument"))
	}
	id, err := leaseFromArg(args[0])
	if err != nil {
		return err
	}
	cli, err := a.client(cmd)
	if err != nil {
		return err
	}
	defer cli.Close()
	if a.lease.once {
		resp, err := cli.KeepAliveOnce(a.ctx, id)
		if err != nil {
			return fail(ExitBadConnection, err)
		}
		return a.out.KeepAlive(resp)
	}
	ch, err := cli.KeepAlive(a.ctx, id)
	if err != nil {
		return fail(ExitBadConnection, err)
	}
	for resp := range ch {
		if err := a.out.KeepAlive(resp); err != nil {
			return err
		}
	}
	if a.out.format == formatSimple {
		fmt.Fprintf(a.io.Stdout, "lease %016x expired or revoked.\n", id)
	}
	return nil
}
