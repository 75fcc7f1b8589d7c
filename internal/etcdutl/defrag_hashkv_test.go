package etcdutl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etcdgo/etcd/internal/backend"
	"github.com/etcdgo/etcd/internal/mvcc"
)

// copyRef copies the official snapshot into a temporary file: hashing
// opens the file for writing, as etcdutl's does.
func copyRef(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(refSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ref.db")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHashKVMatchesOfficialOutput(t *testing.T) {
	db := copyRef(t)
	for _, w := range []string{"simple", "json", "table", "fields"} {
		t.Run(w, func(t *testing.T) {
			out, errOut, code := run(t, "hashkv", db, "-w", w)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if want := golden(t, "hashkv-"+w+".golden"); out != want {
				t.Errorf("output:\n%s\nwant (official etcdutl):\n%s", out, want)
			}
		})
	}
}

func TestHashKVErrorsMatchOfficial(t *testing.T) {
	db := copyRef(t)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"hashkv", db, "--rev", "500"}, ExitError, "Error: mvcc: required revision is a future revision\n"},
		{[]string{"hashkv", filepath.Join(t.TempDir(), "nope.db")}, ExitError, "no such file or directory\n"},
		{[]string{"hashkv", db, "-w", "protobuf"}, ExitBadFeature, "Error: protobuf not supported as output format\n"},
		{[]string{"defrag", "--data-dir", "nope"}, ExitError, "Error: Failed to defragment etcd data[nope] (stat nope/member/snap/db: no such file or directory)\n"},
		{[]string{"defrag"}, ExitError, "Error: required flag(s) \"data-dir\" not set\n"},
	} {
		out, errOut, code := run(t, tc.args...)
		if code != tc.code || !strings.HasSuffix(errOut, tc.stderr) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d, stderr ending %q", tc.args, code, out, errOut, tc.code, tc.stderr)
		}
	}
}

func TestHashKVAndDefragHelpMatchOfficial(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		golden string
	}{
		{[]string{"hashkv", "--help"}, "hashkv-help.golden"},
		{[]string{"defrag", "--help"}, "defrag-help.golden"},
	} {
		out, errOut, code := run(t, tc.args...)
		if code != 0 || errOut != "" {
			t.Fatalf("%v: exit %d, stderr %q", tc.args, code, errOut)
		}
		if want := golden(t, tc.golden); out != want {
			t.Errorf("%v:\n%s\nwant:\n%s", tc.args, out, want)
		}
	}
}

// fragmentedDataDir writes a data dir whose db holds many large values
// that were overwritten and compacted away, and returns it with the live
// store's HashKV at the current revision.
func fragmentedDataDir(t *testing.T) (dir string, cur mvcc.KeyValueHash) {
	t.Helper()
	dir = t.TempDir()
	path := backendPath(dir)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	lg := slog.New(slog.DiscardHandler)
	be, err := backend.New(backend.Config{Path: path, Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	st := mvcc.NewStore(lg, be, mvcc.StoreConfig{})
	big := bytes.Repeat([]byte("x"), 16<<10)
	for round := range 4 {
		for i := range 100 {
			st.Put([]byte(fmt.Sprintf("key-%03d", i)), append(big, byte(round)), 0)
		}
	}
	st.Put([]byte("small"), []byte("v"), 0)
	done, err := st.Compact(st.Rev() - 1)
	if err != nil {
		t.Fatal(err)
	}
	<-done
	if cur, err = st.HashByRev(0); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, cur
}

func hashKVJSON(t *testing.T, args ...string) HashKV {
	t.Helper()
	out, errOut, code := run(t, append([]string{"hashkv", "-w", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("hashkv %v: exit %d: %s", args, code, errOut)
	}
	var h HashKV
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("hashkv output %q: %v", out, err)
	}
	return h
}

func TestDefragShrinksDataDirAndKeepsHash(t *testing.T) {
	dir, want := fragmentedDataDir(t)
	db := backendPath(dir)
	before := hashKVJSON(t, db)
	if before.Hash != want.Hash || before.HashRevision != want.Revision || before.CompactRevision != want.CompactRevision {
		t.Fatalf("hashkv of the file %+v, the live store had %+v", before, want)
	}
	if before.CompactRevision <= 0 {
		t.Fatalf("compact revision %d: the file should be compacted", before.CompactRevision)
	}
	fi, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "defrag", "--data-dir", dir)
	if code != 0 || out != "" {
		t.Fatalf("defrag: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, msg := range []string{"\tinfo\tdefragmenting\t", "\tinfo\tfinished defragmenting directory\t", `"current-db-size-bytes-diff": -`} {
		if !strings.Contains(errOut, msg) {
			t.Errorf("defrag log lacks %q:\n%s", msg, errOut)
		}
	}
	fi2, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	if fi2.Size() >= fi.Size() {
		t.Errorf("defrag left the db at %d bytes (was %d)", fi2.Size(), fi.Size())
	}
	if after := hashKVJSON(t, db); after != before {
		t.Errorf("hashkv after defrag %+v, before %+v", after, before)
	}
	// --rev hashes an older revision; the compacted one is the oldest.
	at := hashKVJSON(t, db, "--rev", fmt.Sprint(before.CompactRevision))
	if at.HashRevision != before.CompactRevision || at.Hash == before.Hash {
		t.Errorf("hashkv --rev %d = %+v (latest %+v)", before.CompactRevision, at, before)
	}
	_, errOut, code = run(t, "hashkv", db, "--rev", fmt.Sprint(before.CompactRevision-1))
	if code != ExitError || errOut != "Error: mvcc: required revision has been compacted\n" {
		t.Errorf("hashkv below the compaction: exit %d, %q", code, errOut)
	}
}

func TestHashKVTakesTheFileLock(t *testing.T) {
	dir, _ := fragmentedDataDir(t)
	db := backendPath(dir)
	be, err := backend.New(backend.Config{Path: db, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	// A member holds the file: etcdutl gives up after --timeout.
	_, errOut, code := run(t, "hashkv", db, "--timeout", "100ms")
	if code != ExitError || !strings.Contains(errOut, "timeout") {
		t.Errorf("hashkv of a locked file: exit %d, %q", code, errOut)
	}
	_, errOut, code = run(t, "defrag", "--data-dir", dir, "--timeout", "100ms")
	if code != ExitError || !strings.Contains(errOut, "timeout") {
		t.Errorf("defrag of a locked file: exit %d, %q", code, errOut)
	}
}
