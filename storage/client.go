package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"google.golang.org/grpc"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// clientChunkSize is the size of the data chunks Client uploads.
const clientChunkSize = 256 << 10

// Client wraps the StorageService gRPC client with the file-level helpers
// agents and the CLI need. Errors wrap the gRPC status, so status.Code and
// status.FromError work on them.
type Client struct {
	rpc vodfleetv1.StorageServiceClient
}

// NewClient returns a Client using cc.
func NewClient(cc grpc.ClientConnInterface) *Client {
	return &Client{rpc: vodfleetv1.NewStorageServiceClient(cc)}
}

// PutFile uploads the local file at localPath to path. An empty contentType
// lets the server guess it from path. The file's size is announced, so a
// file that changes while uploading fails instead of storing a torn copy.
func (c *Client) PutFile(ctx context.Context, path, localPath, contentType string) (*vodfleetv1.ObjectInfo, error) {
	f, err := os.Open(localPath)
	if err != nil {
		return nil, fmt.Errorf("put %q: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("put %q: %w", path, err)
	}
	return c.Put(ctx, path, contentType, fi.Size(), f)
}

// PutBytes uploads data to path.
func (c *Client) PutBytes(ctx context.Context, path, contentType string, data []byte) (*vodfleetv1.ObjectInfo, error) {
	return c.Put(ctx, path, contentType, int64(len(data)), bytes.NewReader(data))
}

// Put uploads r to path; size is its length, or -1 when unknown.
func (c *Client) Put(ctx context.Context, path, contentType string, size int64, r io.Reader) (*vodfleetv1.ObjectInfo, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // aborts the stream on any early return
	stream, err := c.rpc.Put(ctx)
	if err != nil {
		return nil, fmt.Errorf("put %q: %w", path, err)
	}
	hdr := &vodfleetv1.PutHeader{Path: path, ContentType: contentType, Size: size}
	err = stream.Send(&vodfleetv1.PutRequest{Msg: &vodfleetv1.PutRequest_Header{Header: hdr}})
	for err == nil {
		// A fresh buffer per chunk: gRPC may use a sent message lazily
		// (stats handlers), so it must not be modified after Send.
		buf := make([]byte, clientChunkSize)
		n, rerr := io.ReadFull(r, buf)
		if errors.Is(rerr, io.ErrUnexpectedEOF) {
			rerr = io.EOF
		}
		if n > 0 {
			err = stream.Send(&vodfleetv1.PutRequest{Msg: &vodfleetv1.PutRequest_Chunk{Chunk: buf[:n]}})
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("put %q: read: %w", path, rerr)
		}
	}
	// io.EOF from Send means the server ended the stream; its status comes
	// from CloseAndRecv.
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("put %q: %w", path, err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, fmt.Errorf("put %q: %w", path, err)
	}
	return resp.GetObject(), nil
}

// Stat returns the metadata of the object at path.
func (c *Client) Stat(ctx context.Context, path string) (*vodfleetv1.ObjectInfo, error) {
	resp, err := c.rpc.Stat(ctx, &vodfleetv1.StatRequest{Path: path})
	if err != nil {
		return nil, fmt.Errorf("stat %q: %w", path, err)
	}
	return resp.GetObject(), nil
}

// Get writes the whole object at path to w and returns its metadata. The
// content is hashed on the way and checked against the object's SHA-256
// (ErrCorrupt on mismatch); w may have received data by then.
func (c *Client) Get(ctx context.Context, path string, w io.Writer) (*vodfleetv1.ObjectInfo, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.Get(ctx, &vodfleetv1.GetRequest{Path: path})
	if err != nil {
		return nil, fmt.Errorf("get %q: %w", path, err)
	}
	var info *vodfleetv1.ObjectInfo
	h := sha256.New()
	var n int64
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("get %q: %w", path, err)
		}
		if info == nil {
			if info = msg.GetObject(); info == nil {
				return nil, fmt.Errorf("get %q: first message has no object info", path)
			}
		}
		h.Write(msg.GetChunk())
		if _, err := w.Write(msg.GetChunk()); err != nil {
			return nil, fmt.Errorf("get %q: write: %w", path, err)
		}
		n += int64(len(msg.GetChunk()))
	}
	if info == nil {
		return nil, fmt.Errorf("get %q: empty response stream", path)
	}
	obj := Object{Path: path, Size: info.GetSize(), SHA256: info.GetSha256()}
	if err := checkContent(obj, n, h); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	return info, nil
}

// GetToFile downloads the object at path to localPath. It writes a
// temporary file next to localPath, verifies and fsyncs it, then renames it
// into place, so localPath never holds a partial or corrupt copy.
func (c *Client) GetToFile(ctx context.Context, path, localPath string) (err error) {
	dir, base := filepath.Split(localPath)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("get %q: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := c.Get(ctx, path, tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("get %q: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("get %q: close: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), localPath); err != nil {
		return fmt.Errorf("get %q: %w", path, err)
	}
	return nil
}

// Publish moves every object under from to to atomically and returns how
// many moved.
func (c *Client) Publish(ctx context.Context, from, to string) (int, error) {
	resp, err := c.rpc.Publish(ctx, &vodfleetv1.PublishRequest{FromPrefix: from, ToPrefix: to})
	if err != nil {
		return 0, fmt.Errorf("publish %q to %q: %w", from, to, err)
	}
	return int(resp.GetMoved()), nil
}

// List returns every object under prefix in path order. It pages with
// start_after until the server returns an empty page, so it is correct
// whatever page size the server caps requests at.
func (c *Client) List(ctx context.Context, prefix string) ([]*vodfleetv1.ObjectInfo, error) {
	var all []*vodfleetv1.ObjectInfo
	after := ""
	for {
		resp, err := c.rpc.List(ctx, &vodfleetv1.ListRequest{Prefix: prefix, StartAfter: after, Limit: DefaultListLimit})
		if err != nil {
			return nil, fmt.Errorf("list %q: %w", prefix, err)
		}
		objs := resp.GetObjects()
		if len(objs) == 0 {
			return all, nil
		}
		all = append(all, objs...)
		after = objs[len(objs)-1].GetPath()
	}
}

// ListAssets returns every asset the storage node holds, in id order. Like
// List it pages with start_after until an empty page.
func (c *Client) ListAssets(ctx context.Context) ([]*vodfleetv1.AssetInfo, error) {
	var all []*vodfleetv1.AssetInfo
	after := ""
	for {
		resp, err := c.rpc.ListAssets(ctx, &vodfleetv1.ListAssetsRequest{StartAfter: after, Limit: DefaultListLimit})
		if err != nil {
			return nil, fmt.Errorf("list assets: %w", err)
		}
		assets := resp.GetAssets()
		if len(assets) == 0 {
			return all, nil
		}
		all = append(all, assets...)
		after = assets[len(assets)-1].GetAssetId()
	}
}

// DeleteAsset deletes asset id and returns how many objects it held. The
// error carries NotFound for an unknown asset and InvalidArgument for an
// invalid id.
func (c *Client) DeleteAsset(ctx context.Context, id string) (int, error) {
	resp, err := c.rpc.DeleteAsset(ctx, &vodfleetv1.DeleteAssetRequest{AssetId: id})
	if err != nil {
		return 0, fmt.Errorf("delete asset %q: %w", id, err)
	}
	return int(resp.GetDeleted()), nil
}
