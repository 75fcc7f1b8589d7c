package metrics

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// families are parsed metric families by name.
type families map[string]*dto.MetricFamily

// scrape serves /metrics of m with the request headers (name, value, ...)
// and returns the response's body, decompressed, and headers.
func scrape(t *testing.T, m *Metrics, headers ...string) (string, *httptest.ResponseRecorder) {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	var body io.Reader = rec.Body
	if rec.Header().Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatalf("/metrics: gzip: %v", err)
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("/metrics: read: %v", err)
	}
	return string(b), rec
}

// parse parses the text format, failing the test on a malformed one.
func parse(t *testing.T, text string) families {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, text)
	}
	return fams
}

// gather collects r's families.
func gather(t *testing.T, r prometheus.Gatherer) families {
	t.Helper()
	mfs, err := r.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := families{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// metric returns the metric of the family name with (at least) the labels
// (name, value, ...), or nil.
func (fs families) metric(name string, labels ...string) *dto.Metric {
	f := fs[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if v, ok := have[labels[i]]; !ok || v != labels[i+1] {
				continue next
			}
		}
		return m
	}
	return nil
}

// value returns the value of a counter, gauge or untyped metric.
func (fs families) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	m := fs.metric(name, labels...)
	switch {
	case m == nil:
		t.Fatalf("no %s %v", name, labels)
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	t.Fatalf("%s %v is neither a counter nor a gauge", name, labels)
	return 0
}

// histogram returns a histogram's count and its cumulative count at each
// upper bound.
func (fs families) histogram(t *testing.T, name string, labels ...string) (uint64, map[float64]uint64) {
	t.Helper()
	m := fs.metric(name, labels...)
	if m == nil || m.Histogram == nil {
		t.Fatalf("no histogram %s %v", name, labels)
	}
	h := m.GetHistogram()
	buckets := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		buckets[b.GetUpperBound()] = b.GetCumulativeCount() + uint64(b.GetCumulativeCountFloat())
	}
	return h.GetSampleCount() + uint64(h.GetSampleCountFloat()), buckets
}

type fakeMember struct{ lead uint64 }

func (f *fakeMember) ID() uint64                { return 0x8e9e05c52164694d }
func (f *fakeMember) Leader() uint64            { return f.lead }
func (f *fakeMember) LeaderChangesSeen() uint64 { return 2 }
func (f *fakeMember) CommittedIndex() uint64    { return 9 }
func (f *fakeMember) AppliedIndex() uint64      { return 8 }
func (f *fakeMember) ProposalsPending() int64   { return 1 }
func (f *fakeMember) ProposalsFailed() uint64   { return 3 }
func (f *fakeMember) DBSize() int64             { return 4096 }
func (f *fakeMember) DBSizeInUse() int64        { return 2048 }
func (f *fakeMember) KeysTotal() int64          { return 5 }
func (f *fakeMember) CurrentRevision() int64    { return 6 }
func (f *fakeMember) CompactRevision() int64    { return 2 }
func (f *fakeMember) QuotaBackendBytes() int64  { return 2 << 30 }
func (f *fakeMember) IsLearner() bool           { return false }

