package robustness

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/etcdgo/etcd/tests/framework"
)

var (
	flagSeed      = flag.Uint64("robustness.seed", 0, "seed of the run; 0 picks a random one")
	flagScenarios = flag.Int("robustness.scenarios", 3, "number of scenarios to run")
	flagDuration  = flag.Duration("robustness.duration", 10*time.Second, "traffic time of each scenario")
	flagRate      = flag.Int("robustness.rate", 0, "total client operations per second; 0 derives it from the seed")
	flagArtifacts = flag.String("robustness.artifacts", "", "directory for the folders of failed scenarios (default: the temp dir)")
	flagPorcupine = flag.Duration("robustness.porcupine-timeout", time.Minute, "bound of the linearizability check")
)

func TestMain(m *testing.M) { os.Exit(framework.Main(m)) }

// TestRobustness runs the scenarios derived from the seed; see
// docs/robustness.md.
func TestRobustness(t *testing.T) {
	seed := *flagSeed
	if seed == 0 {
		seed = rand.Uint64() % 1_000_000_000
	}
	replay := fmt.Sprintf("cd tests && go test -count=1 -run 'TestRobustness' ./robustness -args -robustness.seed=%d -robustness.scenarios=%d -robustness.duration=%s",
		seed, *flagScenarios, *flagDuration)
	if *flagRate > 0 {
		replay += fmt.Sprintf(" -robustness.rate=%d", *flagRate)
	}
	t.Logf("robustness seed %d (replay: %s)", seed, replay)
	rc := runConfig{Duration: *flagDuration, PorcupineTimeout: *flagPorcupine, ArtifactsDir: *flagArtifacts, Replay: replay}
	for _, sc := range makeScenarios(seed, *flagScenarios, *flagRate) {
		t.Run(sc.Name, func(t *testing.T) {
			runScenario(t, sc, rc)
		})
	}
}
