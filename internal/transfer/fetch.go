package transfer

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// PartSuffix is appended to Fetch's local path while a download is in
// progress. The partial file is the resume state: a later Fetch of the
// same source to the same path continues from its end.
const PartSuffix = ".part"

// versionSuffix names the file beside the partial one that records the
// source version (ETag, Last-Modified, mtime) its bytes came from.
const versionSuffix = ".version"

// Fetch downloads src to localPath. It writes localPath+PartSuffix and
// renames it into place only after the size (and the MD5, when the
// source offers one) matched, so localPath is never a partial or corrupt
// file. An existing partial file is resumed from its end (HTTP Range with
// If-Range, S3 ranged GET, SFTP offset, FTP REST); if the server cannot
// resume or the file changed, the download restarts from zero. Failed
// attempts are retried with backoff like Push, each resuming where the
// previous one stopped. progress, if not nil, receives bytes on disk
// against the total. It returns what the source announced.
func Fetch(ctx context.Context, src Source, localPath string, progress Progress, opts Options) (Info, error) {
	if err := opts.Validate(); err != nil {
		return Info{}, err
	}
	opts = opts.withDefaults()
	var info Info
	err := retry(ctx, opts, src.String(), func() error {
		var err error
		info, err = fetchOnce(ctx, src, localPath, progress)
		return err
	})
	return info, err
}

// fetchOnce is one attempt of Fetch.
func fetchOnce(ctx context.Context, src Source, localPath string, progress Progress) (Info, error) {
	part := localPath + PartSuffix
	info, err := src.Stat(ctx)
	if err != nil {
		return Info{}, err
	}
	have, err := partSize(part, info.Size)
	if err != nil {
		return info, err
	}
	// The partial file is only a prefix of the source if the source did
	// not change since it was written: compare the version recorded then.
	if have > 0 && info.Version != "" {
		if old, err := os.ReadFile(part + versionSuffix); err != nil || string(old) != info.Version {
			if err := os.Truncate(part, 0); err != nil {
				return info, err
			}
			have = 0
		}
	}
	if info.Version != "" {
		if err := os.WriteFile(part+versionSuffix, []byte(info.Version), 0o644); err != nil {
			return info, err
		}
	}
	if have < info.Size {
		if err := download(ctx, src, info, part, have, progress); err != nil {
			return info, err
		}
	} else if progress != nil {
		progress(have, info.Size)
	}
	if err := verify(part, info); err != nil {
		os.Remove(part) // the next attempt starts clean
		return info, err
	}
	os.Remove(part + versionSuffix)
	return info, os.Rename(part, localPath)
}

// partSize returns the length of the partial file, truncating one longer
// than the source (it cannot be a prefix of it).
func partSize(part string, total int64) (int64, error) {
	st, err := os.Stat(part)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if st.Size() > total {
		return 0, os.Truncate(part, 0)
	}
	return st.Size(), nil
}

// download appends the source's bytes from have on to part.
func download(ctx context.Context, src Source, info Info, part string, have int64, progress Progress) error {
	body, start, err := src.Open(ctx, have, info)
	if err != nil {
		return err
	}
	defer body.Close()
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(start); err != nil {
		return err
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return err
	}
	done := start
	r := &countingReader{r: io.LimitReader(body, info.Size-start), ctx: ctx, progress: func(n int64) {
		done += n
		if progress != nil {
			progress(done, info.Size)
		}
	}}
	if _, err := io.CopyBuffer(f, r, make([]byte, 1<<20)); err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	return f.Close()
}

// verify checks part against the size and MD5 the source announced.
func verify(part string, info Info) error {
	f, err := os.Open(part)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() != info.Size {
		return fmt.Errorf("%w: got %d bytes, server announced %d", ErrMismatch, st.Size(), info.Size)
	}
	if info.MD5 == "" {
		return nil
	}
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != info.MD5 {
		return fmt.Errorf("%w: md5 %s, server announced %s", ErrMismatch, got, info.MD5)
	}
	return nil
}
