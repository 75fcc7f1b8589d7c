package metrics

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
// sent, and, with --metrics=extensive, the handling time histogram. It is a
// prometheus.Collector.
type GRPC struct {
	started, handled, received, sent *prometheus.CounterVec
	handling                         *prometheus.HistogramVec // nil unless extensive
}

// NewGRPC returns the gRPC server metrics; extensive adds
// grpc_server_handling_seconds.
func NewGRPC(extensive bool) *GRPC {
	labels := []string{"grpc_type", "grpc_service", "grpc_method"}
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &GRPC{
		started:  counter("grpc_server_started_total", "Total number of RPCs started on the server.", labels),
		handled:  counter("grpc_server_handled_total", "Total number of RPCs completed on the server, regardless of success or failure.", []string{"grpc_type", "grpc_service", "grpc_method", "grpc_code"}),
		received: counter("grpc_server_msg_received_total", "Total number of RPC stream messages received on the server.", labels),
		sent:     counter("grpc_server_msg_sent_total", "Total number of gRPC stream messages sent by the server.", labels),
	}
	if extensive {
		m.handling = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "grpc_server_handling_seconds",
			Help:    "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
			Buckets: prometheus.DefBuckets,
		}, labels)
	}
	return m
}

func (m *GRPC) collectors() []prometheus.Collector {
	cs := []prometheus.Collector{m.started, m.handled, m.received, m.sent}
	if m.handling != nil {
		cs = append(cs, m.handling)
	}
	return cs
}

// Describe implements prometheus.Collector.
func (m *GRPC) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *GRPC) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

// InitializeMetrics creates every method's series at zero (handled: with
// every code), as etcd does, so that they exist before the first call.
func (m *GRPC) InitializeMetrics(services map[string]grpc.ServiceInfo) {
	for svc, info := range services {
		for _, mi := range info.Methods {
			typ := methodType(mi.IsClientStream, mi.IsServerStream)
			m.started.WithLabelValues(typ, svc, mi.Name)
			m.received.WithLabelValues(typ, svc, mi.Name)
			m.sent.WithLabelValues(typ, svc, mi.Name)
			if m.handling != nil {
				m.handling.WithLabelValues(typ, svc, mi.Name)
			}
			for _, c := range allCodes {
				m.handled.WithLabelValues(typ, svc, mi.Name, c.String())
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
		m.started.WithLabelValues(grpcUnary, svc, method).Inc()
		m.received.WithLabelValues(grpcUnary, svc, method).Inc()
		resp, err := handler(ctx, req)
		m.sent.WithLabelValues(grpcUnary, svc, method).Inc()
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
		m.started.WithLabelValues(typ, svc, method).Inc()
		err := handler(srv, &countedStream{
			ServerStream: ss,
			received:     m.received.WithLabelValues(typ, svc, method),
			sent:         m.sent.WithLabelValues(typ, svc, method),
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
	m.handled.WithLabelValues(typ, svc, method, st.Code().String()).Inc()
	if m.handling != nil {
		m.handling.WithLabelValues(typ, svc, method).Observe(time.Since(start).Seconds())
	}
}

// countedStream counts the messages of one stream (every attempt, as the
// provider does, whether or not it succeeded).
type countedStream struct {
	grpc.ServerStream
	received, sent prometheus.Counter
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
