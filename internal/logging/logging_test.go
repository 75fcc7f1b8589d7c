package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	var buf bytes.Buffer
	lg := NewWithWriter(slog.LevelInfo, &buf)
	lg.Debug("hidden")
	lg.Info("hello", "member", "abc", "n", 3)
	lg.Warn("careful")
	lg.Log(context.Background(), LevelFatal, "boom")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines: %q", len(lines), buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	if m["level"] != "info" || m["msg"] != "hello" || m["member"] != "abc" || m["n"] != float64(3) {
		t.Errorf("fields = %v", m)
	}
	for _, k := range []string{"time", "source"} {
		if _, ok := m[k]; ok {
			t.Errorf("unexpected key %q", k)
		}
	}
	ts, _ := m["ts"].(string)
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`).MatchString(ts) {
		t.Errorf("ts = %q", ts)
	}
	if when, err := time.Parse(time.RFC3339Nano, ts); err != nil || time.Since(when) > time.Minute || time.Since(when) < -time.Minute {
		t.Errorf("ts %q not now: %v", ts, err)
	}
	if c, _ := m["caller"].(string); !regexp.MustCompile(`^logging/logging_test\.go:\d+$`).MatchString(c) {
		t.Errorf("caller = %q", c)
	}
	if !strings.Contains(lines[1], `"level":"warn"`) || !strings.Contains(lines[2], `"level":"fatal"`) {
		t.Errorf("levels: %q", lines[1:])
	}
}

func TestLevels(t *testing.T) {
	for _, tc := range []struct {
		name string
		want slog.Level
	}{{"debug", slog.LevelDebug}, {"info", slog.LevelInfo}, {"warn", slog.LevelWarn}, {"error", slog.LevelError},
		{"dpanic", LevelDPanic}, {"panic", LevelPanic}, {"fatal", LevelFatal}} {
		got, err := ParseLevel(tc.name)
		if err != nil || got != tc.want || levelName(got) != tc.name {
			t.Errorf("%s: %v %v %s", tc.name, got, err, levelName(got))
		}
	}
	if _, err := New("loud", nil); err == nil {
		t.Error("New accepted an unknown level")
	}
}

func TestFileOutputs(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	lg, err := New("warn", []string{a, b, a})
	if err != nil {
		t.Fatal(err)
	}
	lg.Info("dropped")
	lg.Error("kept", "err", "x")
	for _, p := range []string{a, b} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(data), "\n"); n != 1 || !strings.Contains(string(data), `"msg":"kept"`) || !strings.Contains(string(data), `"level":"error"`) {
			t.Errorf("%s: %q", p, data)
		}
	}
	if _, err := New("info", []string{filepath.Join(dir, "missing", "x.log")}); err == nil {
		t.Error("New accepted an unopenable file")
	}
	if _, err := New("info", []string{"stderr", "stdout", "default", "/dev/null"}); err != nil {
		t.Error(err)
	}
}

func TestCaller(t *testing.T) {
	for in, want := range map[string]string{
		"/a/b/etcdmain/main.go": "etcdmain/main.go:7",
		"main.go":               "main.go:7",
		"/main.go":              "main.go:7",
	} {
		if got := Caller(in, 7); got != want {
			t.Errorf("Caller(%q) = %q, want %q", in, got, want)
		}
	}
}
