package wal

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// filePipeline prepares the next segment ahead of time: a locked,
// preallocated temp file ("0.tmp" or "1.tmp") waiting for the next cut, so a
// cut does not pay for the allocation. One file is prepared at a time.
type filePipeline struct {
	lg    *slog.Logger
	dir   string
	size  int64
	count int

	filec chan *os.File
	errc  chan error
	donec chan struct{}
}

func newFilePipeline(lg *slog.Logger, dir string, size int64) *filePipeline {
	fp := &filePipeline{
		lg:    lg,
		dir:   dir,
		size:  size,
		filec: make(chan *os.File),
		errc:  make(chan error, 1),
		donec: make(chan struct{}),
	}
	go fp.run()
	return fp
}

// Open returns a fresh, locked, preallocated temp file. The caller must
// rename it before calling Open again.
func (fp *filePipeline) Open() (*os.File, error) {
	select {
	case f := <-fp.filec:
		return f, nil
	case err, ok := <-fp.errc:
		if !ok {
			return nil, fmt.Errorf("wal: file pipeline closed")
		}
		return nil, err
	}
}

// Close stops the pipeline and removes the file it had prepared.
func (fp *filePipeline) Close() error {
	close(fp.donec)
	return <-fp.errc
}

func (fp *filePipeline) alloc() (*os.File, error) {
	// Alternate names so the new file never collides with the one just handed out.
	p := filepath.Join(fp.dir, fmt.Sprintf("%d.tmp", fp.count%2))
	f, err := lockFile(p, os.O_CREATE|os.O_RDWR, false)
	if err != nil {
		return nil, err
	}
	// A leftover from an interrupted cut may hold old frames; start clean.
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, err
	}
	if err := preallocate(f, fp.size); err != nil {
		fp.lg.Error("failed to preallocate a new WAL segment", "path", p, "size", fp.size, "error", err)
		f.Close()
		return nil, err
	}
	fp.count++
	return f, nil
}

func (fp *filePipeline) run() {
	defer close(fp.errc)
	for {
		f, err := fp.alloc()
		if err != nil {
			fp.errc <- err
			return
		}
		select {
		case fp.filec <- f:
		case <-fp.donec:
			os.Remove(f.Name())
			f.Close()
			return
		}
	}
}
