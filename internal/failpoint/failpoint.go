// Package failpoint marks crash points inside the server for the robustness
// tests (tests/robustness).
//
// A crash point is a single call, failpoint.Hit("name"), at a place where a
// crash matters: before and after the WAL save, around the backend commit,
// in the middle of a compaction or a defragmentation. Without the build tag
// `failpoints` Hit is an empty function that the compiler inlines away: the
// production binary pays nothing. Built with `-tags failpoints`, Hit looks
// the name up in the environment variable ETCD_FAILPOINTS, read once at the
// first hit:
//
//	ETCD_FAILPOINTS="raftAfterSave=exit@40,beforeCommit=panic"
//
// is a comma-separated list of name=action[@N]. The action is
//
//	exit   the process writes one line to stderr and exits at once with
//	       status ExitCode (no deferred functions, no flush: as a crash)
//	panic  the goroutine panics (the process dies with status 2 and a trace)
//
// and N (default 1) is the hit that triggers it: "exit@40" lets the first 39
// hits pass and exits on the 40th. A name that is not listed passes.
//
// The points and where they are:
//
//	raftBeforeSave, raftAfterSave              internal/raftnode, around the WAL save of a Ready
//	raftBeforeSaveSnap, raftAfterSaveSnap      internal/raftnode, around saving a received snapshot
//	raftBeforeApplySnap, raftAfterApplySnap    internal/raftnode, around applying it to raft's log
//	beforeCommit, afterCommit                  internal/backend, around the bolt commit
//	defragBeforeCopy, defragBeforeRename       internal/backend, during a defragmentation
//	compactBeforeCommitBatch,                  internal/mvcc, around the commit of one batch
//	compactAfterCommitBatch                    of deletions of a compaction
//	compactAfterSetFinishedCompact             internal/mvcc, after the last batch is durable
package failpoint

// EnvVar names the environment variable that arms the crash points.
const EnvVar = "ETCD_FAILPOINTS"

// ExitCode is the exit status of a process stopped by an "exit" action.
const ExitCode = 87

// Enabled reports whether the binary was built with the failpoints tag.
const Enabled = enabled
