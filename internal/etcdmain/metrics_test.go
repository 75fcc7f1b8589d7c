package etcdmain_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sample is one parsed line of the text exposition format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseMetrics parses the text format (0.0.4) into samples and the TYPE of
// each family; it fails the test on a malformed line.
func parseMetrics(t *testing.T, text string) ([]sample, map[string]string) {
	t.Helper()
	var out []sample
	types := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(f, " ")
			types[name] = typ
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s := sample{labels: map[string]string{}}
		rest := line
		if i := strings.IndexByte(line, '{'); i >= 0 {
			s.name = line[:i]
			j := strings.LastIndexByte(line, '}')
			if j < i {
				t.Fatalf("malformed line %q", line)
			}
			for _, kv := range splitLabels(line[i+1 : j]) {
				k, v, ok := strings.Cut(kv, "=")
				uq, err := strconv.Unquote(v)
				if !ok || err != nil {
					t.Fatalf("malformed label %q in %q", kv, line)
				}
				s.labels[k] = uq
			}
			rest = strings.TrimSpace(line[j+1:])
		} else {
			s.name, rest, _ = strings.Cut(line, " ")
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			t.Fatalf("malformed value in %q: %v", line, err)
		}
		s.value = v
		out = append(out, s)
	}
	return out, types
}

