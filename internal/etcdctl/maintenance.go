package etcdctl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// endpointFlags are the flags of the endpoint commands and defrag.
type endpointFlags struct {
	cluster   bool
	hashKVRev int64
}

func (a *app) endpointCommand() *cobra.Command {
	ec := &cobra.Command{
		Use:     "endpoint <subcommand>",
		Short:   "Endpoint related commands. Use `etcdctl endpoint --help` to see subcommands",
		Long:    "Endpoint related commands",
		GroupID: groupCluster,
	}
	ec.PersistentFlags().BoolVar(&a.endpoint.cluster, "cluster", false, "use all endpoints from the cluster member list")
	health := &cobra.Command{
		Use:   "health",
		Short: "Checks the healthiness of endpoints specified in `--endpoints` flag",
		Run:   a.run(a.endpointHealth),
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Prints out the status of endpoints specified in `--endpoints` flag",
		Long: `When --write-out is set to simple, this command prints out comma-separated status lists for each endpoint.
The items in the lists are endpoint, ID, version, db size, is leader, is learner, raft term, raft index, raft applied index, errors.
`,
		Run: a.run(a.endpointStatus),
	}
	hashkv := &cobra.Command{
		Use:   "hashkv",
		Short: "Prints the KV history hash for each endpoint in --endpoints",
		Run:   a.run(a.endpointHashKV),
	}
	hashkv.PersistentFlags().Int64Var(&a.endpoint.hashKVRev, "rev", 0, "maximum revision to hash (default: latest revision)")
	ec.AddCommand(health, status, hashkv)
	return ec
}

func (a *app) endpointHealth(cmd *cobra.Command, _ []string) error {
	spec, err := a.clientConfig(cmd)
	if err != nil {
		return err
	}
	eps, err := a.endpointsFromCluster(a.endpoint.cluster, spec)
	if err != nil {
		return err
	}
	var cfgs []*clientv3.Config
	for _, ep := range eps {
		s := spec.Clone()
		s.Endpoints = []string{ep}
		cfg, err := a.clientv3Config(s)
		if err != nil {
			return err
		}
		cfgs = append(cfgs, cfg)
	}
	var wg sync.WaitGroup
	hch := make(chan epHealth, len(cfgs))
	for _, cfg := range cfgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hch <- a.checkHealth(cfg)
		}()
	}
	wg.Wait()
	close(hch)
	unhealthy := false
	var hs []epHealth
	for h := range hch {
		hs = append(hs, h)
		if h.Error != "" {
			unhealthy = true
		}
	}
	if err := a.out.EndpointHealth(hs); err != nil {
		return err
	}
	if unhealthy {
		return fail(ExitError, errors.New("unhealthy cluster"))
	}
	return nil
}

// checkHealth reads a key through the endpoint of cfg (any answer,
// permission denied included, went through consensus) and checks that no
// alarm is raised.
func (a *app) checkHealth(cfg *clientv3.Config) epHealth {
	ep := cfg.Endpoints[0]
	cfg.Logger = a.logger().Named("client")
	cli, err := clientv3.New(*cfg)
	if err != nil {
		return epHealth{Ep: ep, Error: err.Error()}
	}
	defer cli.Close()
	st := time.Now()
	ctx, cancel := a.commandCtx()
	defer cancel()
	_, err = cli.Get(ctx, "health")
	h := epHealth{Ep: ep, Took: time.Since(st).String()}
	if err == nil || errors.Is(err, rpctypes.ErrPermissionDenied) {
		h.Health = true
	} else {
		h.Error = err.Error()
	}
	if h.Health {
		resp, err := cli.AlarmList(ctx)
		switch {
		case err == nil && len(resp.Alarms) > 0:
			h.Health = false
			h.Error = "Active Alarm(s): "
			for _, v := range resp.Alarms {
				switch v.Alarm {
				case pb.AlarmType_NOSPACE:
					h.Error += "NOSPACE "
				case pb.AlarmType_CORRUPT:
					h.Error += "CORRUPT "
				default:
					h.Error += "UNKNOWN "
				}
			}
		case err != nil:
			h.Health = false
			h.Error = "Unable to fetch the alarm list"
		}
	}
	return h
}

func (a *app) endpointStatus(cmd *cobra.Command, _ []string) error {
	var ss []epStatus
	failed := false
	err := a.perEndpoint(cmd, func(ctx context.Context, cli *clientv3.Client, ep string) {
		resp, err := cli.Status(ctx, ep)
		if err != nil {
			failed = true
			fmt.Fprintf(a.io.Stderr, "Failed to get the status of endpoint %s (%v)\n", ep, err)
			return
		}
		ss = append(ss, epStatus{Ep: ep, Resp: resp})
	})
	if err != nil {
		return err
	}
	if err := a.out.EndpointStatus(ss); err != nil {
		return err
	}
	if failed {
		return exitQuietly(ExitError)
	}
	return nil
}

// perEndpoint calls call once for each endpoint of the command (the
// cluster's members' with --cluster), in order, each with a client of its
// own and a --command-timeout context.
func (a *app) perEndpoint(cmd *cobra.Command, call func(ctx context.Context, cli *clientv3.Client, ep string)) error {
	spec, err := a.clientConfig(cmd)
	if err != nil {
		return err
	}
	eps, err := a.endpointsFromCluster(a.endpoint.cluster, spec)
	if err != nil {
		return err
	}
	for _, ep := range eps {
		spec.Endpoints = []string{ep}
		cli, err := a.newClient(spec)
		if err != nil {
			return err
		}
		ctx, cancel := a.commandCtx()
		call(ctx, cli, ep)
		cancel()
		cli.Close()
	}
	return nil
}

