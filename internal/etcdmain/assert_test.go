package etcdmain_test

import (
	"errors"
	"slices"
	"testing"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// keysOf returns the keys of kvs in order.
func keysOf(kvs []*mvccpb.KeyValue) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = string(kv.Key)
	}
	return out
}

func wantKeys(t *testing.T, what string, kvs []*mvccpb.KeyValue, want ...string) {
	t.Helper()
	if got := keysOf(kvs); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("%s: keys %q, want %q", what, got, want)
	}
}

// wantClientErr checks an error returned by the clientv3 API: the client maps
// etcd's messages to rpctypes errors, so this checks the message.
func wantClientErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %q", what, want)
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

// wantStatus checks an error returned by a raw gRPC stub: its code and
// message, as etcd's rpctypes.ErrGRPC* errors carry them.
func wantStatus(t *testing.T, what string, err, want error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", what, want)
		return
	}
	ws, _ := status.FromError(want)
	gs, ok := status.FromError(err)
	if !ok {
		t.Errorf("%s: error %v is not a gRPC status, want %v", what, err, want)
		return
	}
	if gs.Code() != ws.Code() || gs.Message() != ws.Message() {
		t.Errorf("%s: got code %v %q, want code %v %q", what, gs.Code(), gs.Message(), ws.Code(), ws.Message())
	}
}

// wantCode checks only the gRPC code of an error.
func wantCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want code %v", what, want)
		return
	}
	var ee rpctypes.EtcdError
	code := status.Code(err)
	if errors.As(err, &ee) {
		code = ee.Code()
	}
	if code != want {
		t.Errorf("%s: error %v has code %v, want %v", what, err, code, want)
	}
}
