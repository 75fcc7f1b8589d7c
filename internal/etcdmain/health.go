package etcdmain

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/status"
)

// healthServer is what the health endpoints need of a member.
type healthServer interface {
	Leader() uint64
	Range(ctx context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error)
	IsLearner() bool
}

// alarmLister is a member that keeps alarms. The endpoints take the alarms
// into account as soon as the server has the method.
type alarmLister interface {
	Alarms() []*pb.AlarmMember
}

// healthRecorder counts health checks for the metrics (*metrics.Etcd).
type healthRecorder interface {
	HealthServed(healthy bool)
	CheckRan(typ, name string, ok bool)
}

// healthCheck is one named check of /livez or /readyz.
type healthCheck struct {
	name string
	run  func(ctx context.Context) error
}

// health serves /health, /livez and /readyz as etcd 3.6 and later do.
type health struct {
	lg      *slog.Logger
	srv     healthServer
	rec     healthRecorder
	timeout time.Duration // bounds each read a check makes
}

// install mounts /health, /livez, /readyz and their per-check paths.
func (h *health) install(mux *http.ServeMux) {
	mux.HandleFunc("/health", h.serveHealth)
	h.installChecks(mux, "livez", []healthCheck{
		{"serializable_read", h.readCheck(true)},
	})
	h.installChecks(mux, "readyz", []healthCheck{
		{"data_corruption", h.alarmCheck(pb.AlarmType_CORRUPT)},
		// serializable_read: the local store answers; linearizable_read:
		// the cluster has a quorum. Both together locate a failure.
		{"serializable_read", h.readCheck(true)},
		{"linearizable_read", h.readCheck(false)},
		{"non_learner", h.learnerCheck},
	})
}

func (h *health) alarms() []*pb.AlarmMember {
	if al, ok := h.srv.(alarmLister); ok {
		return al.Alarms()
	}
	return nil
}

// serveHealth answers /health: {"health":"true","reason":""} with 200, or
// the first problem with 503. ?exclude=ALARM ignores an alarm type and
// ?serializable=true asks whether this member serves local reads, with or
// without a leader.
func (h *health) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	excluded := querySet(r, "exclude")
	serializable := r.URL.Query().Get("serializable") == "true"
	reason := h.healthReason(r.Context(), excluded, serializable)
	if h.rec != nil {
		h.rec.HealthServed(reason == "")
	}
	healthy := "true"
	if reason != "" {
		healthy = "false"
	}
	d, _ := json.Marshal(struct {
		Health string `json:"health"`
		Reason string `json:"reason"`
	}{healthy, reason})
	if reason != "" {
		http.Error(w, string(d), http.StatusServiceUnavailable)
		h.lg.Warn("/health error", "output", string(d), "status-code", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
	w.Write(d)
}

// healthReason returns why the member is unhealthy, "" when it is not.
func (h *health) healthReason(ctx context.Context, excluded map[string]bool, serializable bool) string {
	for _, a := range h.alarms() {
		if excluded[a.GetAlarm().String()] {
			continue
		}
		switch a.GetAlarm() {
		case pb.AlarmType_NOSPACE:
			return "ALARM NOSPACE"
		case pb.AlarmType_CORRUPT:
			return "ALARM CORRUPT"
		default:
			return "ALARM UNKNOWN"
		}
	}
	if !serializable && h.srv.Leader() == 0 {
		return "RAFT NO LEADER"
	}
	if err := h.read(ctx, serializable); err != nil {
		return "RANGE ERROR:" + err.Error()
	}
	return ""
}

// read makes the read etcd's checks make: one key, keys only.
func (h *health) read(ctx context.Context, serializable bool) error {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	_, err := h.srv.Range(ctx, &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, KeysOnly: true, Limit: 1, Serializable: serializable})
	if err != nil {
		if st, ok := status.FromError(err); ok {
			return fmt.Errorf("%s", st.Message())
		}
		return err
	}
	return nil
}

func (h *health) readCheck(serializable bool) func(context.Context) error {
	return func(ctx context.Context) error { return h.read(ctx, serializable) }
}

func (h *health) alarmCheck(at pb.AlarmType) func(context.Context) error {
	return func(context.Context) error {
		for _, a := range h.alarms() {
			if a.GetAlarm() == at {
				return fmt.Errorf("alarm activated: %s", at)
			}
		}
		return nil
	}
}

func (h *health) learnerCheck(context.Context) error {
	if h.srv.IsLearner() {
		return fmt.Errorf("not supported for learner")
	}
	return nil
}

// installChecks mounts /<typ> (every check but those in ?exclude=) and
// /<typ>/<check> (that check alone).
func (h *health) installChecks(mux *http.ServeMux, typ string, checks []healthCheck) {
	root := "/" + typ
	mux.HandleFunc(root, h.checkHandler(root, func(r *http.Request) []healthCheck {
		excluded := querySet(r, "exclude")
		var run []healthCheck
		for _, c := range checks {
			if excluded[c.name] {
				delete(excluded, c.name)
				continue
			}
			run = append(run, c)
		}
		if len(excluded) > 0 {
			var missing []string
			for n := range excluded {
				missing = append(missing, fmt.Sprintf("%q", n))
			}
			h.lg.Warn("some health checks cannot be excluded", "missing-health-checks", strings.Join(missing, ","))
		}
		return run
	}, typ))
	for _, c := range checks {
		path := root + "/" + c.name
		mux.HandleFunc(path, h.checkHandler(path, func(*http.Request) []healthCheck { return []healthCheck{c} }, typ))
	}
}

// checkHandler runs the checks pick selects: 200 "ok\n" (preceded by one
// line per check with ?verbose) when all pass, else 503 with every check's
// line.
func (h *health) checkHandler(path string, pick func(*http.Request) []healthCheck, typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		var out strings.Builder
		failed := false
		for _, c := range pick(r) {
			err := c.run(r.Context())
			if err != nil {
				fmt.Fprintf(&out, "[-]%s failed: %v\n", c.name, err)
				failed = true
			} else {
				fmt.Fprintf(&out, "[+]%s ok\n", c.name)
			}
			if h.rec != nil {
				h.rec.CheckRan(typ, c.name, err == nil)
			}
		}
		if failed {
			http.Error(w, out.String(), http.StatusServiceUnavailable)
			h.lg.Error("Health check error", "path", path, "reason", out.String(), "status-code", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if _, ok := r.URL.Query()["verbose"]; ok {
			fmt.Fprint(w, out.String())
		}
		fmt.Fprint(w, "ok\n")
	}
}

// querySet returns the non-empty values of a repeated query parameter.
func querySet(r *http.Request, key string) map[string]bool {
	set := map[string]bool{}
	for _, v := range r.URL.Query()[key] {
		if v != "" {
			set[v] = true
		}
	}
	return set
}
