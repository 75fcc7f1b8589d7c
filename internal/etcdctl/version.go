package etcdctl

import (
	"fmt"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/api/v3/version"
)

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Prints the version of etcdctl",
		GroupID: groupUtility,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(a.io.Stdout, "etcdctl version:", version.Version)
			fmt.Fprintln(a.io.Stdout, "API version:", version.APIVersion)
		},
	}
}
