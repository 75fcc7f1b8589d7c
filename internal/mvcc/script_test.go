package mvcc

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A small data-driven test runner: a script is a sequence of blocks
//
//	command arg...
//	----
//	expected output
//	<blank line>
//
// Lines starting with '#' between blocks are comments. Run the tests with
// -rewrite to regenerate the expected output (then review the diff).

var rewrite = flag.Bool("rewrite", false, "rewrite expected output of testdata scripts")

type scriptCmd struct {
	line     int
	cmd      string
	args     []string
	expected string
}

func parseScript(t *testing.T, path string) (cmds []scriptCmd, comments map[int][]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	comments = map[int][]string{}
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "#") {
			comments[len(cmds)] = append(comments[len(cmds)], lines[i])
			continue
		}
		fields := strings.Fields(l)
		c := scriptCmd{line: i + 1, cmd: fields[0], args: fields[1:]}
		i++
		if i >= len(lines) || strings.TrimSpace(lines[i]) != "----" {
			t.Fatalf("%s:%d: expected ---- after command", path, c.line)
		}
		var out []string
		for i++; i < len(lines) && lines[i] != ""; i++ {
			out = append(out, lines[i])
		}
		c.expected = strings.Join(out, "\n")
		cmds = append(cmds, c)
	}
	return cmds, comments
}

// runScripts runs every testdata file matching glob through a fresh handler
// made by newHandler.
func runScripts(t *testing.T, glob string, newHandler func(t *testing.T) func(c scriptCmd) string) {
	files, err := filepath.Glob(filepath.Join("testdata", glob))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts match %s: %v", glob, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cmds, comments := parseScript(t, f)
			h := newHandler(t)
			var sb strings.Builder
			for i, c := range cmds {
				got := strings.TrimRight(h(c), "\n")
				if *rewrite {
					for _, cm := range comments[i] {
						sb.WriteString(cm + "\n")
					}
					fmt.Fprintf(&sb, "%s\n----\n%s\n\n", strings.Join(append([]string{c.cmd}, c.args...), " "), got)
					continue
				}
				if got != c.expected {
					t.Errorf("%s:%d: %s %s\ngot:\n%s\nwant:\n%s", f, c.line, c.cmd, strings.Join(c.args, " "), got, c.expected)
				}
			}
			if *rewrite {
				for _, cm := range comments[len(cmds)] {
					sb.WriteString(cm + "\n")
				}
				if err := os.WriteFile(f, []byte(sb.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func parseRev(t *testing.T, s string) Revision {
	t.Helper()
	main, sub, _ := strings.Cut(s, ".")
	m, err := strconv.ParseInt(main, 10, 64)
	if err != nil {
		t.Fatalf("bad revision %q", s)
	}
	var n int64
	if sub != "" {
		if n, err = strconv.ParseInt(sub, 10, 64); err != nil {
			t.Fatalf("bad revision %q", s)
		}
	}
	return Revision{Main: m, Sub: n}
}

func parseInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("bad number %q", s)
	}
	return n
}
