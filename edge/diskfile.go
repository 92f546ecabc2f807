package edge

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// metaSuffix names the JSON sidecar next to each disk tier data file.
const metaSuffix = ".meta"

// diskMeta is the sidecar's content: the object's metadata, for operators
// inspecting the cache directory.
type diskMeta struct {
	Key          string    `json:"key"`
	Size         int64     `json:"size"`
	ContentType  string    `json:"content_type"`
	ETag         string    `json:"etag"`
	LastModified time.Time `json:"last_modified,omitzero"`
	Expires      time.Time `json:"expires,omitzero"`
}

// writeObjectFiles writes obj's bytes to path and its metadata to the
// sidecar, each atomically (temporary file, then rename), so a reader
// never opens a partial file. Nothing is fsynced: after a crash the
// directory is emptied anyway.
func writeObjectFiles(path, key string, obj *Object) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	meta, err := json.Marshal(diskMeta{
		Key: key, Size: obj.Size(), ContentType: obj.contentType, ETag: obj.etag,
		LastModified: obj.lastModified, Expires: obj.expires,
	})
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path+metaSuffix, meta); err != nil {
		return err
	}
	if err := writeFileAtomic(path, obj.data); err != nil {
		os.Remove(path + metaSuffix)
		return err
	}
	return nil
}

// writeFileAtomic writes data to a temporary file in path's directory and
// renames it over path.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := firstErr(werr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
