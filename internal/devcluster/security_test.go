package devcluster

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vodfleet/vodfleet/internal/security"
	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestDevClusterEnforcesRoles checks the real services of a dev cluster
// (mTLS, HTTPS origin): anonymous and wrong-role calls are refused, the
// admin gets through, and the edge reaches the origin with its
// certificate while a client without one is refused.
func TestDevClusterEnforcesRoles(t *testing.T) {
	cfg := LoopbackConfig(t.TempDir())
	cfg.Agents = 0
	cfg.OriginTLS = true
	c, err := Start(cfg, testmedia.Logger(t, hclog.Info))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	secAs := func(sc security.Config) *security.Security {
		t.Helper()
		s, err := security.New(sc, false, hclog.NewNullLogger())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	anon := security.DefaultConfig()
	anon.CAFile = c.PKI.CAFile
	edgeCfg := c.PKI.Config(security.RoleEdge)
	edgeCfg.TokenFile = ""
	agentCfg := c.PKI.Config(security.RoleAgent)
	agentCfg.TokenFile = ""

	jobsAs := func(sc security.Config) v1.JobServiceClient {
		cc, err := secAs(sc).Dial(c.Coordinator.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cc.Close() })
		return v1.NewJobServiceClient(cc)
	}
	if _, err := jobsAs(anon).ListJobs(ctx, &v1.ListJobsRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("anonymous ListJobs: %v, want Unauthenticated", err)
	}
	if _, err := jobsAs(edgeCfg).ListJobs(ctx, &v1.ListJobsRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("edge ListJobs: %v, want PermissionDenied", err)
	}
	if _, err := jobsAs(c.ClientConfig()).ListJobs(ctx, &v1.ListJobsRequest{}); err != nil {
		t.Errorf("admin ListJobs: %v", err)
	}
	scc, err := secAs(agentCfg).Dial(c.Storage.GRPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer scc.Close()
	if _, err := v1.NewStorageServiceClient(scc).DeleteAsset(ctx, &v1.DeleteAssetRequest{AssetId: "x"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("agent DeleteAsset: %v, want PermissionDenied", err)
	}
	if _, err := v1.NewStorageServiceClient(scc).Stat(ctx, &v1.StatRequest{Path: "assets/none/x"}); status.Code(err) != codes.NotFound {
		t.Errorf("agent Stat of a missing object: %v, want NotFound (past auth)", err)
	}

	// The origin is HTTPS with client certificates.
	if c.Storage.HTTPURL()[:8] != "https://" {
		t.Fatalf("origin URL %s", c.Storage.HTTPURL())
	}
	anonTLS := secAs(anon).ClientTLS()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: anonTLS}, Timeout: 10 * time.Second}
	if resp, err := hc.Get(c.Storage.HTTPURL() + "/o/assets/none/master.m3u8"); err == nil {
		resp.Body.Close()
		t.Errorf("origin answered a client without a certificate: %s", resp.Status)
	}
	// Through the edge (which presents its certificate) a missing object
	// is a clean 404 from the origin, not a 502 from a failed handshake.
	resp, err := http.Get(c.EdgeURL() + "/v/none/master.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("edge -> HTTPS origin: %s, want 404", resp.Status)
	}
}
