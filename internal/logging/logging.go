// Package logging builds the server's structured logger: JSON lines shaped
// like etcd's zap output,
//
//	{"ts":"2026-11-25T10:00:00.000000Z","level":"info","caller":"etcdmain/main.go:42","msg":"...",...fields}
//
// with ts in UTC RFC 3339 with microseconds, level in lower case, and caller
// as "dir/file.go:line". (slog's JSON handler writes ts before level; zap
// writes level first. Consumers must not depend on key order.)
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Levels above error, as etcd's zap levels (accepted by --log-level).
const (
	LevelDPanic = slog.LevelError + 1
	LevelPanic  = slog.LevelError + 2
	LevelFatal  = slog.LevelError + 3
)

// TimeFormat is the layout of the "ts" field (always UTC).
const TimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// ParseLevel converts an etcd log level name to a slog level.
func ParseLevel(level string) (slog.Level, error) {
	switch strings.ToLower(level) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	case "dpanic":
		return LevelDPanic, nil
	case "panic":
		return LevelPanic, nil
	case "fatal":
		return LevelFatal, nil
	}
	return 0, fmt.Errorf("unknown log level %q", level)
}

// levelName is the lower-case name of l as etcd prints it.
func levelName(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	case l < LevelDPanic:
		return "error"
	case l < LevelPanic:
		return "dpanic"
	case l < LevelFatal:
		return "panic"
	}
	return "fatal"
}

// New returns a JSON logger at level writing to outputs: "stderr", "stdout"
// ("default" is stderr, "/dev/null" discards) or file paths (opened for
// appending, created 0600 if missing, kept open for the life of the
// process). No outputs means stderr.
func New(level string, outputs []string) (*slog.Logger, error) {
	lvl, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	w, err := openOutputs(outputs)
	if err != nil {
		return nil, err
	}
	return NewWithWriter(lvl, w), nil
}

// NewWithWriter returns a JSON logger at level writing to w.
func NewWithWriter(level slog.Leveler, w io.Writer) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		AddSource:   true,
		Level:       level,
		ReplaceAttr: replaceAttr,
	})
	return slog.New(h)
}

func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) != 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		if a.Value.Kind() != slog.KindTime {
			return a
		}
		return slog.String("ts", a.Value.Time().UTC().Format(TimeFormat))
	case slog.LevelKey:
		l, ok := a.Value.Any().(slog.Level)
		if !ok {
			return a
		}
		return slog.String("level", levelName(l))
	case slog.SourceKey:
		src, ok := a.Value.Any().(*slog.Source)
		if !ok || src == nil {
			return a
		}
		return slog.String("caller", Caller(src.File, src.Line))
	}
	return a
}

// Caller formats a source position as zap's short caller: "dir/file.go:line".
func Caller(file string, line int) string {
	dir, base := filepath.Split(file)
	short := base
	if d := filepath.Base(filepath.Clean(dir)); dir != "" && d != "." && d != string(filepath.Separator) {
		short = d + "/" + base
	}
	return short + ":" + strconv.Itoa(line)
}

func openOutputs(outputs []string) (io.Writer, error) {
	if len(outputs) == 0 {
		return os.Stderr, nil
	}
	var ws []io.Writer
	seen := map[string]bool{}
	for _, o := range outputs {
		if seen[o] {
			continue
		}
		seen[o] = true
		switch o {
		case "stderr", "default":
			ws = append(ws, os.Stderr)
		case "stdout":
			ws = append(ws, os.Stdout)
		case "/dev/null":
			ws = append(ws, io.Discard)
		case "":
			return nil, fmt.Errorf("empty log output")
		default:
			f, err := os.OpenFile(o, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err != nil {
				return nil, fmt.Errorf("opening log output: %w", err)
			}
			ws = append(ws, f)
		}
	}
	if len(ws) == 1 {
		return ws[0], nil
	}
	return io.MultiWriter(ws...), nil
}