// etcdFamilies are etcd v3.7's types and help strings of the metrics this
// package shares with it.
var etcdFamilies = map[string]struct {
	typ  dto.MetricType
	help string
}{
	"etcd_server_has_leader":                    {dto.MetricType_GAUGE, "Whether or not a leader exists. 1 is existence, 0 is not."},
	"etcd_server_is_leader":                     {dto.MetricType_GAUGE, "Whether or not this member is a leader. 1 if is, 0 otherwise."},
	"etcd_server_is_learner":                    {dto.MetricType_GAUGE, "Whether or not this member is a learner. 1 if is, 0 otherwise."},
	"etcd_server_leader_changes_seen_total":     {dto.MetricType_COUNTER, "The number of leader changes seen."},
	"etcd_server_proposals_committed_total":     {dto.MetricType_GAUGE, "The total number of consensus proposals committed."},
	"etcd_server_proposals_applied_total":       {dto.MetricType_GAUGE, "The total number of consensus proposals applied."},
	"etcd_server_proposals_pending":             {dto.MetricType_GAUGE, "The current number of pending proposals to commit."},
	"etcd_server_proposals_failed_total":        {dto.MetricType_COUNTER, "The total number of failed proposals seen."},
	"etcd_server_quota_backend_bytes":           {dto.MetricType_GAUGE, "Current backend storage quota size in bytes."},
	"etcd_server_id":                            {dto.MetricType_GAUGE, "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID."},
	"etcd_server_version":                       {dto.MetricType_GAUGE, "Which version is running. 1 for 'server_version' label with current version."},
	"etcd_server_go_version":                    {dto.MetricType_GAUGE, "Which Go version server is running with. 1 for 'server_go_version' label with current version."},
	"etcd_cluster_version":                      {dto.MetricType_GAUGE, "Which version is running. 1 for 'cluster_version' label with current cluster version"},
	"etcd_server_health_success":                {dto.MetricType_COUNTER, "The total number of successful health checks"},
	"etcd_server_health_failures":               {dto.MetricType_COUNTER, "The total number of failed health checks"},
	"etcd_server_healthcheck":                   {dto.MetricType_GAUGE, "The result of each kind of healthcheck."},
	"etcd_server_healthchecks_total":            {dto.MetricType_COUNTER, "The total number of each kind of healthcheck."},
	"etcd_disk_wal_fsync_duration_seconds":      {dto.MetricType_HISTOGRAM, "The latency distributions of fsync called by WAL."},
	"etcd_disk_backend_commit_duration_seconds": {dto.MetricType_HISTOGRAM, "The latency distributions of commit called by backend."},
	"etcd_mvcc_db_total_size_in_bytes":          {dto.MetricType_GAUGE, "Total size of the underlying database physically allocated in bytes."},
	"etcd_mvcc_db_total_size_in_use_in_bytes":   {dto.MetricType_GAUGE, "Total size of the underlying database logically in use in bytes."},
	"etcd_debugging_mvcc_keys_total":            {dto.MetricType_GAUGE, "Total number of keys."},
	"etcd_debugging_mvcc_current_revision":      {dto.MetricType_GAUGE, "The current revision of store."},
	"etcd_debugging_mvcc_compact_revision":      {dto.MetricType_GAUGE, "The revision of the last compaction in store."},
	"etcd_network_peer_sent_bytes_total":        {dto.MetricType_COUNTER, "The total number of bytes sent to peers."},
	"etcd_network_peer_received_bytes_total":    {dto.MetricType_COUNTER, "The total number of bytes received from peers."},
	"etcd_network_peer_round_trip_time_seconds": {dto.MetricType_HISTOGRAM, "Round-Trip-Time histogram between peers"},
}

