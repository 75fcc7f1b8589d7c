// Command etcdutl is the offline administration tool for etcd data files
// (snapshot restore and status). See internal/etcdutl.
package main

import (
	"os"

	"github.com/etcdgo/etcd/internal/etcdutl"
)

func main() {
	os.Exit(etcdutl.Run(os.Args[1:], os.Stdout, os.Stderr))
}
