package wal

import (
	"path/filepath"
	"testing"
	"time"
)

func TestSyncObserverSeesEveryFsync(t *testing.T) {
	w := mustCreate(t, filepath.Join(t.TempDir(), "wal"), []byte("md"))
	defer w.Close()
	var got []time.Duration
	w.SetSyncObserver(func(d time.Duration) { got = append(got, d) })
	mustSave(t, w, hardState(1, 1, 0), entries(1, 3, 1, 10))
	mustSave(t, w, hardState(1, 1, 3), nil) // a commit index alone needs no sync
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("observer saw %d fsyncs, want 2 (one Save with entries, one Sync)", len(got))
	}
	w.SetSyncObserver(nil)
	mustSave(t, w, hardState(1, 1, 3), entries(4, 4, 1, 10))
	if len(got) != 2 {
		t.Errorf("observer called after it was removed")
	}

	w.SetUnsafeNoFsync()
	w.SetSyncObserver(func(d time.Duration) { got = append(got, d) })
	mustSave(t, w, hardState(1, 1, 4), entries(5, 5, 1, 10))
	if len(got) != 2 {
		t.Errorf("observer called with --unsafe-no-fsync, when nothing was synced")
	}
}
