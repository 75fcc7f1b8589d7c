// Command etcdctl is the command line client of etcd's v3 API. See
// internal/etcdctl.
package main

import (
	"context"
	"os"

	"github.com/etcdgo/etcd/internal/etcdctl"
)

func main() {
	os.Exit(etcdctl.Run(context.Background(), os.Args[1:], etcdctl.IO{
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Environ: os.Environ(),
	}))
}
