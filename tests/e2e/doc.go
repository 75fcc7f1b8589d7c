// Package e2e holds end-to-end tests of this repository's etcd binary: they
// run it as a process, talk to it with the official client/v3 and etcdctl
// v3.7.3, and compare it with the official etcd v3.7.3 built from the
// versions pinned in tests/go.mod.
package e2e
