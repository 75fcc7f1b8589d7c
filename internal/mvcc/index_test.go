package mvcc

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

func formatRevSet(m map[Revision]struct{}) string {
	revs := make([]Revision, 0, len(m))
	for r := range m {
		revs = append(revs, r)
	}
	sort.Slice(revs, func(i, j int) bool { return revs[j].GreaterThan(revs[i]) })
	s := make([]string, len(revs))
	for i, r := range revs {
		s[i] = r.String()
	}
	return "[" + strings.Join(s, " ") + "]"
}

func dumpIndex(ti *treeIndex) string {
	var sb strings.Builder
	ti.mu.RLock()
	defer ti.mu.RUnlock()
	ti.tree.Ascend(func(ki *keyIndex) bool {
		sb.WriteString(ki.String() + "\n")
		return true
	})
	if sb.Len() == 0 {
		return "(empty)"
	}
	return sb.String()
}

// rangeEnd parses a script range end: "-" is nil (key alone), "\0" is
// []byte{0} (every key >= key).
func rangeEnd(s string) []byte {
	switch s {
	case "-":
		return nil
	case `\0`:
		return []byte{0}
	}
	return []byte(s)
}

// TestIndexScripts runs testdata/index_*.txt against a treeIndex.
//
// Commands: put KEY REV | tombstone KEY REV | get KEY AT | since KEY REV |
// range KEY END AT [LIMIT] | count KEY END AT | compact AT | keep AT | dump.
func TestIndexScripts(t *testing.T) {
	runScripts(t, "index_*.txt", func(t *testing.T) func(c scriptCmd) string {
		ti := newTreeIndex()
		return func(c scriptCmd) string {
			a := c.args
			switch c.cmd {
			case "put":
				ti.Put([]byte(a[0]), parseRev(t, a[1]))
				return ti.unsafeKeyIndex([]byte(a[0])).String()
			case "tombstone":
				if err := ti.Tombstone([]byte(a[0]), parseRev(t, a[1])); err != nil {
					return "error: " + err.Error()
				}
				return ti.unsafeKeyIndex([]byte(a[0])).String()
			case "get":
				mod, created, ver, err := ti.Get([]byte(a[0]), parseInt(t, a[1]))
				if err != nil {
					return "error: " + err.Error()
				}
				return fmt.Sprintf("modified=%s created=%s ver=%d", mod, created, ver)
			case "since":
				ki := ti.unsafeKeyIndex([]byte(a[0]))
				if ki == nil {
					return "no key"
				}
				return fmt.Sprint(ki.since(parseInt(t, a[1])))
			case "range":
				limit := 0
				if len(a) > 3 {
					limit = int(parseInt(t, a[3]))
				}
				keys, revs := ti.Range([]byte(a[0]), rangeEnd(a[1]), parseInt(t, a[2]))
				ti.mu.RLock()
				lrevs, total := ti.unsafeRevisions([]byte(a[0]), rangeEnd(a[1]), parseInt(t, a[2]), limit)
				ti.mu.RUnlock()
				var sb strings.Builder
				for i := range keys {
					fmt.Fprintf(&sb, "%s@%s ", keys[i], revs[i])
				}
				fmt.Fprintf(&sb, "limited=%v total=%d", lrevs, total)
				return sb.String()
			case "count":
				ti.mu.RLock()
				defer ti.mu.RUnlock()
				return fmt.Sprint(ti.unsafeCount([]byte(a[0]), rangeEnd(a[1]), parseInt(t, a[2])))
			case "compact":
				avail := ti.Compact(parseInt(t, a[0]))
				return "available " + formatRevSet(avail) + "\n" + dumpIndex(ti)
			case "keep":
				return "keep " + formatRevSet(ti.Keep(parseInt(t, a[0])))
			case "dump":
				return dumpIndex(ti)
			}
			t.Fatalf("line %d: unknown command %q", c.line, c.cmd)
			return ""
		}
	})
}
