package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// blobIDBytes is the number of random bytes in a blob id (hex encoded).
const blobIDBytes = 16

// fileBlobs is the local BlobStore: blob <id> lives at <root>/<id[:2]>/<id>.
// The two-hex-digit fan-out keeps directories small enough for fast lookups
// with millions of blobs. Ids are random, so uploads never collide and a
// blob file is never modified after it is renamed into place.
type fileBlobs struct {
	root string
}

// NewFileBlobStore returns a BlobStore keeping blobs as files under root,
// creating root and its 256 fan-out directories (durably) if needed.
func NewFileBlobStore(root string) (BlobStore, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("create blob root: %w", err)
	}
	created := false
	for i := range 256 {
		dir := filepath.Join(root, fmt.Sprintf("%02x", i))
		if _, err := os.Stat(dir); err == nil {
			continue
		}
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create blob dir: %w", err)
		}
		created = true
	}
	if created {
		if err := syncDir(root); err != nil {
			return nil, err
		}
		if err := syncDir(filepath.Dir(root)); err != nil {
			return nil, err
		}
	}
	return &fileBlobs{root: root}, nil
}

// Create writes r to a temporary file in the blob's directory, fsyncs it,
// renames it to its final name and fsyncs the directory, so a blob either
// exists complete or not at all, even across a crash.
func (b *fileBlobs) Create(ctx context.Context, r io.Reader) (BlobInfo, error) {
	id, err := newBlobID()
	if err != nil {
		return BlobInfo{}, err
	}
	dir := filepath.Dir(b.path(id))
	tmp, err := os.CreateTemp(dir, blobTempPrefix+id+"-*")
	if err != nil {
		return BlobInfo{}, fmt.Errorf("create blob temp file: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	buf := make([]byte, 256<<10)
	n, err := io.CopyBuffer(io.MultiWriter(tmp, h), ctxReader{ctx: ctx, r: r}, buf)
	if err != nil {
		return BlobInfo{}, fmt.Errorf("write blob: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return BlobInfo{}, fmt.Errorf("sync blob: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return BlobInfo{}, fmt.Errorf("close blob: %w", err)
	}
	if err := os.Rename(tmp.Name(), b.path(id)); err != nil {
		return BlobInfo{}, fmt.Errorf("rename blob: %w", err)
	}
	ok = true
	if err := syncDir(dir); err != nil {
		_ = os.Remove(b.path(id))
		return BlobInfo{}, err
	}
	return BlobInfo{ID: id, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// Open opens blob id for reading.
func (b *fileBlobs) Open(id string) (io.ReadSeekCloser, error) {
	if err := checkBlobID(id); err != nil {
		return nil, err
	}
	f, err := os.Open(b.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob: %w", err)
	}
	return f, nil
}

// Remove deletes blob id; a missing blob is not an error.
func (b *fileBlobs) Remove(id string) error {
	if err := checkBlobID(id); err != nil {
		return err
	}
	if err := os.Remove(b.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove blob: %w", err)
	}
	return nil
}

// path returns the file path of blob id.
func (b *fileBlobs) path(id string) string {
	return filepath.Join(b.root, id[:2], id)
}

// newBlobID returns a fresh random blob id.
func newBlobID() (string, error) {
	var raw [blobIDBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate blob id: %w", err)
	}
	return hex.EncodeToString(raw[:]), nil
}

// checkBlobID rejects ids that are not ours, so an id read from a damaged
// index can never name a file outside the blob tree.
func checkBlobID(id string) error {
	if len(id) != 2*blobIDBytes {
		return fmt.Errorf("blob id %q: %w", id, ErrCorrupt)
	}
	if _, err := hex.DecodeString(id); err != nil {
		return fmt.Errorf("blob id %q: %w", id, ErrCorrupt)
	}
	return nil
}

// syncDir fsyncs a directory so entries created or renamed in it survive a
// crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
