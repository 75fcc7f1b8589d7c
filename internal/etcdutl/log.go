package etcdutl

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// consoleHandler is a slog.Handler writing lines shaped like etcdutl's zap
// console encoder:
//
//	2026-11-25T11:28:36Z	info	restoring snapshot	{"path": "x.db", "data-dir": "d"}
//
// (zap also prints the caller; this handler does not.)
type consoleHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	attrs []slog.Attr
}

func newConsoleLogger(w io.Writer) *slog.Logger {
	return slog.New(&consoleHandler{mu: new(sync.Mutex), w: w})
}

func (h *consoleHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *consoleHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	ts := r.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	b.WriteString(ts.UTC().Format(time.RFC3339))
	b.WriteString("\t" + strings.ToLower(r.Level.String()) + "\t" + r.Message)
	attrs := append([]slog.Attr(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	if len(attrs) > 0 {
		b.WriteString("\t{")
		for i, a := range attrs {
			if i > 0 {
				b.WriteString(", ")
			}
			k, _ := json.Marshal(a.Key)
			v, err := json.Marshal(a.Value.Resolve().Any())
			if err != nil {
				v, _ = json.Marshal(a.Value.String())
			}
			b.Write(k)
			b.WriteString(": ")
			b.Write(v)
		}
		b.WriteString("}")
	}
	b.WriteString("\n")
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *consoleHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &consoleHandler{mu: h.mu, w: h.w, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

// WithGroup is not needed by the restore logger; groups are flattened.
func (h *consoleHandler) WithGroup(string) slog.Handler { return h }
