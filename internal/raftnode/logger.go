package raftnode

import (
	"context"
	"fmt"
	"log/slog"
	"os"
)

// Logger adapts slog to raft's Logger interface.
type Logger struct{ L *slog.Logger }

func (l Logger) log(level slog.Level, msg string) {
	l.L.Log(context.Background(), level, msg)
}

// Debug logs at debug level.
func (l Logger) Debug(v ...interface{}) { l.log(slog.LevelDebug, fmt.Sprint(v...)) }

// Debugf logs at debug level.
func (l Logger) Debugf(f string, v ...interface{}) { l.log(slog.LevelDebug, fmt.Sprintf(f, v...)) }

// Info logs at info level.
func (l Logger) Info(v ...interface{}) { l.log(slog.LevelInfo, fmt.Sprint(v...)) }

// Infof logs at info level.
func (l Logger) Infof(f string, v ...interface{}) { l.log(slog.LevelInfo, fmt.Sprintf(f, v...)) }

// Warning logs at warn level.
func (l Logger) Warning(v ...interface{}) { l.log(slog.LevelWarn, fmt.Sprint(v...)) }

// Warningf logs at warn level.
func (l Logger) Warningf(f string, v ...interface{}) { l.log(slog.LevelWarn, fmt.Sprintf(f, v...)) }

// Error logs at error level.
func (l Logger) Error(v ...interface{}) { l.log(slog.LevelError, fmt.Sprint(v...)) }

// Errorf logs at error level.
func (l Logger) Errorf(f string, v ...interface{}) { l.log(slog.LevelError, fmt.Sprintf(f, v...)) }

// Fatal logs and exits: raft calls it only on an unrecoverable state.
func (l Logger) Fatal(v ...interface{}) { l.log(slog.LevelError, fmt.Sprint(v...)); os.Exit(1) }

// Fatalf logs and exits: raft calls it only on an unrecoverable state.
func (l Logger) Fatalf(f string, v ...interface{}) {
	l.log(slog.LevelError, fmt.Sprintf(f, v...))
	os.Exit(1)
}

// Panic logs and panics, as raft expects.
func (l Logger) Panic(v ...interface{}) { s := fmt.Sprint(v...); l.log(slog.LevelError, s); panic(s) }

// Panicf logs and panics, as raft expects.
func (l Logger) Panicf(f string, v ...interface{}) {
	s := fmt.Sprintf(f, v...)
	l.log(slog.LevelError, s)
	panic(s)
}
