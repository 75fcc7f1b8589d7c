package backend

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReplace installs another db file: new views read its contents,
// uncommitted writes of the old one are gone, a view opened before keeps
// reading the old contents, afterSwap sees the new contents before any
// commit, and the backend survives a reopen on the new file.
func TestReplace(t *testing.T) {
	dir := t.TempDir()
	b := newTestBackend(t, Config{Path: filepath.Join(dir, "db")})
	put(b, "a", "old")
	b.ForceCommit()
	put(b, "pending", "x") // never committed

	other := newTestBackend(t, Config{Path: filepath.Join(dir, "other")})
	put(other, "b", "new")
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}

	before := b.ReadTx()
	var seen map[string]string
	if err := b.Replace(filepath.Join(dir, "other"), func(tx UnsafeReader) { seen = dump(t, tx) }); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"b": "new"}; len(seen) != 1 || seen["b"] != "new" {
		t.Fatalf("afterSwap saw %v, want %v", seen, want)
	}
	if got := dump(t, before); got["a"] != "old" || got["pending"] != "x" {
		t.Fatalf("the view opened before the swap reads %v", got)
	}
	before.Release()
	rt := b.ReadTx()
	got := dump(t, rt)
	rt.Release()
	if len(got) != 1 || got["b"] != "new" {
		t.Fatalf("after Replace the backend holds %v, want only b=new", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "other")); !os.IsNotExist(err) {
		t.Fatalf("the replacing file is still at its old path: %v", err)
	}
	put(b, "c", "after")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := newTestBackend(t, Config{Path: filepath.Join(dir, "db")})
	rt = b2.ReadTx()
	got = dump(t, rt)
	rt.Release()
	if len(got) != 2 || got["b"] != "new" || got["c"] != "after" {
		t.Fatalf("reopened backend holds %v", got)
	}
	b2.Close()
}

// TestReplaceRefusesBadFile keeps the old contents when the file is not a
// bolt db.
func TestReplaceRefusesBadFile(t *testing.T) {
	dir := t.TempDir()
	b := newTestBackend(t, Config{Path: filepath.Join(dir, "db")})
	defer b.Close()
	put(b, "a", "old")
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("not a bolt file, not at all, definitely not"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.Replace(bad, nil); err == nil {
		t.Fatal("Replace accepted a file that is not a bolt db")
	}
	rt := b.ReadTx()
	defer rt.Release()
	if v, ok := get(rt, "a"); !ok || v != "old" {
		t.Fatalf("after a refused Replace: a=%q,%v", v, ok)
	}
}
