package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// blobTempPrefix starts the names of the temp files Create writes before
// renaming them to their blob id.
const blobTempPrefix = ".tmp-"

// WalkBlobs reports every blob file under the fan-out directories. Temp
// files and names that are not blob ids are skipped, so foreign files are
// never offered for removal.
func (b *fileBlobs) WalkBlobs(ctx context.Context, fn func(id string, size int64, modTime time.Time) error) error {
	return b.walk(ctx, func(_, name string, fi fs.FileInfo) error {
		if strings.HasPrefix(name, blobTempPrefix) || checkBlobID(name) != nil {
			return nil
		}
		return fn(name, fi.Size(), fi.ModTime())
	})
}

// RemoveTemps removes temp files of interrupted Creates modified before
// cutoff (all of them for a zero cutoff).
func (b *fileBlobs) RemoveTemps(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	err := b.walk(ctx, func(dir, name string, fi fs.FileInfo) error {
		if !strings.HasPrefix(name, blobTempPrefix) || (!cutoff.IsZero() && !fi.ModTime().Before(cutoff)) {
			return nil
		}
		err := os.Remove(filepath.Join(dir, name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove blob temp file: %w", err)
		}
		n++
		return nil
	})
	return n, err
}

// walk calls fn for every regular file in the 256 fan-out directories, with
// the directory it is in. Files that vanish while walking are skipped.
func (b *fileBlobs) walk(ctx context.Context, fn func(dir, name string, fi fs.FileInfo) error) error {
	for i := range 256 {
		if err := ctx.Err(); err != nil {
			return err
		}
		dir := filepath.Join(b.root, fmt.Sprintf("%02x", i))
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("list blob dir: %w", err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("stat blob file: %w", err)
			}
			if err := fn(dir, e.Name(), fi); err != nil {
				return err
			}
		}
	}
	return nil
}
