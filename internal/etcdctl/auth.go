package etcdctl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// userFlags are the flags of the user commands.
type userFlags struct {
	interactive bool
	newPassword string
	noPassword  bool
	detail      bool
}

// roleFlags are the flags of the role commands.
type roleFlags struct {
	prefix, fromKey bool
}

// authCall connects, runs call with a command context and reports its
// error as etcdctl does.
func (a *app) authCall(cmd *cobra.Command, call func(cli *clientv3.Client) error) error {
	cli, err := a.client(cmd)
	if err != nil {
		return err
	}
	defer cli.Close()
	return call(cli)
}

func noArgs(args []string, msg string) error {
	if len(args) != 0 {
		return fail(ExitBadArgs, errors.New(msg))
	}
	return nil
}

func (a *app) authCommand() *cobra.Command {
	ac := &cobra.Command{
		Use:     "auth <enable or disable>",
		Short:   "Enable or disable authentication. Use `etcdctl auth --help` to see subcommands",
		Long:    "Enable or disable authentication",
		GroupID: groupAuth,
	}
	enable := &cobra.Command{Use: "enable", Short: "Enables authentication", Run: a.run(func(cmd *cobra.Command, args []string) error {
		if err := noArgs(args, "auth enable command does not accept any arguments"); err != nil {
			return err
		}
		return a.authCall(cmd, func(cli *clientv3.Client) error {
			ctx, cancel := a.commandCtx()
			defer cancel()
			var err error
			for err == nil {
				if _, err = cli.AuthEnable(ctx); err == nil {
					break
				}
				// Enabling needs a root role granted to the root user.
				if errors.Is(err, rpctypes.ErrRootRoleNotExist) {
					if _, err = cli.RoleAdd(ctx, rootRole); err != nil {
						break
					}
					if _, err = cli.UserGrantRole(ctx, "root", rootRole); err != nil {
						break
					}
				}
			}
			if err != nil {
				return fail(ExitError, err)
			}
			fmt.Fprintln(a.io.Stdout, "Authentication Enabled")
			return nil
		})
	})}
	disable := &cobra.Command{Use: "disable", Short: "Disables authentication", Run: a.run(func(cmd *cobra.Command, args []string) error {
		if err := noArgs(args, "auth disable command does not accept any arguments"); err != nil {
			return err
		}
		return a.authCall(cmd, func(cli *clientv3.Client) error {
			ctx, cancel := a.commandCtx()
			defer cancel()
			if _, err := cli.AuthDisable(ctx); err != nil {
				return fail(ExitError, err)
			}
			fmt.Fprintln(a.io.Stdout, "Authentication Disabled")
			return nil
		})
	})}
	status := &cobra.Command{Use: "status", Short: "Returns authentication status", Run: a.run(func(cmd *cobra.Command, args []string) error {
		if err := noArgs(args, "auth status command does not accept any arguments"); err != nil {
			return err
		}
		return a.authCall(cmd, func(cli *clientv3.Client) error {
			ctx, cancel := a.commandCtx()
			defer cancel()
			resp, err := cli.AuthStatus(ctx)
			if err != nil {
				return fail(ExitError, err)
			}
			return a.out.AuthStatus(resp)
		})
	})}
	ac.AddCommand(enable, disable, status)
	return ac
}

