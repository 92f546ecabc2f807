package security

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/emptypb"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// method is one generated RPC.
type method struct {
	name            string // "/vodfleet.v1.JobService/SubmitJob"
	clientStreaming bool
	serverStreaming bool
}

// generatedMethods lists every RPC of every service in proto/vodfleet/v1.
func generatedMethods(t *testing.T) []method {
	t.Helper()
	_ = v1.File_vodfleet_v1_job_proto // make sure the files are registered
	var out []method
	protoregistry.GlobalFiles.RangeFilesByPackage("vodfleet.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				md := sd.Methods().Get(j)
				out = append(out, method{name: "/" + string(sd.FullName()) + "/" + string(md.Name()),
					clientStreaming: md.IsStreamingClient(), serverStreaming: md.IsStreamingServer()})
			}
		}
		return true
	})
	if len(out) < 10 {
		t.Fatalf("found only %d generated methods", len(out))
	}
	return out
}

// call invokes m with an empty request and returns the status code. Every
// proto message decodes from zero bytes, so the server's handler (here
// Unimplemented) runs once the call is past authentication.
func call(ctx context.Context, cc *grpc.ClientConn, m method) codes.Code {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if !m.clientStreaming && !m.serverStreaming {
		return status.Code(cc.Invoke(ctx, m.name, &emptypb.Empty{}, &emptypb.Empty{}))
	}
	s, err := cc.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, m.name)
	if err != nil {
		return status.Code(err)
	}
	_ = s.SendMsg(&emptypb.Empty{}) // io.EOF when the server already answered
	_ = s.CloseSend()
	err = s.RecvMsg(&emptypb.Empty{})
	if errors.Is(err, io.EOF) {
		return codes.OK
	}
	return status.Code(err)
}

// testServer is a TLS gRPC server with every vodfleet service registered
// as Unimplemented, behind the real security options.
type testServer struct {
	addr string
	pki  *DevPKI
	// tokens by role, all in the server's token file.
	tokens map[Role]string
	logs   *syncBuf
}

// tokenRoles are the roles API tokens are issued for in the tests.
var tokenRoles = []Role{RoleAdmin, RoleSubmitter, RoleReadOnly, RoleAgent}

// startServer runs the server; mutate adjusts its config (limits).
func startServer(t *testing.T, insecure bool, withTokens bool, mutate func(*Config)) *testServer {
	t.Helper()
	pki, err := EnsureDevPKI(filepath.Join(t.TempDir(), "pki"), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{pki: pki, tokens: map[Role]string{}, logs: &syncBuf{}}
	cfg := pki.Config(RoleStorage)
	cfg.TokenFile = ""
	if withTokens {
		var lines []string
		for _, r := range tokenRoles {
			tok, err := NewToken()
			if err != nil {
				t.Fatal(err)
			}
			ts.tokens[r] = tok
			lines = append(lines, TokenLine(tok, r, "test-"+string(r)))
		}
		cfg.TokenFile = filepath.Join(t.TempDir(), "tokens")
		if err := os.WriteFile(cfg.TokenFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if insecure {
		cfg.CertFile, cfg.KeyFile, cfg.CAFile, cfg.Insecure = "", "", "", true
	}
	if mutate != nil {
		mutate(&cfg)
	}
	log := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: ts.logs})
	sec, err := New(cfg, true, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := sec.NewServer()
	v1.RegisterJobServiceServer(srv, v1.UnimplementedJobServiceServer{})
	v1.RegisterAgentServiceServer(srv, v1.UnimplementedAgentServiceServer{})
	v1.RegisterStorageServiceServer(srv, v1.UnimplementedStorageServiceServer{})
	v1.RegisterClusterServiceServer(srv, v1.UnimplementedClusterServiceServer{})
	v1.RegisterCatalogServiceServer(srv, v1.UnimplementedCatalogServiceServer{})
	v1.RegisterPresetServiceServer(srv, v1.UnimplementedPresetServiceServer{})
	v1.RegisterDestinationServiceServer(srv, v1.UnimplementedDestinationServiceServer{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	ts.addr = lis.Addr().String()
	return ts
}

// dial connects with cfg (CA, cert, token as the test wants).
func (ts *testServer) dial(t *testing.T, cfg Config) *grpc.ClientConn {
	t.Helper()
	sec, err := New(cfg, false, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	cc, err := sec.Dial(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// withCert is a client config presenting role's certificate.
func (ts *testServer) withCert(r Role) Config {
	c := ts.pki.Config(r)
	c.TokenFile = ""
	return c
}

// withToken is a client config with the CA and role's token.
func (ts *testServer) withToken(r Role) Config {
	c := DefaultConfig()
	c.CAFile, c.Token = ts.pki.CAFile, ts.tokens[r]
	return c
}

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// grpcConn names a client connection in a table.
type grpcConn struct{ *grpc.ClientConn }