func (a *app) endpointHashKV(cmd *cobra.Command, _ []string) error {
	var hs []epHashKV
	var last error
	err := a.perEndpoint(cmd, func(ctx context.Context, cli *clientv3.Client, ep string) {
		resp, err := cli.HashKV(ctx, ep, a.endpoint.hashKVRev)
		if err != nil {
			last = err
			fmt.Fprintf(a.io.Stderr, "Failed to get the hash of endpoint %s (%v)\n", ep, err)
			return
		}
		hs = append(hs, epHashKV{Ep: ep, Resp: resp})
	})
	if err != nil {
		return err
	}
	if err := a.out.EndpointHashKV(hs); err != nil {
		return err
	}
	if last != nil {
		return fail(ExitError, last)
	}
	return nil
}

func (a *app) moveLeaderCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "move-leader <transferee-member-id>",
		Short:   "Transfers leadership to another etcd cluster member.",
		GroupID: groupCluster,
		Run:     a.run(a.moveLeader),
	}
}

// moveLeader finds the leader among the endpoints and asks it to hand
// leadership to the target member.
func (a *app) moveLeader(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fail(ExitBadArgs, errors.New("move-leader command needs 1 argument"))
	}
	target, err := strconv.ParseUint(args[0], 16, 64)
	if err != nil {
		return fail(ExitBadArgs, err)
	}
	spec, err := a.clientConfig(cmd)
	if err != nil {
		return err
	}
	cli, err := a.newClient(spec)
	if err != nil {
		return err
	}
	eps := cli.Endpoints()
	cli.Close()

	ctx, cancel := a.commandCtx()
	defer cancel()
	var leaderCli *clientv3.Client
	var leaderID uint64
	for _, ep := range eps {
		spec.Endpoints = []string{ep}
		c, err := a.newClient(spec)
		if err != nil {
			return err
		}
		resp, serr := c.Status(ctx, ep)
		if serr != nil {
			c.Close()
			return fail(ExitError, serr)
		}
		if resp.Header.GetMemberId() == resp.Leader {
			leaderCli, leaderID = c, resp.Leader
			break
		}
		c.Close()
	}
	if leaderCli == nil {
		return failf(ExitBadArgs, "no leader endpoint given at %v", eps)
	}
	defer leaderCli.Close()
	resp, err := leaderCli.MoveLeader(ctx, target)
	if err != nil {
		return fail(ExitError, err)
	}
	return a.out.MoveLeader(leaderID, target, resp)
}

func (a *app) alarmCommand() *cobra.Command {
	ac := &cobra.Command{
		Use:     "alarm <subcommand>",
		Short:   "Alarm related commands. Use `etcdctl alarm --help` to see subcommands",
		Long:    "Alarm related commands",
		GroupID: groupCluster,
	}
	disarm := &cobra.Command{
		Use:   "disarm",
		Short: "Disarms all alarms",
		Run: a.run(func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return fail(ExitBadArgs, errors.New("alarm disarm command accepts no arguments"))
			}
			return a.alarm(cmd, func(cli *clientv3.Client) (*clientv3.AlarmResponse, error) {
				ctx, cancel := a.commandCtx()
				defer cancel()
				return cli.AlarmDisarm(ctx, &clientv3.AlarmMember{})
			})
		}),
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "Lists all alarms",
		Run: a.run(func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return fail(ExitBadArgs, errors.New("alarm list command accepts no arguments"))
			}
			return a.alarm(cmd, func(cli *clientv3.Client) (*clientv3.AlarmResponse, error) {
				ctx, cancel := a.commandCtx()
				defer cancel()
				return cli.AlarmList(ctx)
			})
		}),
	}
	ac.AddCommand(disarm, list)
	return ac
}

func (a *app) alarm(cmd *cobra.Command, call func(*clientv3.Client) (*clientv3.AlarmResponse, error)) error {
	cli, err := a.client(cmd)
	if err != nil {
		return err
	}
	defer cli.Close()
	resp, err := call(cli)
	if err != nil {
		return fail(ExitError, err)
	}
	return a.out.Alarm(resp)
}

func (a *app) defragCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "defrag",
		Short:   "Defragments the storage of the etcd members with given endpoints",
		GroupID: groupCluster,
		Run:     a.run(a.defrag),
	}
	cmd.PersistentFlags().BoolVar(&a.endpoint.cluster, "cluster", false, "use all endpoints from the cluster member list")
	return cmd
}

func (a *app) defrag(cmd *cobra.Command, _ []string) error {
	failures := 0
	err := a.perEndpoint(cmd, func(ctx context.Context, cli *clientv3.Client, ep string) {
		start := time.Now()
		_, err := cli.Defragment(ctx, ep)
		d := time.Since(start)
		if err != nil {
			fmt.Fprintf(a.io.Stderr, "Failed to defragment etcd member[%s]. took %s. (%v)\n", ep, d.String(), err)
			failures++
			return
		}
		fmt.Fprintf(a.io.Stdout, "Finished defragmenting etcd member[%s]. took %s\n", ep, d.String())
	})
	if err != nil {
		return err
	}
	if failures != 0 {
		return exitQuietly(ExitError)
	}
	return nil
}
