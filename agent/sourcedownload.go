package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/urlpolicy"
)

// downloadIdleTimeout abandons a download that received no bytes for this
// long, so a stalled origin cannot hold a slot until the task timeout. The
// partial file stays and the next attempt resumes it.
const downloadIdleTimeout = time.Minute

// maxResumes bounds how many times one task attempt resumes an interrupted
// download (each resume must have made progress).
const maxResumes = 5

// sourceDownload fetches one URL source to a local file over HTTP(S),
// through a client that enforces the source policy on every connection
// and redirect. It writes part (the file plus ".part") and renames it to
// the final name when complete. An interrupted download is resumed with a
// Range request guarded by If-Range, so a source that changed meanwhile is
// fetched again from the start instead of being spliced.
type sourceDownload struct {
	client *http.Client
	policy urlpolicy.Policy
	url    *url.URL
	local  string
	log    hclog.Logger
	// idle is downloadIdleTimeout (shorter in tests).
	idle time.Duration
}

// partName and validatorName are the in-progress file and the validator
// (ETag or Last-Modified) of the response it came from.
func (d *sourceDownload) partName() string      { return d.local + ".part" }
func (d *sourceDownload) validatorName() string { return d.local + ".part.validator" }

// run downloads until the file is complete, resuming after interruptions
// that made progress. Errors are raw; the caller classifies them.
func (d *sourceDownload) run(ctx context.Context) error {
	for try := 0; ; try++ {
		progressed, err := d.once(ctx)
		if err == nil {
			_ = os.Remove(d.validatorName())
			if err := os.Rename(d.partName(), d.local); err != nil {
				return fmt.Errorf("source file: %w", err)
			}
			return nil
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		resumable := errors.Is(err, errDownloadInterrupted) || errors.Is(err, errDownloadStalled)
		if !resumable || !progressed || try >= maxResumes {
			return err
		}
		d.log.Info("source download interrupted, resuming", "error", err)
	}
}

// resumePoint returns how many bytes of the part file can be kept and the
// validator to send with If-Range; (0, "") means start over.
func (d *sourceDownload) resumePoint() (int64, string) {
	v, err := os.ReadFile(d.validatorName())
	if err != nil || len(v) == 0 {
		return 0, ""
	}
	st, err := os.Stat(d.partName())
	if err != nil {
		return 0, ""
	}
	return st.Size(), string(v)
}

// once makes one request and copies its body. progressed reports whether
// the part file grew (or was reset), so a retry is worth it.
func (d *sourceDownload) once(ctx context.Context) (progressed bool, err error) {
	offset, validator := d.resumePoint()
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, d.url.String(), nil)
	if err != nil {
		return false, fmt.Errorf("%w: %w", urlpolicy.ErrInvalidURL, err)
	}
	// Compressed transfer would make byte ranges and sizes meaningless.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "vodfleet-agent")
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
		req.Header.Set("If-Range", validator)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	limit := d.policy
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	switch {
	case resp.StatusCode == http.StatusPartialContent && offset > 0:
		start, total := contentRange(resp.Header.Get("Content-Range"))
		if start != offset {
			d.reset()
			return true, fmt.Errorf("%w: server sent bytes from %d, asked from %d", errDownloadInterrupted, start, offset)
		}
		if err := d.policy.CheckSize(total); err != nil {
			return false, err
		}
		if limit.MaxBytes > 0 {
			limit.MaxBytes -= offset
		}
		flags = os.O_WRONLY | os.O_APPEND
		d.log.Debug("resuming source download", "offset", offset)
	case resp.StatusCode == http.StatusOK:
		offset = 0
		if err := d.policy.CheckSize(resp.ContentLength); err != nil {
			return false, err
		}
		if err := d.saveValidator(resp.Header); err != nil {
			return false, err
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && offset > 0:
		if _, total := contentRange(resp.Header.Get("Content-Range")); total == offset {
			return true, nil // the part was complete already
		}
		d.reset()
		return true, fmt.Errorf("%w: server refused to resume at %d", errDownloadInterrupted, offset)
	default:
		return false, &httpStatusError{code: resp.StatusCode, status: resp.Status}
	}
	f, err := os.OpenFile(d.partName(), flags, 0o644)
	if err != nil {
		return false, fmt.Errorf("source file: %w", err)
	}
	n, err := d.copy(f, limit.LimitReader(resp.Body), cancel)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("source file: %w", cerr)
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, urlpolicy.ErrTooLarge):
		return false, fmt.Errorf("%w: more than %d bytes", urlpolicy.ErrTooLarge, d.policy.MaxBytes)
	case errors.Is(context.Cause(rctx), errDownloadStalled):
		return n > 0, fmt.Errorf("%w: no data for %s", errDownloadStalled, d.idle)
	}
	return n > 0, err
}

// copy copies body to f, cancelling the request with errDownloadStalled
// when no byte arrives for d.idle. Read failures wrap
// errDownloadInterrupted; write failures are local and returned as they
// are.
func (d *sourceDownload) copy(f *os.File, body io.Reader, cancel context.CancelCauseFunc) (int64, error) {
	watchdog := time.AfterFunc(d.idle, func() { cancel(errDownloadStalled) })
	defer watchdog.Stop()
	buf := make([]byte, 256<<10)
	var n int64
	for {
		r, rerr := body.Read(buf)
		if r > 0 {
			watchdog.Reset(d.idle)
			if _, err := f.Write(buf[:r]); err != nil {
				return n, fmt.Errorf("source file: %w", err)
			}
			n += int64(r)
		}
		switch {
		case rerr == io.EOF:
			return n, nil
		case errors.Is(rerr, urlpolicy.ErrTooLarge):
			return n, rerr
		case rerr != nil:
			var ue *url.Error
			if errors.As(rerr, &ue) {
				rerr = ue.Err
			}
			return n, fmt.Errorf("%w: %w", errDownloadInterrupted, rerr)
		}
	}
}

// saveValidator records what If-Range needs to resume this response: a
// strong ETag, else Last-Modified. Without either the download cannot be
// resumed safely and the validator file is removed.
func (d *sourceDownload) saveValidator(h http.Header) error {
	v := h.Get("ETag")
	if v == "" || strings.HasPrefix(v, "W/") {
		v = h.Get("Last-Modified")
	}
	if v == "" {
		if err := os.Remove(d.validatorName()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("source file: %w", err)
		}
		return nil
	}
	if err := os.WriteFile(d.validatorName(), []byte(v), 0o644); err != nil {
		return fmt.Errorf("source file: %w", err)
	}
	return nil
}

// reset discards the partial download.
func (d *sourceDownload) reset() {
	_ = os.Remove(d.partName())
	_ = os.Remove(d.validatorName())
}

// contentRange parses "bytes START-END/TOTAL" or "bytes */TOTAL"; unknown
// parts are -1.
func contentRange(h string) (start, total int64) {
	start, total = -1, -1
	spec, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return start, total
	}
	rng, size, ok := strings.Cut(spec, "/")
	if !ok {
		return start, total
	}
	if n, err := strconv.ParseInt(size, 10, 64); err == nil {
		total = n
	}
	if first, _, ok := strings.Cut(rng, "-"); ok {
		if n, err := strconv.ParseInt(first, 10, 64); err == nil {
			start = n
		}
	}
	return start, total
}
