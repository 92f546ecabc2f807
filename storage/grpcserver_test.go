package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// startGRPC serves s over a loopback listener and returns a connected Client
// and the raw generated client.
func startGRPC(t *testing.T, s *Store) (*Client, vodfleetv1.StorageServiceClient) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	vodfleetv1.RegisterStorageServiceServer(srv, NewGRPCServer(s, testLogger()))
	go func() { _ = srv.Serve(lis) }()
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cc.Close()
		srv.Stop()
	})
	return NewClient(cc), vodfleetv1.NewStorageServiceClient(cc)
}

// smallChunkStore is a store whose Get streams 1000-byte chunks.
func smallChunkStore(t *testing.T) *Store {
	cfg := testConfig(t)
	cfg.ChunkSize = 1000
	return openStore(t, cfg)
}

// rawGet collects a Get stream: object info, content and final error.
func rawGet(t *testing.T, rpc vodfleetv1.StorageServiceClient, req *vodfleetv1.GetRequest) (*vodfleetv1.ObjectInfo, []byte, int, error) {
	t.Helper()
	stream, err := rpc.Get(context.Background(), req)
	if err != nil {
		return nil, nil, 0, err
	}
	var info *vodfleetv1.ObjectInfo
	var buf bytes.Buffer
	msgs := 0
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return info, buf.Bytes(), msgs, nil
		}
		if err != nil {
			return info, buf.Bytes(), msgs, err
		}
		if msgs == 0 && msg.GetObject() == nil {
			t.Fatal("first message has no object info")
		}
		if msgs > 0 && msg.GetObject() != nil {
			t.Fatal("object info repeated")
		}
		if info == nil {
			info = msg.GetObject()
		}
		if len(msg.GetChunk()) > 1000 {
			t.Fatalf("chunk of %d bytes", len(msg.GetChunk()))
		}
		msgs++
		buf.Write(msg.GetChunk())
	}
}

func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if got := status.Code(err); got != code {
		t.Fatalf("code = %s, want %s (err %v)", got, code, err)
	}
}

func TestGRPCPutGetRoundtrip(t *testing.T) {
	s := smallChunkStore(t)
	c, rpc := startGRPC(t, s)
	ctx := context.Background()
	data := randomBytes(600 << 10) // several client chunks, hundreds of server chunks

	src := filepath.Join(t.TempDir(), "in.mp4")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := c.PutFile(ctx, "sources/src1", src, "")
	if err != nil {
		t.Fatal(err)
	}
	if info.GetSize() != int64(len(data)) || info.GetContentType() != DefaultContentType || !info.GetModifiedAt().AsTime().Equal(testTime) {
		t.Fatalf("unexpected info %v", info)
	}
	dst := filepath.Join(t.TempDir(), "out.mp4")
	if err := c.GetToFile(ctx, "sources/src1", dst); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Fatal("downloaded content differs")
	}
	if st, err := c.Stat(ctx, "sources/src1"); err != nil || st.GetSha256() != info.GetSha256() {
		t.Fatalf("stat = %v, %v", st, err)
	}

	ranges := []struct{ off, length, wantLen int64 }{
		{0, 0, int64(len(data))}, {1500, 2500, 2500}, {int64(len(data)) - 10, 100, 10},
		{int64(len(data)), 0, 0}, {7, 1, 1},
	}
	for _, r := range ranges {
		_, got, msgs, err := rawGet(t, rpc, &vodfleetv1.GetRequest{Path: "sources/src1", Offset: r.off, Length: r.length})
		if err != nil {
			t.Fatalf("range %+v: %v", r, err)
		}
		if !bytes.Equal(got, data[r.off:r.off+r.wantLen]) {
			t.Fatalf("range %+v: wrong content (%d bytes)", r, len(got))
		}
		if wantMsgs := max(1, int((r.wantLen+999)/1000)); msgs != wantMsgs {
			t.Fatalf("range %+v: %d messages, want %d", r, msgs, wantMsgs)
		}
	}

	info, err = c.PutBytes(ctx, "assets/a/master.m3u8", "", []byte("#EXTM3U\n"))
	if err != nil || info.GetContentType() != "application/vnd.apple.mpegurl" {
		t.Fatalf("put bytes: %v, %v", info, err)
	}
	_, got, _, err := rawGet(t, rpc, &vodfleetv1.GetRequest{Path: "assets/a/master.m3u8"})
	if err != nil || string(got) != "#EXTM3U\n" {
		t.Fatalf("get = %q, %v", got, err)
	}
}

