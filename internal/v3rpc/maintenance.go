package v3rpc

import (
	"context"
	"crypto/sha256"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

type maintenanceServer struct {
	pb.UnimplementedMaintenanceServer
	m Member
}

func (s *maintenanceServer) Status(ctx context.Context, r *pb.StatusRequest) (*pb.StatusResponse, error) {
	resp, err := s.m.Status(ctx)
	return resp, toGRPCError(err)
}

func (s *maintenanceServer) HashKV(ctx context.Context, r *pb.HashKVRequest) (*pb.HashKVResponse, error) {
	resp, err := s.m.HashKV(ctx, r.GetRevision())
	return resp, toGRPCError(err)
}

// alarmer is a member that keeps alarms (server.Server).
type alarmer interface {
	Alarm(ctx context.Context, r *pb.AlarmRequest) (*pb.AlarmResponse, error)
}

// Alarm lists, raises or clears alarms (NOSPACE, CORRUPT) through the
// member, which does it through raft.
func (s *maintenanceServer) Alarm(ctx context.Context, r *pb.AlarmRequest) (*pb.AlarmResponse, error) {
	a, ok := s.m.(alarmer)
	if !ok {
		return s.UnimplementedMaintenanceServer.Alarm(ctx, r)
	}
	resp, err := a.Alarm(ctx, r)
	if err != nil {
		return nil, toGRPCError(err)
	}
	return resp, nil
}

func (s *maintenanceServer) MoveLeader(ctx context.Context, r *pb.MoveLeaderRequest) (*pb.MoveLeaderResponse, error) {
	resp, err := s.m.MoveLeader(ctx, r.GetTargetID())
	return resp, toGRPCError(err)
}

func (s *maintenanceServer) Defragment(ctx context.Context, r *pb.DefragmentRequest) (*pb.DefragmentResponse, error) {
	if err := s.m.Backend().Defrag(); err != nil {
		return nil, toGRPCError(err)
	}
	return &pb.DefragmentResponse{Header: s.m.Header()}, nil
}

// snapshotChunk is how many bytes of the database go in one message.
const snapshotChunk = 32 * 1024

// Snapshot streams the backend as etcd does: the bbolt file in chunks, each
// saying how many bytes remain, then one message with the file's SHA-256 so
// the client can verify what it saved.
func (s *maintenanceServer) Snapshot(r *pb.SnapshotRequest, srv pb.Maintenance_SnapshotServer) error {
	ver := s.m.StorageVersion()
	snap := s.m.Backend().Snapshot()
	pr, pw := io.Pipe()
	defer pr.Close()
	go func() {
		_, err := snap.WriteTo(pw)
		pw.CloseWithError(err)
		snap.Close()
	}()
	h := sha256.New()
	total := snap.Size()
	var sent int64
	for sent < total {
		// A fresh buffer per message: gRPC may hold on to a sent message.
		buf := make([]byte, snapshotChunk)
		n, err := io.ReadFull(pr, buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return toGRPCError(err)
		}
		if n == 0 {
			break
		}
		sent += int64(n)
		h.Write(buf[:n])
		if err := srv.Send(&pb.SnapshotResponse{RemainingBytes: uint64(total - sent), Blob: buf[:n], Version: ver}); err != nil {
			return toGRPCError(err)
		}
	}
	return srv.Send(&pb.SnapshotResponse{RemainingBytes: 0, Blob: h.Sum(nil), Version: ver})
}
