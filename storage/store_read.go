package storage

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// Open returns the object at path and a reader of its content; the caller
// closes the reader. The content length is checked against the record
// (ErrCorrupt on mismatch) but the hash is not; use OpenVerified for that,
// or hash while reading. A missing object is reported as ErrNotFound.
func (s *Store) Open(path string) (Object, io.ReadSeekCloser, error) {
	missing := ""
	for {
		obj, err := s.Stat(path)
		if err != nil {
			return Object{}, nil, err
		}
		if obj.BlobID == missing {
			return Object{}, nil, s.noteCorrupt(fmt.Errorf("open %q: blob %s is missing: %w", path, missing, ErrCorrupt))
		}
		rc, err := s.blobs.Open(obj.BlobID)
		if errors.Is(err, ErrNotFound) {
			// The object may have been replaced, and its old blob removed,
			// between the lookup and the open: look it up again. If it
			// still names the same blob, the blob is really gone.
			missing = obj.BlobID
			continue
		}
		if err != nil {
			return Object{}, nil, fmt.Errorf("open %q: %w", path, err)
		}
		if err := checkSize(obj, rc); err != nil {
			_ = rc.Close()
			return Object{}, nil, s.noteCorrupt(err)
		}
		return obj, rc, nil
	}
}

// OpenVerified is Open that first reads the whole content and checks its
// SHA-256 against the record, returning ErrCorrupt on mismatch, then rewinds
// the reader. It reads the object twice; prefer hashing while streaming for
// large whole-object reads.
func (s *Store) OpenVerified(path string) (Object, io.ReadSeekCloser, error) {
	obj, rc, err := s.Open(path)
	if err != nil {
		return Object{}, nil, err
	}
	if err := verifyBlob(obj, rc); err != nil {
		_ = rc.Close()
		return Object{}, nil, s.noteCorrupt(err)
	}
	return obj, rc, nil
}

// verifyBlob reads rc from the start, checks it against obj's size and
// SHA-256 (ErrCorrupt on mismatch) and rewinds it.
func verifyBlob(obj Object, rc io.ReadSeeker) error {
	if _, err := rc.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("verify %q: rewind: %w", obj.Path, err)
	}
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return fmt.Errorf("verify %q: read: %w", obj.Path, err)
	}
	if err := checkContent(obj, n, h); err != nil {
		return err
	}
	if _, err := rc.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("verify %q: rewind: %w", obj.Path, err)
	}
	return nil
}

// checkSize compares the blob's length with the record and rewinds it.
func checkSize(obj Object, rc io.ReadSeeker) error {
	n, err := rc.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("open %q: size blob: %w", obj.Path, err)
	}
	if n != obj.Size {
		return fmt.Errorf("open %q: blob has %d bytes, recorded %d: %w", obj.Path, n, obj.Size, ErrCorrupt)
	}
	if _, err := rc.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("open %q: rewind blob: %w", obj.Path, err)
	}
	return nil
}
