package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdgo/etcd/tests/framework"
)

// procfileLines reads a Procfile of the repository: process name to
// arguments (after the executable), shell words split with single quotes.
func procfileLines(t *testing.T, name string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#") || !strings.Contains(line, ": ") {
			continue
		}
		proc, cmd, _ := strings.Cut(line, ": ")
		var words []string
		var cur strings.Builder
		quoted := false
		for _, r := range cmd {
			switch {
			case r == '\'':
				quoted = !quoted
			case r == ' ' && !quoted:
				if cur.Len() > 0 {
					words = append(words, cur.String())
					cur.Reset()
				}
			default:
				cur.WriteRune(r)
			}
		}
		if cur.Len() > 0 {
			words = append(words, cur.String())
		}
		if len(words) == 0 || words[0] != "bin/etcd" {
			t.Fatalf("%s: %s does not run bin/etcd: %q", name, proc, line)
		}
		out[proc] = words[1:]
	}
	return out
}

// TestProcfiles runs the repository's Procfile (three members) and
// Procfile.learner (a fourth, as a learner) as written, with only the ports
// moved to free ones and a data dir added, then promotes the learner.
func TestProcfiles(t *testing.T) {
	bin := framework.EtcdBinary(t)
	ports := map[string]string{}
	for _, p := range []string{"2379", "22379", "32379", "42379", "12380", "22380", "32380", "42380"} {
		ports[p] = strconv.Itoa(framework.FreePort(t))
	}
	remap := func(args []string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			for from, to := range ports {
				a = strings.ReplaceAll(a, "127.0.0.1:"+from, "127.0.0.1:"+to)
			}
			out[i] = a
		}
		return out
	}
	dir := t.TempDir()
	start := func(name string, args []string) *framework.Process {
		args = append(remap(args), "--data-dir", filepath.Join(dir, name))
		return framework.NewProcess(t, framework.ProcessConfig{Name: name, Bin: bin, Args: args})
	}
	three := procfileLines(t, "Procfile")
	var procs []*framework.Process
	for _, name := range []string{"etcd1", "etcd2", "etcd3"} {
		args, ok := three[name]
		if !ok {
			t.Fatalf("Procfile has no %s", name)
		}
		p := start(name, args)
		if err := p.StartNoWait(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	for _, p := range procs {
		if err := p.WaitReady(30 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	cli := framework.NewClient(t, "http://127.0.0.1:"+ports["2379"], "http://127.0.0.1:"+ports["22379"], "http://127.0.0.1:"+ports["32379"])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cli.Put(ctx, "procfile", "three"); err != nil {
		t.Fatal(err)
	}
	add, err := cli.MemberAddAsLearner(ctx, []string{"http://127.0.0.1:" + ports["42380"]})
	if err != nil {
		t.Fatal(err)
	}
	learnerArgs, ok := procfileLines(t, "Procfile.learner")["etcd4"]
	if !ok {
		t.Fatal("Procfile.learner has no etcd4")
	}
	p4 := start("etcd4", learnerArgs)
	if err := p4.Start(); err != nil {
		t.Fatal(err)
	}
	c4 := framework.NewClient(t, "http://127.0.0.1:"+ports["42379"])
	for {
		resp, err := c4.Get(ctx, "procfile", clientv3.WithSerializable())
		if err == nil && len(resp.Kvs) == 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the learner did not catch up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		_, err := cli.MemberPromote(ctx, add.Member.ID)
		if err == nil {
			break
		}
		if !errors.Is(err, rpctypes.ErrMemberLearnerNotReady) || ctx.Err() != nil {
			t.Fatalf("promote infra4: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	list, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range list.Members {
		names = append(names, fmt.Sprintf("%s learner=%v", m.Name, m.IsLearner))
	}
	if got := strings.Join(names, ","); len(list.Members) != 4 || strings.Contains(got, "learner=true") || !strings.Contains(got, "infra4") {
		t.Fatalf("after promotion the members are %s", got)
	}
	if _, err := c4.Put(ctx, "procfile", "four"); err != nil {
		t.Fatalf("put on the promoted infra4: %v", err)
	}
}
