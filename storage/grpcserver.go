package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// grpcServer serves vodfleetv1.StorageService from a Store.
type grpcServer struct {
	vodfleetv1.UnimplementedStorageServiceServer
	store *Store
	log   hclog.Logger
}

// NewGRPCServer returns the StorageService implementation backed by s.
// Register it with vodfleetv1.RegisterStorageServiceServer.
func NewGRPCServer(s *Store, log hclog.Logger) vodfleetv1.StorageServiceServer {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &grpcServer{store: s, log: log.Named("storage-grpc")}
}

// Put receives a header, then pipes the data chunks into Store.Put. Chunks
// are received in their own goroutine so the store reads at its own pace
// and a failed store write stops the upload without draining the stream.
func (g *grpcServer) Put(stream grpc.ClientStreamingServer[vodfleetv1.PutRequest, vodfleetv1.PutResponse]) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return g.fail("put", fmt.Errorf("empty upload stream: %w", errBadRequest))
	}
	if err != nil {
		return err
	}
	hdr := first.GetHeader()
	if hdr == nil {
		return g.fail("put", fmt.Errorf("first message is not a header: %w", errBadRequest))
	}
	pr, pw := io.Pipe()
	go receiveChunks(stream, pw)
	obj, err := g.store.Put(stream.Context(), hdr.GetPath(), hdr.GetContentType(), hdr.GetSize(), pr)
	// Unblock the receive loop if the store stopped reading early.
	_ = pr.CloseWithError(errors.New("upload aborted"))
	if err != nil {
		return g.fail("put", err)
	}
	return stream.SendAndClose(&vodfleetv1.PutResponse{Object: objectInfo(obj, g.store.NodeID())})
}

// receiveChunks copies data chunks from stream into pw until the client
// closes its side (io.EOF, a clean end) or the stream breaks. It returns
// when the handler returns too, since that cancels the stream context.
func receiveChunks(stream grpc.ClientStreamingServer[vodfleetv1.PutRequest, vodfleetv1.PutResponse], pw *io.PipeWriter) {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			_ = pw.Close()
			return
		}
		if err != nil {
			_ = pw.CloseWithError(fmt.Errorf("receive upload: %w", err))
			return
		}
		switch m := req.GetMsg().(type) {
		case *vodfleetv1.PutRequest_Chunk:
			if _, err := pw.Write(m.Chunk); err != nil {
				return
			}
		case *vodfleetv1.PutRequest_Header:
			_ = pw.CloseWithError(fmt.Errorf("header sent twice: %w", errBadRequest))
			return
		default:
			_ = pw.CloseWithError(fmt.Errorf("empty upload message: %w", errBadRequest))
			return
		}
	}
}