func (a *app) userCommand() *cobra.Command {
	uc := &cobra.Command{
		Use:     "user <subcommand>",
		Short:   "User related commands. Use `etcdctl user --help` to see subcommands",
		Long:    "User related commands",
		GroupID: groupAuth,
	}
	f := &a.user
	add := &cobra.Command{Use: "add <user name or user:password> [options]", Short: "Adds a new user", Run: a.run(a.userAdd)}
	add.Flags().BoolVar(&f.interactive, "interactive", true, "Read password from stdin instead of interactive terminal")
	add.Flags().StringVar(&f.newPassword, "new-user-password", "", "Supply password from the command line flag")
	add.Flags().BoolVar(&f.noPassword, "no-password", false, "Create a user without password (CN based auth only)")
	del := &cobra.Command{Use: "delete <user name>", Short: "Deletes a user", Run: a.run(func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fail(ExitBadArgs, errors.New("user delete command requires user name as its argument"))
		}
		return a.authCall(cmd, func(cli *clientv3.Client) error {
			resp, err := cli.UserDelete(a.ctx, args[0])
			if err != nil {
				return fail(ExitError, err)
			}
			return a.out.UserDelete(args[0], resp)
		})
	})}
	get := &cobra.Command{Use: "get <user name> [options]", Short: "Gets detailed information of a user", Run: a.run(a.userGet)}
	get.Flags().BoolVar(&f.detail, "detail", false, "Show permissions of roles granted to the user")
	list := &cobra.Command{Use: "list", Short: "Lists all users", Run: a.run(func(cmd *cobra.Command, args []string) error {
		if err := noArgs(args, "user list command requires no arguments"); err != nil {
			return err
		}
		return a.authCall(cmd, func(cli *clientv3.Client) error {
			resp, err := cli.UserList(a.ctx)
			if err != nil {
				return fail(ExitError, err)
			}
			return a.out.UserList(resp)
		})
	})}
	passwd := &cobra.Command{Use: "passwd <user name> [options]", Short: "Changes password of user", Run: a.run(func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fail(ExitBadArgs, errors.New("user passwd command requires user name as its argument"))
		}
		var password string
		if !f.interactive {
			password = scanWord(a.io.Stdin)
		} else {
			var err error
			if password, err = a.askNewPassword(args[0]); err != nil {
				return err
			}
		}
		return a.authCall(cmd, func(cli *clientv3.Client) error {
			resp, err := cli.UserChangePassword(a.ctx, args[0], password)
			if err != nil {
				return fail(ExitError, err)
			}
			return a.out.UserChangePassword(resp)
		})
	})}
	passwd.Flags().BoolVar(&f.interactive, "interactive", true, "If true, read password from stdin instead of interactive terminal")
	grant := &cobra.Command{Use: "grant-role <user name> <role name>", Short: "Grants a role to a user", Run: a.run(func(cmd *cobra.Command, args []string) error {
		if len(args) != 2 {
			return fail(ExitBadArgs, errors.New("user grant command requires user name and role name as its argument"))
		}
		return a.authCall(cmd, func(cli *clientv3.Client) error {
			resp, err := cli.UserGrantRole(a.ctx, args[0], args[1])
			if err != nil {
				return fail(ExitError, err)
			}
			return a.out.UserGrantRole(args[0], args[1], resp)
		})
	})}
	revoke := &cobra.Command{Use: "revoke-role <user name> <role name>", Short: "Revokes a role from a user", Run: a.run(func(cmd *cobra.Command, args []string) error {
		if len(args) != 2 {
			return fail(ExitBadArgs, errors.New("user revoke-role requires user name and role name as its argument"))
		}
		return a.authCall(cmd, func(cli *clientv3.Client) error {
			resp, err := cli.UserRevokeRole(a.ctx, args[0], args[1])
			if err != nil {
				return fail(ExitError, err)
			}
			return a.out.UserRevokeRole(args[0], args[1], resp)
		})
	})}
	uc.AddCommand(add, del, get, list, passwd, grant, revoke)
	return uc
}

// askNewPassword asks for a new password twice on the terminal.
func (a *app) askNewPassword(name string) (string, error) {
	p1, err := readPassword(a.io, fmt.Sprintf("Password of %s: ", name))
	if err != nil {
		return "", failf(ExitBadArgs, "failed to ask password: %w", err)
	}
	if p1 == "" {
		return "", fail(ExitBadArgs, errors.New("empty password"))
	}
	p2, err := readPassword(a.io, fmt.Sprintf("Type password of %s again for confirmation: ", name))
	if err != nil {
		return "", failf(ExitBadArgs, "failed to ask password: %w", err)
	}
	if p1 != p2 {
		return "", fail(ExitBadArgs, errors.New("given passwords are different"))
	}
	return p1, nil
}

func (a *app) userAdd(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fail(ExitBadArgs, errors.New("user add command requires user name as its argument"))
	}
	f := &a.user
	var user, password string
	opts := &clientv3.UserAddOptions{}
	switch {
	case f.noPassword:
		user = args[0]
		opts.NoPassword = true
	case f.newPassword != "":
		user, password = args[0], f.newPassword
	default:
		name, pw, ok := strings.Cut(args[0], ":")
		if ok {
			user, password = name, pw
			if user == "" {
				return fail(ExitBadArgs, errors.New("empty user name is not allowed"))
			}
			break
		}
		user = args[0]
		if !f.interactive {
			password = scanWord(a.io.Stdin)
		} else {
			var err error
			if password, err = a.askNewPassword(args[0]); err != nil {
				return err
			}
		}
	}
	return a.authCall(cmd, func(cli *clientv3.Client) error {
		resp, err := cli.UserAddWithOptions(a.ctx, user, password, opts)
		if err != nil {
			return fail(ExitError, err)
		}
		return a.out.UserAdd(user, resp)
	})
}

func (a *app) userGet(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fail(ExitBadArgs, errors.New("user get command requires user name as its argument"))
	}
	name := args[0]
	return a.authCall(cmd, func(cli *clientv3.Client) error {
		resp, err := cli.UserGet(a.ctx, name)
		if err != nil {
			return fail(ExitError, err)
		}
		if !a.user.detail {
			return a.out.UserGet(name, resp)
		}
		fmt.Fprintf(a.io.Stdout, "User: %s\n", name)
		for _, role := range resp.Roles {
			fmt.Fprint(a.io.Stdout, "\n")
			rr, err := cli.RoleGet(a.ctx, role)
			if err != nil {
				return fail(ExitError, err)
			}
			if err := a.out.RoleGet(role, rr); err != nil {
				return err
			}
		}
		return nil
	})
}

