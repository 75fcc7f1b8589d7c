package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type %q, want %q", ct, ContentType)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestTextFormat(t *testing.T) {
	r := NewRegistry()
	c := NewCounter("b_total", "A counter\\with \"quotes\"\nand a newline.")
	c.Add(3)
	v := NewCounterVec("a_total", "Labelled.", "To", "code")
	v.With("2", `x"y\z`).Inc()
	v.With("10", "OK").Add(2.5)
	g := NewGauge("c", "A gauge.")
	g.Set(-1.5)
	h := NewHistogram("d_seconds", "A histogram.", []float64{0.1, 1})
	h.Observe(0.1) // on the bound: counts in le="0.1"
	h.Observe(0.5)
	h.Observe(7)
	r.Register(c, v, g, h, NewGaugeFunc("e", "A func.", func() float64 { return 1e6 }))
	want := `# HELP a_total Labelled.
# TYPE a_total counter
a_total{To="10",code="OK"} 2.5
a_total{To="2",code="x\"y\\z"} 1
# HELP b_total A counter\\with "quotes"\nand a newline.
# TYPE b_total counter
b_total 3
# HELP c A gauge.
# TYPE c gauge
c -1.5
# HELP d_seconds A histogram.
# TYPE d_seconds histogram
d_seconds_bucket{le="0.1"} 1
d_seconds_bucket{le="1"} 2
d_seconds_bucket{le="+Inf"} 3
d_seconds_sum 7.6
d_seconds_count 3
# HELP e A func.
# TYPE e gauge
e 1e+06
`
	if got := scrape(t, r); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestDuplicateNameIsAnError(t *testing.T) {
	r := NewRegistry()
	r.Register(NewCounter("x", "one"), NewGauge("x", "two"))
	if _, err := r.Gather(); err == nil {
		t.Fatal("Gather accepted two families named x")
	}
}

func TestCounterRejectsDecrease(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Add(-1) did not panic")
		}
	}()
	NewCounter("x", "x").Add(-1)
}

func TestExponentialBuckets(t *testing.T) {
	b := ExponentialBuckets(0.001, 2, 14)
	if len(b) != 14 || b[0] != 0.001 || b[13] != 8.192 {
		t.Errorf("ExponentialBuckets(0.001, 2, 14) = %v", b)
	}
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
	out := scrape(t, m.Registry)
	for _, line := range []string{
		"# TYPE etcd_server_has_leader gauge",
		"etcd_server_has_leader 1",
		"etcd_server_is_leader 1",
		"# TYPE etcd_server_leader_changes_seen_total counter",
		"etcd_server_leader_changes_seen_total 2",
		"# TYPE etcd_server_proposals_committed_total gauge",
		"etcd_server_proposals_committed_total 9",
		"etcd_server_proposals_applied_total 8",
		"etcd_server_proposals_pending 1",
		"etcd_server_proposals_failed_total 3",
		`etcd_server_id{server_id="8e9e05c52164694d"} 1`,
		`etcd_cluster_version{cluster_version="3.7.0"} 1`,
		"etcd_mvcc_db_total_size_in_bytes 4096",
		"etcd_mvcc_db_total_size_in_use_in_bytes 2048",
		"etcd_debugging_mvcc_keys_total 5",
		"etcd_server_quota_backend_bytes 2.147483648e+09",
		`etcd_disk_wal_fsync_duration_seconds_bucket{le="0.002"} 0`,
		`etcd_disk_wal_fsync_duration_seconds_bucket{le="0.004"} 1`,
		"etcd_disk_wal_fsync_duration_seconds_count 1",
		`etcd_disk_backend_commit_duration_seconds_bucket{le="0.032"} 1`,
		`etcd_network_peer_sent_bytes_total{To="abc"} 150`,
		`etcd_network_peer_received_bytes_total{From="abc"} 70`,
		`etcd_network_peer_round_trip_time_seconds_bucket{To="abc",le="0.0004"} 1`,
		"etcd_server_health_success 1",
		"etcd_server_health_failures 0",
		`etcd_server_healthcheck{name="linearizable_read",type="readyz"} 0`,
		`etcd_server_healthchecks_total{name="linearizable_read",status="error",type="readyz"} 1`,
		"# TYPE go_goroutines gauge",
		"# TYPE go_gc_duration_seconds summary",
		`go_gc_duration_seconds{quantile="0.5"}`,
	} {
		if !strings.Contains(out, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	if strings.Contains(out, "grpc_server_handling_seconds") {
		t.Error("basic metrics include grpc_server_handling_seconds")
	}
	mem.lead = 0
	out = scrape(t, m.Registry)
	for _, line := range []string{"etcd_server_has_leader 0", "etcd_server_is_leader 0"} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("without a leader, /metrics lacks %q", line)
		}
	}
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

	r := NewRegistry()
	r.Register(g)
	out := scrape(t, r)
	for _, line := range []string{
		`grpc_server_started_total{grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 4`,
		`grpc_server_handled_total{grpc_code="OK",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 2`,
		`grpc_server_handled_total{grpc_code="Unavailable",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 1`,
		`grpc_server_handled_total{grpc_code="Canceled",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 1`,
		`grpc_server_handled_total{grpc_code="DataLoss",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 0`,
		`grpc_server_msg_received_total{grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 4`,
		`grpc_server_msg_sent_total{grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 4`,
		`grpc_server_started_total{grpc_method="Watch",grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"} 1`,
		// three messages and the EOF
		`grpc_server_msg_received_total{grpc_method="Watch",grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"} 4`,
		`grpc_server_msg_sent_total{grpc_method="Watch",grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"} 3`,
		`grpc_server_handled_total{grpc_code="Unknown",grpc_method="Watch",grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"} 1`,
		`grpc_server_handling_seconds_count{grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 4`,
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}
