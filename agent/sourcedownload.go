package agent

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/vodfleet/vodfleet/internal/transfer"
)

// sourceRetries is how many times one task attempt retries a failed
// source download in place (each retry resumes where the last stopped)
// before the task fails and the coordinator retries it, maybe elsewhere.
const sourceRetries = 3

// maxResumes bounds how many stalls one task attempt resumes from (each
// resume must have made progress).
const maxResumes = 5

// errDownloadStalled: no bytes for the idle timeout.
var errDownloadStalled = errors.New("source download stalled")

// transferOptions returns the transfer options a source with scheme is
// fetched with: the agent's source policy (every connection goes through
// its dialer) and only the credentials of that scheme, read from the
// agent's own configuration.
func (c *sourceCache) transferOptions(scheme string) transfer.Options {
	o := c.topts
	o.Policy = c.policy
	switch scheme {
	case "ftp":
		o.CredentialsFile = c.ftpCreds
	case "http", "https":
		o.CredentialsFile = c.httpCreds
	default:
		o.CredentialsFile = ""
	}
	if scheme != "sftp" {
		o.SSHKeyFile, o.KnownHostsFile = "", ""
	}
	return o
}

// fetchURL downloads the source u to local with transfer.Fetch: an
// interrupted download is resumed from the partial file left beside local
// (HTTP Range with If-Range, S3 ranged GET, SFTP offset, FTP REST), and
// local appears only once the size, and the MD5 where the server offers
// one, matched. A source larger than the policy's MaxBytes is refused
// before any byte is read. Errors are raw; the caller classifies them.
func (c *sourceCache) fetchURL(ctx context.Context, u *url.URL, local string) error {
	opts := c.transferOptions(u.Scheme)
	src, err := transfer.ParseSource(u.String(), opts)
	if err != nil {
		return err
	}
	defer src.Close()
	info, err := src.Stat(ctx)
	if err != nil {
		return err
	}
	if err := c.policy.CheckSize(info.Size); err != nil {
		return err
	}
	for try := 0; ; try++ {
		progressed, err := c.fetchWatched(ctx, src, local, opts)
		if err == nil || ctx.Err() != nil || !errors.Is(err, errDownloadStalled) || !progressed || try >= maxResumes {
			return err
		}
		c.log.Info("source download stalled, resuming", "source", src.String())
	}
}

// fetchWatched runs one transfer.Fetch, cancelling it with
// errDownloadStalled when no byte arrives for c.idle. progressed reports
// whether any byte arrived.
func (c *sourceCache) fetchWatched(ctx context.Context, src transfer.Source, local string, opts transfer.Options) (progressed bool, err error) {
	fctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(c.idle, func() { cancel(errDownloadStalled) })
	defer watchdog.Stop()
	before := partBytes(local)
	_, err = transfer.Fetch(fctx, src, local, func(int64, int64) { watchdog.Reset(c.idle) }, opts)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(fctx), errDownloadStalled) {
		return partBytes(local) > before, fmt.Errorf("%w: no data for %s", errDownloadStalled, seconds(c.idle))
	}
	return false, err
}

// seconds formats d as seconds ("60s", "2.5s") for task errors.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// partBytes is the size of local's partial download, 0 if none.
func partBytes(local string) int64 {
	st, err := os.Stat(local + transfer.PartSuffix)
	if err != nil {
		return 0
	}
	return st.Size()
}
