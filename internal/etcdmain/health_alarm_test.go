package etcdmain

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// fakeHealthServer is a member with a leader whose reads succeed.
type fakeHealthServer struct {
	lead    uint64
	learner bool
}

func (f *fakeHealthServer) Leader() uint64  { return f.lead }
func (f *fakeHealthServer) IsLearner() bool { return f.learner }
func (f *fakeHealthServer) Range(context.Context, *pb.RangeRequest) (*pb.RangeResponse, error) {
	return &pb.RangeResponse{}, nil
}

// fakeAlarmServer also keeps alarms.
type fakeAlarmServer struct {
	fakeHealthServer
	alarms []*pb.AlarmMember
}

func (f *fakeAlarmServer) Alarms() []*pb.AlarmMember { return f.alarms }

func serveHealthFor(srv healthServer) *httptest.Server {
	mux := http.NewServeMux()
	h := &health{lg: slog.New(slog.DiscardHandler), srv: srv, timeout: time.Second}
	h.install(mux)
	return httptest.NewServer(mux)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthAlarms(t *testing.T) {
	srv := &fakeAlarmServer{fakeHealthServer: fakeHealthServer{lead: 1}}
	ts := serveHealthFor(srv)
	defer ts.Close()
	if code, body := get(t, ts.URL+"/health"); code != 200 || body != `{"health":"true","reason":""}` {
		t.Errorf("no alarm: /health %d %q", code, body)
	}

	srv.alarms = []*pb.AlarmMember{{MemberID: 1, Alarm: pb.AlarmType_NOSPACE}}
	for _, c := range []struct {
		path string
		code int
		body string
	}{
		{"/health", 503, `{"health":"false","reason":"ALARM NOSPACE"}` + "\n"},
		{"/health?exclude=NOSPACE", 200, `{"health":"true","reason":""}`},
		// NOSPACE leaves the member ready: reads work.
		{"/readyz", 200, "ok\n"},
		{"/livez", 200, "ok\n"},
	} {
		if code, body := get(t, ts.URL+c.path); code != c.code || body != c.body {
			t.Errorf("NOSPACE: %s %d %q, want %d %q", c.path, code, body, c.code, c.body)
		}
	}

	srv.alarms = append(srv.alarms, &pb.AlarmMember{MemberID: 2, Alarm: pb.AlarmType_CORRUPT})
	for _, c := range []struct {
		path string
		code int
		body string
	}{
		{"/health?exclude=NOSPACE", 503, `{"health":"false","reason":"ALARM CORRUPT"}` + "\n"},
		{"/readyz", 503, "[-]data_corruption failed: alarm activated: CORRUPT\n[+]serializable_read ok\n[+]linearizable_read ok\n[+]non_learner ok\n\n"},
		{"/readyz/data_corruption", 503, "[-]data_corruption failed: alarm activated: CORRUPT\n\n"},
		{"/readyz?exclude=data_corruption", 200, "ok\n"},
		{"/livez", 200, "ok\n"},
	} {
		if code, body := get(t, ts.URL+c.path); code != c.code || body != c.body {
			t.Errorf("CORRUPT: %s %d %q, want %d %q", c.path, code, body, c.code, c.body)
		}
	}
}

func TestHealthWithoutAlarmsMethodAndLearner(t *testing.T) {
	srv := &fakeHealthServer{lead: 0, learner: true}
	ts := serveHealthFor(srv)
	defer ts.Close()
	if code, body := get(t, ts.URL+"/health"); code != 503 || body != `{"health":"false","reason":"RAFT NO LEADER"}`+"\n" {
		t.Errorf("no leader: /health %d %q", code, body)
	}
	if code, body := get(t, ts.URL+"/readyz/non_learner"); code != 503 || body != "[-]non_learner failed: not supported for learner\n\n" {
		t.Errorf("learner: /readyz/non_learner %d %q", code, body)
	}
	srv.lead, srv.learner = 1, false
	if code, body := get(t, ts.URL+"/readyz?verbose"); code != 200 || body != "[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\n[+]non_learner ok\nok\n" {
		t.Errorf("/readyz?verbose %d %q", code, body)
	}
}