func TestEtcdMetrics(t *testing.T) {
	m := New(false)
	mem := &fakeMember{lead: 0x8e9e05c52164694d}
	m.RegisterMember(mem)
	m.Etcd.ObserveWALFsync(3 * time.Millisecond)
	m.Etcd.ObserveBackendCommit(20 * time.Millisecond)
	m.Etcd.PeerSent(0xabc, 100)
	m.Etcd.PeerSent(0xabc, 50)
	m.Etcd.PeerReceived(0xabc, 70)
	m.Etcd.ObservePeerRTT(0xabc, 300*time.Microsecond)
	m.Etcd.HealthServed(true)
	m.Etcd.CheckRan("readyz", "linearizable_read", false)
	text, rec := scrape(t, m)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want the text format 0.0.4", ct)
	}
	fs := parse(t, text)

	for name, want := range etcdFamilies {
		f := fs[name]
		if f == nil {
			t.Errorf("/metrics lacks %s", name)
			continue
		}
		if f.GetType() != want.typ || f.GetHelp() != want.help {
			t.Errorf("%s: %v %q, want %v %q", name, f.GetType(), f.GetHelp(), want.typ, want.help)
		}
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"etcd_server_has_leader", nil, 1},
		{"etcd_server_is_leader", nil, 1},
		{"etcd_server_is_learner", nil, 0},
		{"etcd_server_leader_changes_seen_total", nil, 2},
		{"etcd_server_proposals_committed_total", nil, 9},
		{"etcd_server_proposals_applied_total", nil, 8},
		{"etcd_server_proposals_pending", nil, 1},
		{"etcd_server_proposals_failed_total", nil, 3},
		{"etcd_server_quota_backend_bytes", nil, 2 << 30},
		{"etcd_server_id", []string{"server_id", "8e9e05c52164694d"}, 1},
		{"etcd_server_go_version", []string{"server_go_version", runtime.Version()}, 1},
		{"etcd_cluster_version", []string{"cluster_version", ClusterVersion()}, 1},
		{"etcd_mvcc_db_total_size_in_bytes", nil, 4096},
		{"etcd_mvcc_db_total_size_in_use_in_bytes", nil, 2048},
		{"etcd_debugging_mvcc_keys_total", nil, 5},
		{"etcd_debugging_mvcc_current_revision", nil, 6},
		{"etcd_debugging_mvcc_compact_revision", nil, 2},
		{"etcd_network_peer_sent_bytes_total", []string{"To", "abc"}, 150},
		{"etcd_network_peer_received_bytes_total", []string{"From", "abc"}, 70},
		{"etcd_server_health_success", nil, 1},
		{"etcd_server_health_failures", nil, 0},
		{"etcd_server_healthcheck", []string{"type", "readyz", "name", "linearizable_read"}, 0},
		{"etcd_server_healthchecks_total", []string{"type", "readyz", "name", "linearizable_read", "status", "error"}, 1},
	} {
		if got := fs.value(t, c.name, c.labels...); got != c.want {
			t.Errorf("%s %v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if ClusterVersion() != "3.7.0" {
		t.Errorf("ClusterVersion() = %q, want 3.7.0 (api/v3 v3.7.x)", ClusterVersion())
	}

	// etcd's buckets: 1ms .. 8.192s for the disk, 0.1ms .. 3.2768s for the
	// round trips (and +Inf), each observation in the first bucket at or
	// above it.
	count, b := fs.histogram(t, "etcd_disk_wal_fsync_duration_seconds")
	if count != 1 || len(b) != 14+1 || b[0.002] != 0 || b[0.004] != 1 || b[8.192] != 1 {
		t.Errorf("etcd_disk_wal_fsync_duration_seconds: count %d buckets %v", count, b)
	}
	count, b = fs.histogram(t, "etcd_disk_backend_commit_duration_seconds")
	if count != 1 || len(b) != 14+1 || b[0.016] != 0 || b[0.032] != 1 {
		t.Errorf("etcd_disk_backend_commit_duration_seconds: count %d buckets %v", count, b)
	}
	count, b = fs.histogram(t, "etcd_network_peer_round_trip_time_seconds", "To", "abc")
	if count != 1 || len(b) != 16+1 || b[0.0002] != 0 || b[0.0004] != 1 || b[3.2768] != 1 {
		t.Errorf("etcd_network_peer_round_trip_time_seconds: count %d buckets %v", count, b)
	}

	// The Go runtime and the process.
	for name, typ := range map[string]dto.MetricType{
		"go_goroutines":           dto.MetricType_GAUGE,
		"go_gc_duration_seconds":  dto.MetricType_SUMMARY,
		"go_info":                 dto.MetricType_GAUGE,
		"go_memstats_alloc_bytes": dto.MetricType_GAUGE,
	} {
		if f := fs[name]; f == nil || f.GetType() != typ {
			t.Errorf("/metrics: %s is %v, want a %v", name, f, typ)
		}
	}
	if runtime.GOOS == "linux" {
		if v := fs.value(t, "process_resident_memory_bytes"); v <= 0 {
			t.Errorf("process_resident_memory_bytes = %v", v)
		}
		if v := fs.value(t, "process_open_fds"); v <= 0 {
			t.Errorf("process_open_fds = %v", v)
		}
	}
	if fs["grpc_server_handling_seconds"] != nil {
		t.Error("basic metrics include grpc_server_handling_seconds")
	}

	mem.lead = 0
	text, _ = scrape(t, m)
	fs = parse(t, text)
	if fs.value(t, "etcd_server_has_leader") != 0 || fs.value(t, "etcd_server_is_leader") != 0 {
		t.Error("without a leader, etcd_server_has_leader or etcd_server_is_leader is not 0")
	}
}

func TestHandlerNegotiation(t *testing.T) {
	m := New(false)
	m.RegisterMember(&fakeMember{})

	text, rec := scrape(t, m, "Accept-Encoding", "gzip")
	if ce := rec.Header().Get("Content-Encoding"); ce != "gzip" {
		t.Errorf("Accept-Encoding gzip: Content-Encoding %q", ce)
	}
	if v := parse(t, text).value(t, "etcd_mvcc_db_total_size_in_bytes"); v != 4096 {
		t.Errorf("gzipped scrape: etcd_mvcc_db_total_size_in_bytes = %v", v)
	}

	// As etcd, no OpenMetrics: a scraper that prefers it still gets the
	// text format, where etcd_server_health_success keeps its name.
	text, rec = scrape(t, m, "Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want the text format 0.0.4", ct)
	}
	fs := parse(t, text)
	if fs["etcd_server_health_success"] == nil {
		t.Error("etcd_server_health_success renamed")
	}
	// The scrapes are counted, as by etcd's promhttp.Handler.
	if v := fs.value(t, "promhttp_metric_handler_requests_total", "code", "200"); v != 1 {
		t.Errorf("promhttp_metric_handler_requests_total{code=200} = %v during the second scrape, want 1", v)
	}
}

func TestRegisterMemberTwicePanics(t *testing.T) {
	m := New(false)
	m.RegisterMember(&fakeMember{})
	defer func() {
		if recover() == nil {
			t.Error("a second RegisterMember did not panic")
		}
	}()
	m.RegisterMember(&fakeMember{})
}

// fakeStream is a grpc.ServerStream that receives n messages, then EOF.
type fakeStream struct {
	grpc.ServerStream
	n int
}

