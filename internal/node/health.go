package node

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
)

// addHealthAndReflection registers the standard gRPC health service and
// server reflection on s, after the role's own services. Health reports
// SERVING for the server ("") and for each registered service until
// Shutdown is called on the returned server, which every Close does first,
// so load balancers and `grpc_health_probe` stop sending work before the
// listener goes away. Reflection lets grpcurl and similar tools list and
// call the services without the .proto files.
func addHealthAndReflection(s *grpc.Server) *health.Server {
	hs := health.NewServer()
	names := make([]string, 0, len(s.GetServiceInfo()))
	for name := range s.GetServiceInfo() {
		names = append(names, name)
	}
	healthpb.RegisterHealthServer(s, hs)
	reflection.Register(s)
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for _, name := range names {
		hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	return hs
}
