package etcdmain

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
)

// pprofPrefix is where --enable-pprof serves Go's runtime profiles on the
// client URLs, as etcd does.
const pprofPrefix = "/debug/pprof/"

// installPprof serves the runtime profiles (CPU, heap, goroutines, ...) under
// pprofPrefix.
func installPprof(lg *slog.Logger, mux *http.ServeMux) {
	lg.Info("pprof is enabled", "path", pprofPrefix)
	mux.HandleFunc(pprofPrefix, pprof.Index)
	mux.HandleFunc(pprofPrefix+"cmdline", pprof.Cmdline)
	mux.HandleFunc(pprofPrefix+"profile", pprof.Profile)
	mux.HandleFunc(pprofPrefix+"symbol", pprof.Symbol)
	mux.HandleFunc(pprofPrefix+"trace", pprof.Trace)
}