func (s *fakeStream) Context() context.Context { return context.Background() }
func (s *fakeStream) SendMsg(any) error        { return nil }
func (s *fakeStream) RecvMsg(any) error {
	if s.n == 0 {
		return io.EOF
	}
	s.n--
	return nil
}

func TestGRPCInterceptors(t *testing.T) {
	g := NewGRPC(true)
	g.InitializeMetrics(map[string]grpc.ServiceInfo{
		"etcdserverpb.KV":    {Methods: []grpc.MethodInfo{{Name: "Range"}}},
		"etcdserverpb.Watch": {Methods: []grpc.MethodInfo{{Name: "Watch", IsClientStream: true, IsServerStream: true}}},
	})
	unary := g.UnaryServerInterceptor()
	ok := func(context.Context, any) (any, error) { return "resp", nil }
	fail := func(context.Context, any) (any, error) { return nil, status.Error(codes.Unavailable, "no leader") }
	info := &grpc.UnaryServerInfo{FullMethod: "/etcdserverpb.KV/Range"}
	for range 2 {
		if _, err := unary(context.Background(), "req", info, ok); err != nil {
			t.Fatal(err)
		}
	}
	unary(context.Background(), "req", info, fail)
	cancelled := func(context.Context, any) (any, error) { return nil, context.Canceled }
	unary(context.Background(), "req", info, cancelled)

	stream := g.StreamServerInterceptor()
	sinfo := &grpc.StreamServerInfo{FullMethod: "/etcdserverpb.Watch/Watch", IsClientStream: true, IsServerStream: true}
	err := stream(nil, &fakeStream{n: 3}, sinfo, func(srv any, ss grpc.ServerStream) error {
		for {
			if err := ss.RecvMsg(nil); err != nil {
				break
			}
			ss.SendMsg(nil)
		}
		return errors.New("plain error")
	})
	if err == nil {
		t.Fatal("stream error lost")
	}

	r := prometheus.NewRegistry()
	r.MustRegister(g)
	fs := gather(t, r)
	rng := []string{"grpc_type", "unary", "grpc_service", "etcdserverpb.KV", "grpc_method", "Range"}
	watch := []string{"grpc_type", "bidi_stream", "grpc_service", "etcdserverpb.Watch", "grpc_method", "Watch"}
	with := func(base []string, more ...string) []string { return append(append([]string(nil), base...), more...) }
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"grpc_server_started_total", rng, 4},
		{"grpc_server_handled_total", with(rng, "grpc_code", "OK"), 2},
		{"grpc_server_handled_total", with(rng, "grpc_code", "Unavailable"), 1},
		{"grpc_server_handled_total", with(rng, "grpc_code", "Canceled"), 1},
		{"grpc_server_handled_total", with(rng, "grpc_code", "DataLoss"), 0}, // pre-registered
		{"grpc_server_msg_received_total", rng, 4},
		{"grpc_server_msg_sent_total", rng, 4},
		{"grpc_server_started_total", watch, 1},
		{"grpc_server_msg_received_total", watch, 4}, // three messages and the EOF
		{"grpc_server_msg_sent_total", watch, 3},
		{"grpc_server_handled_total", with(watch, "grpc_code", "Unknown"), 1},
		{"grpc_server_handled_total", with(watch, "grpc_code", "OK"), 0},
	} {
		if got := fs.value(t, c.name, c.labels...); got != c.want {
			t.Errorf("%s %v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := len(fs["grpc_server_handled_total"].GetMetric()); n != 2*len(allCodes) {
		t.Errorf("grpc_server_handled_total has %d series, want %d (two methods, every code)", n, 2*len(allCodes))
	}
	count, b := fs.histogram(t, "grpc_server_handling_seconds", rng...)
	if count != 4 || len(b) != len(prometheus.DefBuckets) || b[10] != 4 {
		t.Errorf("grpc_server_handling_seconds of Range: count %d buckets %v", count, b)
	}
	if f := fs["grpc_server_handled_total"]; f.GetHelp() != "Total number of RPCs completed on the server, regardless of success or failure." {
		t.Errorf("grpc_server_handled_total help %q", f.GetHelp())
	}
	basic := NewGRPC(false)
	basic.InitializeMetrics(map[string]grpc.ServiceInfo{"etcdserverpb.KV": {Methods: []grpc.MethodInfo{{Name: "Range"}}}})
	if n := len(gather(t, registryOf(basic))); n != 4 {
		t.Errorf("basic gRPC metrics: %d families, want 4 (no grpc_server_handling_seconds)", n)
	}
}

// registryOf returns a registry of the collector alone.
func registryOf(c prometheus.Collector) *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(c)
	return r
}
