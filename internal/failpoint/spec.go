package failpoint

import (
	"fmt"
	"strconv"
	"strings"
)

type action int

const (
	actionExit action = iota + 1
	actionPanic
)

// point is one armed crash point.
type point struct {
	action action
	at     int64 // the hit that fires, 1-based
	hits   int64
}

// parse reads an ETCD_FAILPOINTS value: comma-separated name=action[@N].
func parse(spec string) (map[string]*point, error) {
	out := map[string]*point{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, term, ok := strings.Cut(item, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("failpoint %q: want name=action[@N]", item)
		}
		act, at, hasAt := strings.Cut(strings.TrimSpace(term), "@")
		p := &point{at: 1}
		switch act {
		case "exit":
			p.action = actionExit
		case "panic":
			p.action = actionPanic
		default:
			return nil, fmt.Errorf("failpoint %q: unknown action %q (want exit or panic)", name, act)
		}
		if hasAt {
			n, err := strconv.ParseInt(at, 10, 64)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("failpoint %q: hit %q is not a positive integer", name, at)
			}
			p.at = n
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("failpoint %q: listed twice", name)
		}
		out[name] = p
	}
	return out, nil
}
