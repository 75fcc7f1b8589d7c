package metrics

import (
	"context"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The grpc_type label values.
const (
	grpcUnary        = "unary"
	grpcClientStream = "client_stream"
	grpcServerStream = "server_stream"
	grpcBidiStream   = "bidi_stream"
)

// allCodes are the codes each method's handled counter starts with.
var allCodes = []codes.Code{
	codes.OK, codes.Canceled, codes.Unknown, codes.InvalidArgument, codes.DeadlineExceeded, codes.NotFound,
	codes.AlreadyExists, codes.PermissionDenied, codes.Unauthenticated, codes.ResourceExhausted,
	codes.FailedPrecondition, codes.Aborted, codes.OutOfRange, codes.Unimplemented, codes.Internal,
	codes.Unavailable, codes.DataLoss,
}

// GRPC is the gRPC server metrics of go-grpc-middleware's prometheus
// provider (etcd's): calls started and handled, stream messages received and
// sent, and, with --metrics=extensive, the handling time histogram.
type GRPC struct {
	started, handled, received, sent *CounterVec
	handling                         *HistogramVec // nil unless extensive
}

// NewGRPC returns the gRPC server metrics; extensive adds
// grpc_server_handling_seconds.
func NewGRPC(extensive bool) *GRPC {
	m := &GRPC{
		started:  NewCounterVec("grpc_server_started_total", "Total number of RPCs started on the server.", "grpc_type", "grpc_service", "grpc_method"),
		handled:  NewCounterVec("grpc_server_handled_total", "Total number of RPCs completed on the server, regardless of success or failure.", "grpc_type", "grpc_service", "grpc_method", "grpc_code"),
		received: NewCounterVec("grpc_server_msg_received_total", "Total number of RPC stream messages received on the server.", "grpc_type", "grpc_service", "grpc_method"),
		sent:     NewCounterVec("grpc_server_msg_sent_total", "Total number of gRPC stream messages sent by the server.", "grpc_type", "grpc_service", "grpc_method"),
	}
	if extensive {
		m.handling = NewHistogramVec("grpc_server_handling_seconds",
			"Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
			DefBuckets, "grpc_type", "grpc_service", "grpc_method")
	}
	return m
}

// Collect implements Collector.
func (m *GRPC) Collect() []*Family {
	fams := append(m.started.Collect(), m.handled.Collect()...)
	fams = append(fams, m.received.Collect()...)
	fams = append(fams, m.sent.Collect()...)
	if m.handling != nil {
		fams = append(fams, m.handling.Collect()...)
	}
	return fams
}

// InitializeMetrics creates every method's series at zero (handled: with
// every code), as etcd does, so that they exist before the first call.
func (m *GRPC) InitializeMetrics(services map[string]grpc.ServiceInfo) {
	for svc, info := range services {
		for _, mi := range info.Methods {
			typ := methodType(mi.IsClientStream, mi.IsServerStream)
			m.started.With(typ, svc, mi.Name)
			m.received.With(typ, svc, mi.Name)
			m.sent.With(typ, svc, mi.Name)
			if m.handling != nil {
				m.handling.With(typ, svc, mi.Name)
			}
			for _, c := range allCodes {
				m.handled.With(typ, svc, mi.Name, c.String())
			}
		}
	}
}

// UnaryServerInterceptor counts a unary call: started, one message
// received, one sent, handled with its code.
func (m *GRPC) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		svc, method := splitMethod(info.FullMethod)
		m.started.With(grpcUnary, svc, method).Inc()
		m.received.With(grpcUnary, svc, method).Inc()
		resp, err := handler(ctx, req)
		m.sent.With(grpcUnary, svc, method).Inc()
		m.done(grpcUnary, svc, method, err, start)
		return resp, err
	}
}

// StreamServerInterceptor counts a streaming call: started, each message
// received and sent, handled with its code.
func (m *GRPC) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		svc, method := splitMethod(info.FullMethod)
		typ := methodType(info.IsClientStream, info.IsServerStream)
		m.started.With(typ, svc, method).Inc()
		err := handler(srv, &countedStream{
			ServerStream: ss,
			received:     m.received.With(typ, svc, method),
			sent:         m.sent.With(typ, svc, method),
		})
		m.done(typ, svc, method, err, start)
		return err
	}
}

func (m *GRPC) done(typ, svc, method string, err error, start time.Time) {
	st, ok := status.FromError(err)
	if !ok {
		st = status.FromContextError(err)
	}
	m.handled.With(typ, svc, method, st.Code().String()).Inc()
	if m.handling != nil {
		m.handling.With(typ, svc, method).Observe(time.Since(start).Seconds())
	}
}

// countedStream counts the messages of one stream (every attempt, as the
// provider does, whether or not it succeeded).
type countedStream struct {
	grpc.ServerStream
	received, sent *Counter
}

func (s *countedStream) SendMsg(msg any) error {
	err := s.ServerStream.SendMsg(msg)
	s.sent.Inc()
	return err
}

func (s *countedStream) RecvMsg(msg any) error {
	err := s.ServerStream.RecvMsg(msg)
	s.received.Inc()
	return err
}

func methodType(clientStream, serverStream bool) string {
	switch {
	case clientStream && serverStream:
		return grpcBidiStream
	case clientStream:
		return grpcClientStream
	case serverStream:
		return grpcServerStream
	}
	return grpcUnary
}

// splitMethod splits "/package.Service/Method".
func splitMethod(full string) (service, method string) {
	full = strings.TrimPrefix(full, "/")
	if i := strings.Index(full, "/"); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "unknown", "unknown"
}
