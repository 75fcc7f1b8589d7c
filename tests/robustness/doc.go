// Package robustness runs real clusters of this repository's etcd binary
// under client traffic and faults, and checks what the clients and the
// watchers saw: linearizability of the key-value history (porcupine, with
// a model of etcd's key space that knows revisions), completeness and order
// of watches, durability across kill -9 of every member, monotonic member
// revisions and convergence of the members' key-space hashes.
//
// See docs/robustness.md for what is checked, the faults, and how to
// replay a failed run. Flags (after `go test ./robustness -args` or with
// `make robustness`):
//
//	-robustness.seed=N          seed of the run (0: a fresh random one, printed)
//	-robustness.scenarios=N     number of scenarios (default 3)
//	-robustness.duration=D      traffic time of each scenario (default 10s)
//	-robustness.rate=N          total operations per second (0: from the seed)
//	-robustness.artifacts=DIR   where a failed scenario's folder goes (default: temp dir)
//	-robustness.porcupine-timeout=D  bound of the linearizability check
package robustness
