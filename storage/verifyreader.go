package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// verifyReader hashes a whole object while it is read sequentially and
// replaces the final io.EOF with ErrCorrupt when size or SHA-256 differ from
// the record. It lets full downloads be verified in a single pass; readers
// must treat data as untrusted until they see the clean io.EOF.
type verifyReader struct {
	r    io.Reader
	obj  Object
	h    hash.Hash
	n    int64
	done bool
}

// newVerifyReader wraps r, which must yield obj's content from offset 0.
func newVerifyReader(obj Object, r io.Reader) *verifyReader {
	return &verifyReader{r: r, obj: obj, h: sha256.New()}
}

// Read reads and hashes; at EOF it checks the content against the record.
func (v *verifyReader) Read(p []byte) (int, error) {
	if v.done {
		return 0, io.EOF
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.n > v.obj.Size {
		return n, fmt.Errorf("object %q longer than %d bytes: %w", v.obj.Path, v.obj.Size, ErrCorrupt)
	}
	if errors.Is(err, io.EOF) {
		if err := v.check(); err != nil {
			return n, err
		}
		v.done = true
	}
	return n, err
}

// check compares what was read so far with the record; callers that stop
// reading at exactly the recorded size call it instead of reading to EOF.
func (v *verifyReader) check() error {
	return checkContent(v.obj, v.n, v.h)
}

// checkContent compares a content length and hash with obj's record.
func checkContent(obj Object, n int64, h hash.Hash) error {
	if n != obj.Size {
		return fmt.Errorf("object %q has %d bytes, recorded %d: %w", obj.Path, n, obj.Size, ErrCorrupt)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != obj.SHA256 {
		return fmt.Errorf("object %q sha256 %s, recorded %s: %w", obj.Path, sum, obj.SHA256, ErrCorrupt)
	}
	return nil
}
