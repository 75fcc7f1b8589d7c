package etcdctl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// memberFlags are the flags of the member commands.
type memberFlags struct {
	peerURLs    string
	learner     bool
	consistency string
}

func (a *app) memberCommand() *cobra.Command {
	mc := &cobra.Command{
		Use:     "member <subcommand>",
		Short:   "Membership related commands. Use `etcdctl member --help` to see subcommands",
		Long:    "Membership related commands",
		GroupID: groupCluster,
	}
	add := &cobra.Command{Use: "add <memberName> [options]", Short: "Adds a member into the cluster", Run: a.run(a.memberAdd)}
	add.Flags().StringVar(&a.member.peerURLs, "peer-urls", "", "comma separated peer URLs for the new member.")
	add.Flags().BoolVar(&a.member.learner, "learner", false, "indicates if the new member is raft learner")
	remove := &cobra.Command{Use: "remove <memberID>", Short: "Removes a member from the cluster", Run: a.run(a.memberRemove)}
	update := &cobra.Command{Use: "update <memberID> [options]", Short: "Updates a member in the cluster", Run: a.run(a.memberUpdate)}
	update.Flags().StringVar(&a.member.peerURLs, "peer-urls", "", "comma separated peer URLs for the updated member.")
	list := &cobra.Command{
		Use:   "list",
		Short: "Lists all members in the cluster",
		Long: `When --write-out is set to simple, this command prints out comma-separated member lists for each endpoint.
The items in the lists are ID, Status, Name, Peer Addrs, Client Addrs, Is Learner.
`,
		Run: a.run(a.memberList),
	}
	list.Flags().StringVar(&a.member.consistency, "consistency", "l", "Linearizable(l) or Serializable(s)")
	promote := &cobra.Command{
		Use:   "promote <memberID>",
		Short: "Promotes a non-voting member in the cluster",
		Long: `Promotes a non-voting learner member to a voting one in the cluster.
`,
		Run: a.run(a.memberPromote),
	}
	mc.AddCommand(add, remove, update, list, promote)
	return mc
}

func memberIDFromArgs(args []string) (uint64, error) {
	if len(args) != 1 {
		return 0, fail(ExitBadArgs, errors.New("member ID is not provided"))
	}
	id, err := strconv.ParseUint(args[0], 16, 64)
	if err != nil {
		return 0, failf(ExitBadArgs, "bad member ID arg (%w), expecting ID in Hex", err)
	}
	return id, nil
}

func (a *app) memberAdd(cmd *cobra.Command, args []string) error {
	if len(args) < 1 {
		return fail(ExitBadArgs, errors.New("member name not provided"))
	}
	if len(args) > 1 {
		ev := "too many arguments"
		for _, s := range args {
			if strings.HasPrefix(strings.ToLower(s), "http") {
				ev += fmt.Sprintf(`, did you mean --peer-urls=%s`, s)
			}
		}
		return fail(ExitBadArgs, errors.New(ev))
	}
	name := args[0]
	if a.member.peerURLs == "" {
		return fail(ExitBadArgs, errors.New("member peer urls not provided"))
	}
	urls := strings.Split(a.member.peerURLs, ",")
	ctx, cancel := a.commandCtx()
	defer cancel()
	cli, err := a.client(cmd)
	if err != nil {
		return err
	}
	defer cli.Close()
	var resp *clientv3.MemberAddResponse
	if a.member.learner {
		resp, err = cli.MemberAddAsLearner(ctx, urls)
	} else {
		resp, err = cli.MemberAdd(ctx, urls)
	}
	cancel()
	if err != nil {
		return fail(ExitError, err)
	}
	if err := a.out.MemberAdd(resp); err != nil {
		return err
	}
	if a.out.format != formatSimple {
		return nil
	}
	newID := resp.Member.GetID()
	var conf []string
	for _, m := range resp.Members {
		for _, u := range m.GetPeerURLs() {
			n := m.GetName()
			if m.GetID() == newID {
				n = name
			}
			conf = append(conf, fmt.Sprintf("%s=%s", n, u))
		}
	}
	w := a.io.Stdout
	fmt.Fprint(w, "\n")
	fmt.Fprintf(w, "ETCD_NAME=%q\n", name)
	fmt.Fprintf(w, "ETCD_INITIAL_CLUSTER=%q\n", strings.Join(conf, ","))
	fmt.Fprintf(w, "ETCD_INITIAL_ADVERTISE_PEER_URLS=%q\n", a.member.peerURLs)
	fmt.Fprint(w, "ETCD_INITIAL_CLUSTER_STATE=\"existing\"\n")
	return nil
}

func (a *app) memberRemove(cmd *cobra.Command, args []string) error {
	id, err := memberIDFromArgs(args)
	if err != nil {
		return err
	}
	cli, err := a.client(cmd)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := a.commandCtx()
	resp, err := cli.MemberRemove(ctx, id)
	cancel()
	if err != nil {
		return fail(ExitError, err)
	}
	return a.out.MemberRemove(id, resp)
}

func (a *app) memberUpdate(cmd *cobra.Command, args []string) error {
	id, err := memberIDFromArgs(args)
	if err != nil {
		return err
	}
	if a.member.peerURLs == "" {
		return fail(ExitBadArgs, errors.New("member peer urls not provided"))
	}
	urls := strings.Split(a.member.peerURLs, ",")
	cli, err := a.client(cmd)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := a.commandCtx()
	resp, err := cli.MemberUpdate(ctx, id, urls)
	cancel()
	if err != nil {
		return fail(ExitError, err)
	}
	return a.out.MemberUpdate(id, resp)
}

func (a *app) memberList(cmd *cobra.Command, _ []string) error {
	var opts []clientv3.OpOption
	// As etcdctl, an unknown value is reported with get's default.
	ser, err := serializable(a.member.consistency, "l")
	if err != nil {
		return err
	}
	if ser {
		opts = append(opts, clientv3.WithSerializable())
	}
	cli, err := a.client(cmd)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := a.commandCtx()
	resp, err := cli.MemberList(ctx, opts...)
	cancel()
	if err != nil {
		return fail(ExitError, err)
	}
	return a.out.MemberList(resp)
}

func (a *app) memberPromote(cmd *cobra.Command, args []string) error {
	id, err := memberIDFromArgs(args)
	if err != nil {
		return err
	}
	cli, err := a.client(cmd)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := a.commandCtx()
	resp, err := cli.MemberPromote(ctx, id)
	cancel()
	if err != nil {
		return fail(ExitError, err)
	}
	return a.out.MemberPromote(id, resp)
}
