package failpoint

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

func TestParse(t *testing.T) {
	ps, err := parse(" raftAfterSave=exit@40, beforeCommit=panic ,")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if len(ps) != 2 {
		t.Fatalf("parse: %d points, want 2", len(ps))
	}
	if p := ps["raftAfterSave"]; p == nil || p.action != actionExit || p.at != 40 {
		t.Errorf("raftAfterSave = %+v, want exit at 40", p)
	}
	if p := ps["beforeCommit"]; p == nil || p.action != actionPanic || p.at != 1 {
		t.Errorf("beforeCommit = %+v, want panic at 1", p)
	}
	for _, bad := range []string{"x", "=exit", "x=sleep", "x=exit@0", "x=exit@y", "x=exit,x=panic"} {
		if _, err := parse(bad); err == nil {
			t.Errorf("parse(%q) accepted a bad spec", bad)
		}
	}
}

// TestHitInSubprocess runs this test binary again with a point armed for the
// third hit: built with the failpoints tag the child must exit with ExitCode
// after exactly two passing hits; without it the child must not exit.
func TestHitInSubprocess(t *testing.T) {
	if os.Getenv("FAILPOINT_TEST_CHILD") == "1" {
		for i := 1; i <= 5; i++ {
			Hit("other")
			Hit("p")
			os.Stdout.WriteString(strconv.Itoa(i) + "\n")
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHitInSubprocess$")
	cmd.Env = append(os.Environ(), "FAILPOINT_TEST_CHILD=1", EnvVar+"=p=exit@3")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if Enabled {
		if !errors.As(err, &ee) || ee.ExitCode() != ExitCode {
			t.Fatalf("child: err %v, want exit status %d; output %q", err, ExitCode, out)
		}
		if string(out) != "1\n2\n" {
			t.Fatalf("child printed %q before exiting, want two passing hits", out)
		}
		return
	}
	if err != nil {
		t.Fatalf("child without the failpoints tag: %v; output %q", err, out)
	}
}

func BenchmarkHitDisarmed(b *testing.B) {
	for range b.N {
		Hit("raftBeforeSave")
	}
}