// splitLabels splits `a="x",b="y,z"` at the commas outside quotes.
func splitLabels(s string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// metricValue returns the value of the sample with the name and (at least)
// the labels, and whether there is one.
func metricValue(samples []sample, name string, labels ...string) (float64, bool) {
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if s.labels[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return s.value, true
	}
	return 0, false
}

func httpGet(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	c := &http.Client{Timeout: callTimeout}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func scrapeMetrics(t *testing.T, base string) ([]sample, map[string]string) {
	t.Helper()
	code, h, body := httpGet(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET %s/metrics: %d %s", base, code, body)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("GET %s/metrics: Content-Type %q", base, ct)
	}
	return parseMetrics(t, body)
}

func mustMetric(t *testing.T, samples []sample, name string, labels ...string) float64 {
	t.Helper()
	v, ok := metricValue(samples, name, labels...)
	if !ok {
		t.Fatalf("/metrics has no %s %v", name, labels)
	}
	return v
}

func TestMetricsScrapedAndParsed(t *testing.T) {
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	m := startMember(t, "--listen-metrics-urls", metricsURL, "--metrics", "extensive")

	before, types := scrapeMetrics(t, m.clientURL)
	for name, typ := range map[string]string{
		"etcd_server_has_leader":                    "gauge",
		"etcd_server_is_leader":                     "gauge",
		"etcd_server_leader_changes_seen_total":     "counter",
		"etcd_server_proposals_committed_total":     "gauge",
		"etcd_server_proposals_applied_total":       "gauge",
		"etcd_server_proposals_pending":             "gauge",
		"etcd_server_proposals_failed_total":        "counter",
		"etcd_server_id":                            "gauge",
		"etcd_server_version":                       "gauge",
		"etcd_cluster_version":                      "gauge",
		"etcd_disk_wal_fsync_duration_seconds":      "histogram",
		"etcd_disk_backend_commit_duration_seconds": "histogram",
		"etcd_mvcc_db_total_size_in_bytes":          "gauge",
		"etcd_mvcc_db_total_size_in_use_in_bytes":   "gauge",
		"etcd_debugging_mvcc_keys_total":            "gauge",
		"grpc_server_started_total":                 "counter",
		"grpc_server_handled_total":                 "counter",
		"grpc_server_msg_received_total":            "counter",
		"grpc_server_msg_sent_total":                "counter",
		"grpc_server_handling_seconds":              "histogram",
		"go_goroutines":                             "gauge",
		"process_resident_memory_bytes":             "gauge",
	} {
		if types[name] != typ {
			t.Errorf("%s has type %q, want %q", name, types[name], typ)
		}
	}
	if v := mustMetric(t, before, "etcd_server_has_leader"); v != 1 {
		t.Errorf("etcd_server_has_leader = %v, want 1", v)
	}
	if v := mustMetric(t, before, "etcd_server_is_leader"); v != 1 {
		t.Errorf("etcd_server_is_leader = %v, want 1 (single member)", v)
	}
	if v := mustMetric(t, before, "etcd_server_leader_changes_seen_total"); v < 1 {
		t.Errorf("etcd_server_leader_changes_seen_total = %v, want >= 1", v)
	}
	st := mustStatus(t, m)
	if v := mustMetric(t, before, "etcd_server_id", "server_id", strconv.FormatUint(st.Header.MemberId, 16)); v != 1 {
		t.Errorf("etcd_server_id = %v, want 1", v)
	}
	// Pre-registered at zero, as etcd's gRPC metrics are.
	if _, ok := metricValue(before, "grpc_server_handled_total", "grpc_service", "etcdserverpb.Watch", "grpc_method", "Watch", "grpc_type", "bidi_stream", "grpc_code", "DataLoss"); !ok {
		t.Error("grpc_server_handled_total of Watch/DataLoss is not pre-registered")
	}
	committed0 := mustMetric(t, before, "etcd_server_proposals_committed_total")
	rangeOK0, _ := metricValue(before, "grpc_server_handled_total", "grpc_method", "Range", "grpc_code", "OK", "grpc_type", "unary", "grpc_service", "etcdserverpb.KV")

	const puts = 5
	for i := range puts {
		if _, err := m.cli.Put(m.ctx(), fmt.Sprintf("k%d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.cli.Get(m.ctx(), "k0"); err != nil {
		t.Fatal(err)
	}

	// The backend commits in the background (every 100ms by default).
	deadline := time.Now().Add(startTimeout)
	var after []sample
	for {
		after, _ = scrapeMetrics(t, m.clientURL)
		if v, _ := metricValue(after, "etcd_disk_backend_commit_duration_seconds_count"); v > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v := mustMetric(t, after, "etcd_server_proposals_committed_total"); v < committed0+puts {
		t.Errorf("etcd_server_proposals_committed_total went from %v to %v after %d puts", committed0, v, puts)
	}
	if c, a := mustMetric(t, after, "etcd_server_proposals_committed_total"), mustMetric(t, after, "etcd_server_proposals_applied_total"); a > c || a < committed0+puts {
		t.Errorf("etcd_server_proposals_applied_total = %v (committed %v, before %v)", a, c, committed0)
	}
	if v := mustMetric(t, after, "etcd_server_proposals_pending"); v != 0 {
		t.Errorf("etcd_server_proposals_pending = %v with nothing in flight", v)
	}
	if v := mustMetric(t, after, "etcd_disk_wal_fsync_duration_seconds_count"); v < 1 {
		t.Errorf("etcd_disk_wal_fsync_duration_seconds_count = %v, want > 0", v)
	}
	if v := mustMetric(t, after, "etcd_disk_wal_fsync_duration_seconds_bucket", "le", "+Inf"); v != mustMetric(t, after, "etcd_disk_wal_fsync_duration_seconds_count") {
		t.Errorf("the +Inf bucket (%v) differs from the count", v)
	}
	if v := mustMetric(t, after, "etcd_disk_backend_commit_duration_seconds_count"); v < 1 {
		t.Errorf("etcd_disk_backend_commit_duration_seconds_count = %v, want > 0", v)
	}
	if v := mustMetric(t, after, "etcd_debugging_mvcc_keys_total"); v != puts {
		t.Errorf("etcd_debugging_mvcc_keys_total = %v, want %d", v, puts)
	}
	if v := mustMetric(t, after, "etcd_mvcc_db_total_size_in_bytes"); v <= 0 {
		t.Errorf("etcd_mvcc_db_total_size_in_bytes = %v", v)
	}
	if v := mustMetric(t, after, "etcd_mvcc_db_total_size_in_use_in_bytes"); v <= 0 || v > mustMetric(t, after, "etcd_mvcc_db_total_size_in_bytes") {
		t.Errorf("etcd_mvcc_db_total_size_in_use_in_bytes = %v", v)
	}
	if v := mustMetric(t, after, "grpc_server_handled_total", "grpc_method", "Range", "grpc_code", "OK", "grpc_type", "unary", "grpc_service", "etcdserverpb.KV"); v < rangeOK0+1 {
		t.Errorf("grpc_server_handled_total{Range,OK} went from %v to %v after a Get", rangeOK0, v)
	}
	if v := mustMetric(t, after, "grpc_server_handled_total", "grpc_method", "Put", "grpc_code", "OK"); v < puts {
		t.Errorf("grpc_server_handled_total{Put,OK} = %v, want >= %d", v, puts)
	}
	if v := mustMetric(t, after, "grpc_server_handling_seconds_count", "grpc_method", "Put"); v < puts {
		t.Errorf("grpc_server_handling_seconds_count{Put} = %v with --metrics=extensive", v)
	}

	// --listen-metrics-urls serves /metrics and the health endpoints.
	ms, _ := scrapeMetrics(t, metricsURL)
	if v := mustMetric(t, ms, "etcd_server_has_leader"); v != 1 {
		t.Errorf("metrics URL: etcd_server_has_leader = %v", v)
	}
	if code, _, body := httpGet(t, metricsURL+"/health"); code != http.StatusOK || body != `{"health":"true","reason":""}` {
		t.Errorf("metrics URL /health: %d %q", code, body)
	}
	if code, _, _ := httpGet(t, metricsURL+"/v2/keys/foo"); code != http.StatusNotFound {
		t.Errorf("metrics URL serves more than metrics and health: /v2/keys answered %d", code)
	}
}

func TestHealthLivezReadyz(t *testing.T) {
	m := startMember(t)
	for _, c := range []struct {
		path, body string
	}{
		{"/health", `{"health":"true","reason":""}`},
		{"/health?serializable=true", `{"health":"true","reason":""}`},
		{"/livez", "ok\n"},
		{"/livez?verbose", "[+]serializable_read ok\nok\n"},
		{"/livez/serializable_read", "ok\n"},
		{"/readyz", "ok\n"},
		{"/readyz?verbose", "[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\n[+]non_learner ok\nok\n"},
		{"/readyz?verbose&exclude=linearizable_read&exclude=non_learner", "[+]data_corruption ok\n[+]serializable_read ok\nok\n"},
		{"/readyz?exclude=no_such_check", "ok\n"},
		{"/readyz/linearizable_read?verbose", "[+]linearizable_read ok\nok\n"},
	} {
		code, _, body := httpGet(t, m.clientURL+c.path)
		if code != http.StatusOK || body != c.body {
			t.Errorf("GET %s: %d %q, want 200 %q", c.path, code, body, c.body)
		}
	}
	resp, err := http.Post(m.clientURL+"/readyz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /readyz: %d, want 405", resp.StatusCode)
	}
	// The checks are counted in the metrics.
	s, _ := scrapeMetrics(t, m.clientURL)
	if v := mustMetric(t, s, "etcd_server_healthchecks_total", "type", "readyz", "name", "linearizable_read", "status", "success"); v < 3 {
		t.Errorf("etcd_server_healthchecks_total{readyz,linearizable_read,success} = %v, want >= 3", v)
	}
	if v := mustMetric(t, s, "etcd_server_health_success"); v < 2 {
		t.Errorf("etcd_server_health_success = %v, want >= 2", v)
	}
}

func TestHealthUnhealthyWithoutQuorum(t *testing.T) {
	ms := startCluster(t, 3)
	lead := leaderOf(t, ms)
	// The metrics of a cluster: peers exchange bytes and round trips.
	deadline := time.Now().Add(convergeTimeout)
	for {
		s, types := scrapeMetrics(t, ms[lead].clientURL)
		sent, _ := metricValue(s, "etcd_network_peer_sent_bytes_total")
		recv, _ := metricValue(s, "etcd_network_peer_received_bytes_total")
		rtt, _ := metricValue(s, "etcd_network_peer_round_trip_time_seconds_count")
		if sent > 0 && recv > 0 && rtt > 0 {
			// A single member has none of these families (no peers).
			for name, typ := range map[string]string{
				"etcd_network_peer_round_trip_time_seconds": "histogram",
				"etcd_network_peer_sent_bytes_total":        "counter",
				"etcd_network_peer_received_bytes_total":    "counter",
			} {
				if types[name] != typ {
					t.Errorf("%s has type %q, want %q", name, types[name], typ)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("leader's peer metrics after %v: sent %v received %v rtt count %v", convergeTimeout, sent, recv, rtt)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Keep one follower, stop the two others: no quorum.
	keep := (lead + 1) % len(ms)
	for i, m := range ms {
		if i != keep {
			m.stop()
		}
	}
	m := ms[keep]
	deadline = time.Now().Add(convergeTimeout)
	for {
		// On the way a read may fail while the old leader is still known
		// ("RANGE ERROR:..."); once the election timeout has passed there
		// is no leader.
		code, _, body := httpGet(t, m.clientURL+"/health")
		if code == http.StatusServiceUnavailable && body == `{"health":"false","reason":"RAFT NO LEADER"}`+"\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health: %d %q %v after quorum was lost, want 503 RAFT NO LEADER", code, body, convergeTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, _, body := httpGet(t, m.clientURL+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "[-]linearizable_read failed: ") || !strings.Contains(body, "[+]serializable_read ok\n") {
		t.Errorf("/readyz without quorum: %d %q", code, body)
	}
	if code, _, body := httpGet(t, m.clientURL+"/livez"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/livez without quorum: %d %q, want 200 (the process serves local reads)", code, body)
	}
	if code, _, body := httpGet(t, m.clientURL+"/health?serializable=true"); code != http.StatusOK {
		t.Errorf("/health?serializable=true without quorum: %d %q, want 200", code, body)
	}
	s, _ := scrapeMetrics(t, m.clientURL)
	if v := mustMetric(t, s, "etcd_server_has_leader"); v != 0 {
		t.Errorf("etcd_server_has_leader = %v without quorum", v)
	}
	if v := mustMetric(t, s, "etcd_server_health_failures"); v < 1 {
		t.Errorf("etcd_server_health_failures = %v", v)
	}
}
