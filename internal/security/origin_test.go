package security

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestOriginTLS: the HTTPS origin config admits an edge certificate and
// refuses no certificate, a role that does not read the origin, and a
// certificate from a foreign CA.
func TestOriginTLS(t *testing.T) {
	pki, err := EnsureDevPKI(filepath.Join(t.TempDir(), "pki"), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := EnsureDevPKI(filepath.Join(t.TempDir(), "foreign"), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	secFor := func(p *DevPKI, r Role) *Security {
		cfg := p.Config(r)
		cfg.TokenFile = ""
		s, err := New(cfg, true, hclog.NewNullLogger())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	server := secFor(pki, RoleStorage)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{TLSConfig: server.OriginServerTLS(), Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})}
	go func() { _ = srv.ServeTLS(lis, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	url := "https://" + lis.Addr().String() + "/o/x"
	get := func(s *Security, ca string) error {
		tlsCfg := s.ClientTLS()
		if ca != "" {
			tlsCfg.RootCAs, _ = loadCA(ca)
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}, Timeout: 10 * time.Second}
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return errors.New(resp.Status)
		}
		return nil
	}
	if err := get(secFor(pki, RoleEdge), ""); err != nil {
		t.Fatalf("edge certificate refused: %v", err)
	}
	anonCfg := DefaultConfig()
	anonCfg.CAFile = pki.CAFile
	anon, err := New(anonCfg, false, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := get(anon, ""); err == nil {
		t.Error("origin served a client without a certificate")
	}
	if err := get(secFor(pki, RoleStorage), ""); err == nil {
		t.Error("origin served the storage role, which does not read it")
	}
	if err := get(secFor(foreign, RoleEdge), pki.CAFile); err == nil {
		t.Error("origin served an edge certificate from a foreign CA")
	}
}

// TestUnaryCallsGetADeadline: a unary call made without a deadline ends
// with DeadlineExceeded after CallTimeout instead of hanging.
func TestUnaryCallsGetADeadline(t *testing.T) {
	pki, err := EnsureDevPKI(filepath.Join(t.TempDir(), "pki"), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg := pki.Config(RoleCoordinator)
	s, err := New(cfg, true, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	srv := s.NewServer()
	v1.RegisterJobServiceServer(srv, hangingJobs{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	ccfg := pki.Config(RoleAdmin)
	ccfg.TokenFile, ccfg.CallTimeout = "", 300*time.Millisecond
	cs, err := New(ccfg, false, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cs.Dial(lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	_, err = v1.NewJobServiceClient(cc).ListJobs(context.Background(), &v1.ListJobsRequest{})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("call without deadline: %v, want DeadlineExceeded", err)
	}
	// Messages past MaxMessageBytes are refused.
	big := make([]byte, DefaultMaxMessageBytes+1)
	err = cc.Invoke(context.Background(), v1.JobService_SubmitJob_FullMethodName, &v1.SubmitJobRequest{Ladder: string(big)}, &emptypb.Empty{})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("oversized message: %v, want ResourceExhausted", err)
	}
}

// hangingJobs answers ListJobs only when the caller gives up.
type hangingJobs struct {
	v1.UnimplementedJobServiceServer
}

func (hangingJobs) ListJobs(ctx context.Context, _ *v1.ListJobsRequest) (*v1.ListJobsResponse, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