func TestGRPCErrors(t *testing.T) {
	s := smallChunkStore(t)
	c, rpc := startGRPC(t, s)
	ctx := context.Background()
	if _, err := c.PutBytes(ctx, "sources/s", "", []byte("abc")); err != nil {
		t.Fatal(err)
	}

	_, err := c.Stat(ctx, "sources/missing")
	wantCode(t, err, codes.NotFound)
	_, _, _, err = rawGet(t, rpc, &vodfleetv1.GetRequest{Path: "sources/missing"})
	wantCode(t, err, codes.NotFound)
	_, err = c.Stat(ctx, "../etc/passwd")
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.PutBytes(ctx, "a//b", "", []byte("x"))
	wantCode(t, err, codes.InvalidArgument)
	_, _, _, err = rawGet(t, rpc, &vodfleetv1.GetRequest{Path: "sources/s", Offset: -1})
	wantCode(t, err, codes.InvalidArgument)
	_, _, _, err = rawGet(t, rpc, &vodfleetv1.GetRequest{Path: "sources/s", Length: -1})
	wantCode(t, err, codes.InvalidArgument)
	_, _, _, err = rawGet(t, rpc, &vodfleetv1.GetRequest{Path: "sources/s", Offset: 4})
	wantCode(t, err, codes.OutOfRange)
	_, err = rpc.List(ctx, &vodfleetv1.ListRequest{Limit: -1})
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.Publish(ctx, "staging/x/", "staging/x/y/")
	wantCode(t, err, codes.InvalidArgument)
	if _, err := c.Put(ctx, "sources/short", "", 10, bytes.NewReader([]byte("abc"))); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("short upload: %v", err)
	}
	if _, err := c.Put(ctx, "sources/long", "", 1, bytes.NewReader(randomBytes(1<<20))); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("long upload: %v", err)
	}
}

func TestGRPCMalformedPut(t *testing.T) {
	s := smallChunkStore(t)
	_, rpc := startGRPC(t, s)
	header := &vodfleetv1.PutRequest{Msg: &vodfleetv1.PutRequest_Header{Header: &vodfleetv1.PutHeader{Path: "sources/m", Size: -1}}}
	chunk := &vodfleetv1.PutRequest{Msg: &vodfleetv1.PutRequest_Chunk{Chunk: []byte("data")}}
	cases := map[string][]*vodfleetv1.PutRequest{
		"no messages":   nil,
		"chunk first":   {chunk, header},
		"empty message": {header, {}},
		"header twice":  {header, chunk, header},
		"empty first":   {{}},
	}
	for name, msgs := range cases {
		stream, err := rpc.Put(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if err := stream.Send(m); err != nil {
				break // the server already failed the stream
			}
		}
		_, err = stream.CloseAndRecv()
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: got %v, want InvalidArgument", name, err)
		}
	}
	if _, err := s.Stat("sources/m"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("malformed upload stored an object: %v", err)
	}
	assertNoBlobs(t, s)
}

func TestGRPCPublishAndList(t *testing.T) {
	cfg := testConfig(t)
	cfg.ListLimit, cfg.MaxListLimit = 2, 2 // force the client to page
	s := openStore(t, cfg)
	c, _ := startGRPC(t, s)
	ctx := context.Background()
	names := []string{"master.m3u8", "manifest.mpd", "v1/init.mp4", "v1/seg_1.m4s", "v1/seg_2.m4s"}
	for _, n := range names {
		if _, err := c.PutBytes(ctx, "staging/task7/2/"+n, "", []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	moved, err := c.Publish(ctx, "staging/task7/2/", "assets/a7/")
	if err != nil || moved != len(names) {
		t.Fatalf("publish = %d, %v", moved, err)
	}
	staged, err := c.List(ctx, "staging/task7/2/")
	if err != nil || len(staged) != 0 {
		t.Fatalf("staging after publish: %v, %v", staged, err)
	}
	objs, err := c.List(ctx, "assets/a7/")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != len(names) {
		t.Fatalf("listed %d objects, want %d", len(objs), len(names))
	}
	for i, o := range objs {
		if i > 0 && objs[i-1].GetPath() >= o.GetPath() {
			t.Fatalf("list out of order: %s then %s", objs[i-1].GetPath(), o.GetPath())
		}
	}
	if o, err := c.Stat(ctx, "assets/a7/manifest.mpd"); err != nil || o.GetContentType() != "application/dash+xml" {
		t.Fatalf("stat published: %v, %v", o, err)
	}
}

func TestGRPCPutCancelled(t *testing.T) {
	s := smallChunkStore(t)
	_, rpc := startGRPC(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := rpc.Put(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hdr := &vodfleetv1.PutHeader{Path: "sources/cancelled", Size: -1}
	if err := stream.Send(&vodfleetv1.PutRequest{Msg: &vodfleetv1.PutRequest_Header{Header: hdr}}); err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&vodfleetv1.PutRequest{Msg: &vodfleetv1.PutRequest_Chunk{Chunk: randomBytes(1000)}}); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = stream.CloseAndRecv()
	wantCode(t, err, codes.Canceled)
	// The server notices the cancellation asynchronously; wait for cleanup
	// (generously: on a loaded CI machine the fsyncs before it can stall).
	deadline := time.Now().Add(30 * time.Second)
	for {
		if blobFiles(t, s) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cancelled upload left blob files")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := s.Stat("sources/cancelled"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancelled upload stored: %v", err)
	}
}
