package server_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdgo/etcd/internal/server/servertest"
)

// TestReadsAfterStop: once a member has stopped, reads that reach it (a
// client handler still running, a peer's hash request) answer etcd's
// "server stopped" error instead of touching the closed store.
func TestReadsAfterStop(t *testing.T) {
	dir := t.TempDir()
	cfg := servertest.Config(t, "m0", filepath.Join(dir, "data"), "http://127.0.0.1:0")
	s := servertest.Start(t, cfg)
	ctx := context.Background()
	if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte("k"), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if _, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("k"), Serializable: true}); !errors.Is(err, rpctypes.ErrGRPCStopped) {
		t.Errorf("Range after Stop: %v, want %v", err, rpctypes.ErrGRPCStopped)
	}
	if _, err := s.Txn(ctx, &pb.TxnRequest{Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("k"), Serializable: true}}}}}); !errors.Is(err, rpctypes.ErrGRPCStopped) {
		t.Errorf("read-only Txn after Stop: %v, want %v", err, rpctypes.ErrGRPCStopped)
	}
	if _, err := s.HashKV(ctx, 0); !errors.Is(err, rpctypes.ErrGRPCStopped) {
		t.Errorf("HashKV after Stop: %v, want %v", err, rpctypes.ErrGRPCStopped)
	}
	if st, err := s.Status(ctx); err != nil || st.StorageVersion == "" {
		t.Errorf("Status after Stop: %v, %v", st, err)
	}
}
