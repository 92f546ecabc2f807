package transfer

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
)

// fileDest is a directory on a local or mounted file system. It offers
// MD5s (computed on Stat), so Push compares content and not only sizes.
type fileDest struct {
	dir string
}

func newFileDest(u *url.URL) (*fileDest, error) {
	if u.Host != "" && u.Host != "localhost" {
		return nil, fmt.Errorf("%w: file urls take no host (file:///DIR)", ErrInvalidURL)
	}
	if u.Path == "" || !filepath.IsAbs(u.Path) {
		return nil, fmt.Errorf("%w: file url needs an absolute directory", ErrInvalidURL)
	}
	return &fileDest{dir: filepath.Clean(u.Path)}, nil
}

func (d *fileDest) String() string { return "file://" + d.dir }

// Close has nothing to release.
func (d *fileDest) Close() error { return nil }

func (d *fileDest) Stat(ctx context.Context, rel string) (Info, error) {
	p, err := joinRel(d.dir, rel)
	if err != nil {
		return Info{}, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, fmt.Errorf("%w: %s", ErrNotFound, rel)
	}
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	h := md5.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Info{}, err
	}
	return Info{Size: n, MD5: hex.EncodeToString(h.Sum(nil))}, nil
}

// Put writes a temporary file in the target directory, syncs it and
// renames it over the target, so readers never see a partial file.
func (d *fileDest) Put(ctx context.Context, rel string, body io.ReaderAt, size int64, _ Meta, progress func(int64)) error {
	p, err := joinRel(d.dir, rel)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	r := &countingReader{r: io.NewSectionReader(body, 0, size), ctx: ctx, progress: progress}
	if _, err := io.Copy(tmp, r); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return err
	}
	ok = true
	return nil
}
