//go:build failpoints

package failpoint

import (
	"fmt"
	"os"
	"sync"
)

const enabled = true

var (
	loadOnce sync.Once
	points   map[string]*point // nil when ETCD_FAILPOINTS is empty or bad
	mu       sync.Mutex        // guards the hit counters
)

// Hit counts a hit of the named point and runs its action when the
// configured hit is reached.
func Hit(name string) {
	loadOnce.Do(load)
	if points == nil {
		return
	}
	p, ok := points[name]
	if !ok {
		return
	}
	mu.Lock()
	p.hits++
	fire := p.hits == p.at
	mu.Unlock()
	if !fire {
		return
	}
	switch p.action {
	case actionExit:
		fmt.Fprintf(os.Stderr, "failpoint: %s: exit on hit %d\n", name, p.at)
		os.Exit(ExitCode)
	case actionPanic:
		panic(fmt.Sprintf("failpoint: %s: panic on hit %d", name, p.at))
	}
}

func load() {
	spec := os.Getenv(EnvVar)
	if spec == "" {
		return
	}
	ps, err := parse(spec)
	if err != nil {
		fmt.Fprintf(os.Stderr, "failpoint: ignoring %s: %v\n", EnvVar, err)
		return
	}
	points = ps
}
