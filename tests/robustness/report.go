package robustness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// artifacts is what a failed run leaves behind.
type artifacts struct {
	Scenario string
	Seed     uint64
	Replay   string
	Faults   []faultRecord
	Errors   []string
	Ops      []operation
	Lin      *linResult
	Hist     []operation // the history porcupine checked
	Watchers []watcherResult
	Revs     map[string][]revSample
	Logs     map[string]string
}

// write saves the artifacts into a fresh directory under base (the system
// temporary directory when empty) and returns its path.
func (a *artifacts) write(base string) (string, error) {
	if base == "" {
		base = os.TempDir()
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(base, fmt.Sprintf("robustness-%s-seed%d-", a.Scenario, a.Seed))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s\nscenario seed %d\nreplay: %s\n\nfaults:\n", a.Scenario, a.Seed, a.Replay)
	for _, f := range a.Faults {
		fmt.Fprintf(&b, "  %s\n", f)
	}
	fmt.Fprintf(&b, "\nfailures:\n")
	for _, e := range a.Errors {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	if a.Lin != nil {
		fmt.Fprintf(&b, "\n%s\n%s", a.Lin, a.Lin.explain(a.Hist))
	}
	files := map[string]string{"README.txt": b.String()}

	var ops strings.Builder
	sorted := append([]operation(nil), a.Ops...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Call < sorted[j].Call })
	for _, op := range sorted {
		ret := "inf"
		if op.Return != infinite {
			ret = time.Duration(op.Return).String()
		}
		fmt.Fprintf(&ops, "%-12s %-12s client %-3d %s", time.Duration(op.Call), ret, op.Client, describeOp(op.Req, op.Resp))
		if op.Err != "" {
			fmt.Fprintf(&ops, "  err: %s", op.Err)
		}
		ops.WriteString("\n")
	}
	files["operations.txt"] = ops.String()
	if js, err := json.Marshal(a.Hist); err == nil {
		files["history.json"] = string(js) // the checked history, for offline re-checks
	}

	for _, w := range a.Watchers {
		var s strings.Builder
		fmt.Fprintf(&s, "watcher %d from revision %d prev_kv %v\n", w.ID, w.StartRev, w.PrevKV)
		for _, it := range w.Items {
			if it.Progress > 0 {
				fmt.Fprintf(&s, "progress %d\n", it.Progress)
				continue
			}
			typ := "PUT"
			if it.Ev.Delete {
				typ = "DELETE"
			}
			fmt.Fprintf(&s, "%d %s %s\n", it.Ev.KV.ModRev, typ, describeKVs([]kv{it.Ev.KV}))
		}
		files[fmt.Sprintf("watcher-%d.txt", w.ID)] = s.String()
	}
	var revs strings.Builder
	for name, ss := range a.Revs {
		for _, s := range ss {
			fmt.Fprintf(&revs, "%s %s %d\n", name, s.At.Round(time.Millisecond), s.Rev)
		}
	}
	files["revisions.txt"] = revs.String()
	for name, l := range a.Logs {
		files[name+".log"] = l
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return dir, err
		}
	}
	if a.Lin != nil {
		if err := porcupine.VisualizePath(kvModel, a.Lin.Info, filepath.Join(dir, "history.html")); err != nil {
			return dir, fmt.Errorf("visualization: %w", err)
		}
	}
	return dir, nil
}
