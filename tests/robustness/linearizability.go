package robustness

import (
	"fmt"
	"time"

	"github.com/anishathalye/porcupine"
)

// prepareHistory turns the recorded operations into the history porcupine
// checks:
//
//   - serializable reads leave (checkStaleReads covers them);
//   - a put or txn with an unknown outcome whose (unique) value the watch
//     saw at revision R becomes "happened at R" (RevOnly, return time still
//     infinite); one whose value no watcher saw leaves the history when the
//     watch is complete (it did not happen, or it was a txn whose compare
//     failed: no effect either way);
//   - deletes and revokes with unknown outcome stay "maybe happened".
func prepareHistory(ops []operation, h *watchHistory, watchComplete bool) []operation {
	out := make([]operation, 0, len(ops))
	for _, op := range ops {
		if op.Req.Kind == opStaleGet {
			continue
		}
		if op.Resp.Unknown {
			switch op.Req.Kind {
			case opPut, opPutLease, opTxnCAS:
				if h != nil {
					if rev, ok := h.valueRev[op.Req.Value]; ok {
						op.Resp = response{RevOnly: true, Rev: rev, Succeeded: true}
					} else if watchComplete {
						continue
					}
				}
			}
		}
		out = append(out, op)
	}
	return out
}

// linResult is the outcome of the linearizability check.
type linResult struct {
	Result porcupine.CheckResult
	Info   porcupine.LinearizationInfo
	Ops    int
	Took   time.Duration
}

func (r linResult) String() string {
	return fmt.Sprintf("porcupine: %s on %d operations in %s", r.Result, r.Ops, r.Took.Round(time.Millisecond))
}

// checkLinearizable runs porcupine with a bound; Unknown (timed out) is
// not a pass.
func checkLinearizable(ops []operation, timeout time.Duration) linResult {
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(kvModel, toPorcupine(ops), timeout)
	return linResult{Result: res, Info: info, Ops: len(ops), Took: time.Since(start)}
}