// Get streams the requested range in chunks of Config.ChunkSize; the first
// message carries the ObjectInfo. With Config.VerifyReads a whole-object read
// is hashed while streaming (the stream ends with DataLoss on mismatch) and a
// ranged read is verified before any byte is sent.
func (g *grpcServer) Get(req *vodfleetv1.GetRequest, stream grpc.ServerStreamingServer[vodfleetv1.GetResponse]) error {
	if req.GetOffset() < 0 || req.GetLength() < 0 {
		return g.fail("get", fmt.Errorf("negative offset %d or length %d: %w", req.GetOffset(), req.GetLength(), errBadRequest))
	}
	obj, rc, err := g.store.Open(req.GetPath())
	if err != nil {
		return g.fail("get", err)
	}
	defer rc.Close()
	if req.GetOffset() > obj.Size {
		return g.fail("get", fmt.Errorf("offset %d, size %d: %w", req.GetOffset(), obj.Size, errOutOfRange))
	}
	n := obj.Size - req.GetOffset()
	if req.GetLength() > 0 {
		n = min(n, req.GetLength())
	}
	whole := req.GetOffset() == 0 && n == obj.Size
	var r io.Reader = rc
	var vr *verifyReader
	switch {
	case g.store.cfg.VerifyReads && whole:
		vr = newVerifyReader(obj, rc)
		r = vr
	case g.store.cfg.VerifyReads:
		if err := verifyBlob(obj, rc); err != nil {
			return g.fail("get", g.store.noteCorrupt(err))
		}
	}
	if _, err := rc.Seek(req.GetOffset(), io.SeekStart); err != nil {
		return g.fail("get", fmt.Errorf("seek %q: %w", obj.Path, err))
	}
	for first, left := true, n; first || left > 0; first = false {
		// A fresh buffer per message: gRPC may use a sent message lazily.
		buf := make([]byte, min(int64(g.store.cfg.ChunkSize), left))
		if _, err := io.ReadFull(r, buf); err != nil {
			return g.fail("get", fmt.Errorf("read %q: %w", obj.Path, err))
		}
		left -= int64(len(buf))
		if left == 0 && vr != nil {
			// Verify before the last chunk goes out, so a corrupt object
			// never reaches the client as a complete, successful stream.
			if err := vr.check(); err != nil {
				return g.fail("get", g.store.noteCorrupt(err))
			}
		}
		msg := &vodfleetv1.GetResponse{Chunk: buf}
		if first {
			msg.Object = objectInfo(obj, g.store.NodeID())
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
		g.store.stats.getBytesGRPC.Add(uint64(len(buf)))
	}
	return nil
}

// Stat returns an object's metadata.
func (g *grpcServer) Stat(_ context.Context, req *vodfleetv1.StatRequest) (*vodfleetv1.StatResponse, error) {
	obj, err := g.store.Stat(req.GetPath())
	if err != nil {
		return nil, g.fail("stat", err)
	}
	return &vodfleetv1.StatResponse{Object: objectInfo(obj, g.store.NodeID())}, nil
}

// List returns one page of objects under a prefix; a zero limit means
// Config.ListLimit (1000 by default).
func (g *grpcServer) List(_ context.Context, req *vodfleetv1.ListRequest) (*vodfleetv1.ListResponse, error) {
	if req.GetLimit() < 0 {
		return nil, g.fail("list", fmt.Errorf("negative limit %d: %w", req.GetLimit(), errBadRequest))
	}
	objs, err := g.store.List(req.GetPrefix(), req.GetStartAfter(), int(req.GetLimit()))
	if err != nil {
		return nil, g.fail("list", err)
	}
	resp := &vodfleetv1.ListResponse{Objects: make([]*vodfleetv1.ObjectInfo, len(objs))}
	for i, obj := range objs {
		resp.Objects[i] = objectInfo(obj, g.store.NodeID())
	}
	return resp, nil
}

// Publish moves a staging prefix to its destination atomically.
func (g *grpcServer) Publish(_ context.Context, req *vodfleetv1.PublishRequest) (*vodfleetv1.PublishResponse, error) {
	n, err := g.store.Publish(req.GetFromPrefix(), req.GetToPrefix())
	if err != nil {
		return nil, g.fail("publish", err)
	}
	return &vodfleetv1.PublishResponse{Moved: int32(min(n, math.MaxInt32))}, nil
}

// ListAssets returns one page of asset summaries in id order; a zero limit
// means Config.ListLimit (1000 by default).
func (g *grpcServer) ListAssets(_ context.Context, req *vodfleetv1.ListAssetsRequest) (*vodfleetv1.ListAssetsResponse, error) {
	if req.GetLimit() < 0 {
		return nil, g.fail("list-assets", fmt.Errorf("negative limit %d: %w", req.GetLimit(), errBadRequest))
	}
	assets, err := g.store.ListAssets(req.GetStartAfter(), int(req.GetLimit()))
	if err != nil {
		return nil, g.fail("list-assets", err)
	}
	resp := &vodfleetv1.ListAssetsResponse{Assets: make([]*vodfleetv1.AssetInfo, len(assets))}
	for i, a := range assets {
		resp.Assets[i] = assetInfo(a)
	}
	return resp, nil
}

// DeleteAsset removes an asset from reads at once and frees its blobs.
func (g *grpcServer) DeleteAsset(_ context.Context, req *vodfleetv1.DeleteAssetRequest) (*vodfleetv1.DeleteAssetResponse, error) {
	n, err := g.store.DeleteAsset(req.GetAssetId())
	if err != nil {
		return nil, g.fail("delete-asset", err)
	}
	return &vodfleetv1.DeleteAssetResponse{Deleted: int32(min(n, math.MaxInt32))}, nil
}

// fail converts err with toStatus and logs server-side failures.
func (g *grpcServer) fail(method string, err error) error {
	st := toStatus(err)
	switch status.Code(st) {
	case codes.Internal, codes.DataLoss, codes.Unavailable:
		g.log.Error("request failed", "method", method, "error", err)
	default:
		g.log.Debug("request rejected", "method", method, "error", err)
	}
	return st
}

// objectInfo converts an Object to its wire form.
func objectInfo(obj Object, node string) *vodfleetv1.ObjectInfo {
	return &vodfleetv1.ObjectInfo{
		Path:        obj.Path,
		Size:        obj.Size,
		Sha256:      obj.SHA256,
		ContentType: obj.ContentType,
		ModifiedAt:  timestamppb.New(obj.ModTime),
		Node:        node,
	}
}

// assetInfo converts an AssetInfo to its wire form.
func assetInfo(a AssetInfo) *vodfleetv1.AssetInfo {
	return &vodfleetv1.AssetInfo{
		AssetId:   a.ID,
		Objects:   a.Objects,
		Bytes:     a.Bytes,
		UpdatedAt: timestamppb.New(a.UpdatedAt),
		Node:      a.Node,
	}
}
