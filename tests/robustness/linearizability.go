package robustness

import (
	"fmt"
	"strings"
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

// explain describes where an Illegal history stops fitting the model: the
// end of the longest partial linearization porcupine found, the model's
// state there, and the pending operation that must come next (the earliest
// return) with the candidates concurrent with it.
func (r linResult) explain(ops []operation) string {
	if r.Result != porcupine.Illegal {
		return ""
	}
	var best []int
	for _, part := range r.Info.PartialLinearizations() {
		for _, lin := range part {
			if len(lin) > len(best) {
				best = lin
			}
		}
	}
	var b strings.Builder
	s := initState()
	done := map[int]bool{}
	for _, i := range best {
		_, s = step(s, ops[i].Req, ops[i].Resp)
		done[i] = true
	}
	fmt.Fprintf(&b, "longest linearizable prefix: %d of %d operations; its last ones:\n", len(best), len(ops))
	for _, i := range best[max(0, len(best)-8):] {
		fmt.Fprintf(&b, "  [%d] %s\n", i, describeTimed(ops[i]))
	}
	fmt.Fprintf(&b, "model state there: %s\n", describeState(s))
	next := -1
	for i, op := range ops {
		if !done[i] && (next < 0 || op.Return < ops[next].Return) {
			next = i
		}
	}
	if next >= 0 {
		fmt.Fprintf(&b, "the operation that fits nowhere (earliest return among the rest): [%d] %s\n", next, describeTimed(ops[next]))
		fmt.Fprintf(&b, "operations that could have gone before it:\n")
		n := 0
		for i, op := range ops {
			if !done[i] && i != next && op.Call <= ops[next].Return && n < 12 {
				fmt.Fprintf(&b, "  [%d] %s\n", i, describeTimed(op))
				n++
			}
		}
	}
	return b.String()
}

func describeTimed(op operation) string {
	ret := "inf"
	if op.Return != infinite {
		ret = time.Duration(op.Return).String()
	}
	return fmt.Sprintf("%s..%s client %d: %s", time.Duration(op.Call), ret, op.Client, describeOp(op.Req, op.Resp))
}
