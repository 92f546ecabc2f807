package node

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/vodfleet/vodfleet/coordinator"
	"github.com/vodfleet/vodfleet/internal/etcdserver"
	"github.com/vodfleet/vodfleet/internal/security"
	"github.com/vodfleet/vodfleet/storage"
)

// listServices asks the server's reflection service for its services.
func listServices(t *testing.T, ctx context.Context, conn *grpc.ClientConn) []string {
	t.Helper()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stream.CloseSend() }()
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names
}

// checkHealthAndClose checks that addr reports SERVING for the server and
// each service, lists them through reflection, and that a health watcher
// sees NOT_SERVING once close begins.
func checkHealthAndClose(t *testing.T, addr string, services []string, closeNode func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	for _, svc := range append([]string{""}, services...) {
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health %q = %v, %v; want SERVING", svc, resp.GetStatus(), err)
		}
	}
	if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "no.such.Service"}); err == nil {
		t.Error("health of an unknown service answered OK")
	}
	got := listServices(t, ctx, conn)
	for _, want := range append([]string{"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"}, services...) {
		if !slices.Contains(got, want) {
			t.Errorf("reflection lists %v, missing %s", got, want)
		}
	}

	watch, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := watch.Recv()
	if err != nil || first.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first watch update %v, %v; want SERVING", first.GetStatus(), err)
	}
	closed := make(chan error, 1)
	go func() { closed <- closeNode() }()
	next, err := watch.Recv()
	if err != nil || next.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("watch update after close began: %v, %v; want NOT_SERVING", next.GetStatus(), err)
	}
	conn.Close() // ends the watch, so the graceful stop need not wait for it
	if err := <-closed; err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestHealthAndReflection(t *testing.T) {
	log := hclog.NewNullLogger()
	etcd, err := etcdserver.Start(t.TempDir(), "127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	scfg := storage.DefaultConfig()
	scfg.Dir = t.TempDir()
	sec := security.MustInsecure(log)
	st, err := StartStorage(scfg, sec, "127.0.0.1:0", "127.0.0.1:0", nil, log)
	if err != nil {
		t.Fatal(err)
	}
	co, err := StartCoordinator(coordinator.Config{Prefix: "/health-test"}, sec, []storage.Node{{ID: scfg.NodeID, Address: st.GRPCAddr}},
		[]string{etcd.Endpoint()}, "127.0.0.1:0", log)
	if err != nil {
		_ = st.Close()
		t.Fatal(err)
	}
	t.Run("coordinator", func(t *testing.T) {
		checkHealthAndClose(t, co.Addr,
			[]string{"vodfleet.v1.JobService", "vodfleet.v1.AgentService", "vodfleet.v1.ClusterService"}, co.Close)
	})
	t.Run("storage", func(t *testing.T) {
		checkHealthAndClose(t, st.GRPCAddr, []string{"vodfleet.v1.StorageService"}, st.Close)
	})
}