func (a *app) roleCommand() *cobra.Command {
	rc := &cobra.Command{
		Use:     "role <subcommand>",
		Short:   "Role related commands. Use `etcdctl role --help` to see subcommands",
		Long:    "Role related commands",
		GroupID: groupAuth,
	}
	one := func(use, short, msg string, call func(cli *clientv3.Client, name string) error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Run: a.run(func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fail(ExitBadArgs, errors.New(msg))
			}
			return a.authCall(cmd, func(cli *clientv3.Client) error { return call(cli, args[0]) })
		})}
	}
	add := one("add <role name>", "Adds a new role", "role add command requires role name as its argument", func(cli *clientv3.Client, name string) error {
		resp, err := cli.RoleAdd(a.ctx, name)
		if err != nil {
			return fail(ExitError, err)
		}
		return a.out.RoleAdd(name, resp)
	})
	del := one("delete <role name>", "Deletes a role", "role delete command requires role name as its argument", func(cli *clientv3.Client, name string) error {
		resp, err := cli.RoleDelete(a.ctx, name)
		if err != nil {
			return fail(ExitError, err)
		}
		return a.out.RoleDelete(name, resp)
	})
	get := one("get <role name>", "Gets detailed information of a role", "role get command requires role name as its argument", func(cli *clientv3.Client, name string) error {
		resp, err := cli.RoleGet(a.ctx, name)
		if err != nil {
			return fail(ExitError, err)
		}
		return a.out.RoleGet(name, resp)
	})
	list := &cobra.Command{Use: "list", Short: "Lists all roles", Run: a.run(func(cmd *cobra.Command, args []string) error {
		if err := noArgs(args, "role list command requires no arguments"); err != nil {
			return err
		}
		return a.authCall(cmd, func(cli *clientv3.Client) error {
			resp, err := cli.RoleList(a.ctx)
			if err != nil {
				return fail(ExitError, err)
			}
			return a.out.RoleList(resp)
		})
	})}
	f := &a.role
	grant := &cobra.Command{
		Use:   "grant-permission [options] <role name> <permission type> <key> [endkey]",
		Short: "Grants a key to a role",
		Run: a.run(func(cmd *cobra.Command, args []string) error {
			if len(args) < 3 {
				return fail(ExitBadArgs, errors.New("role grant command requires role name, permission type, and key [endkey] as its argument"))
			}
			perm, err := clientv3.StrToPermissionType(args[1])
			if err != nil {
				return fail(ExitBadArgs, err)
			}
			key, end, err := f.permRange(args[2:])
			if err != nil {
				return err
			}
			return a.authCall(cmd, func(cli *clientv3.Client) error {
				resp, err := cli.RoleGrantPermission(a.ctx, args[0], key, end, perm)
				if err != nil {
					return fail(ExitError, err)
				}
				return a.out.RoleGrantPermission(args[0], resp)
			})
		}),
	}
	grant.Flags().BoolVar(&f.prefix, "prefix", false, "grant a prefix permission")
	grant.Flags().BoolVar(&f.fromKey, "from-key", false, "grant a permission of keys that are greater than or equal to the given key using byte compare")
	revoke := &cobra.Command{
		Use:   "revoke-permission <role name> <key> [endkey]",
		Short: "Revokes a key from a role",
		Run: a.run(func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return fail(ExitBadArgs, errors.New("role revoke-permission command requires role name and key [endkey] as its argument"))
			}
			key, end, err := f.permRange(args[1:])
			if err != nil {
				return err
			}
			return a.authCall(cmd, func(cli *clientv3.Client) error {
				resp, err := cli.RoleRevokePermission(a.ctx, args[0], key, end)
				if err != nil {
					return fail(ExitError, err)
				}
				return a.out.RoleRevokePermission(args[0], args[1], end, resp)
			})
		}),
	}
	revoke.Flags().BoolVar(&f.prefix, "prefix", false, "revoke a prefix permission")
	revoke.Flags().BoolVar(&f.fromKey, "from-key", false, "revoke a permission of keys that are greater than or equal to the given key using byte compare")
	rc.AddCommand(add, del, get, list, grant, revoke)
	return rc
}

// permRange returns the key and range end of a permission from its
// arguments and --prefix / --from-key.
func (f *roleFlags) permRange(args []string) (string, string, error) {
	key := args[0]
	if key == "" {
		if f.prefix && f.fromKey {
			return "", "", fail(ExitBadArgs, errors.New("--from-key and --prefix flags are mutually exclusive"))
		}
		end := ""
		if f.prefix || f.fromKey {
			end = "\x00"
		}
		return "\x00", end, nil
	}
	if len(args) == 1 {
		switch {
		case f.prefix && f.fromKey:
			return "", "", fail(ExitBadArgs, errors.New("--from-key and --prefix flags are mutually exclusive"))
		case f.prefix:
			return key, clientv3.GetPrefixRangeEnd(key), nil
		case f.fromKey:
			return key, "\x00", nil
		}
		return key, "", nil
	}
	if f.prefix {
		return "", "", fail(ExitBadArgs, errors.New("unexpected endkey argument with --prefix flag"))
	}
	if f.fromKey {
		return "", "", fail(ExitBadArgs, errors.New("unexpected endkey argument with --from-key flag"))
	}
	return key, args[1], nil
}
