package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
)

// Sentinel errors of the agent's own disk. Both are retryable: the
// coordinator retries the task, preferably on another agent, and this
// agent, having deleted the failed attempt's files, takes its next task.
var (
	// errNoSpace: the work dir's file system is full (ENOSPC, EDQUOT).
	errNoSpace = errors.New("no space left on device")
	// errDiskWrite: a write to the work dir failed (EIO from a dying
	// disk, a file system remounted read-only).
	errDiskWrite = errors.New("disk write error")
)

// diskFailure is a failed write to the agent's disk. Its message names the
// kind and the file ("no space left on device writing /var/.../source.part"),
// not the layers the error passed through; errors.Is matches the kind and
// the underlying error.
type diskFailure struct {
	kind error
	path string
	err  error
	// detail adds err's text to the message (when it says more than the
	// kind and path, e.g. ffmpeg's stderr line).
	detail bool
}

func (d *diskFailure) Error() string {
	if !d.detail {
		return d.kind.Error() + " writing " + d.path
	}
	return fmt.Sprintf("%s writing %s: %s", d.kind, d.path, d.err)
}

// Unwrap returns the kind and the underlying error.
func (d *diskFailure) Unwrap() []error { return []error{d.kind, d.err} }

// diskError returns err as a failure of the agent's disk while writing dir
// (or the file err names), or err unchanged when it is not one. It
// recognises the errno in err's chain and ffmpeg's ErrNoSpace (ffmpeg only
// prints the errno's text, so its stderr line is kept in the message).
func diskError(err error, dir string) error {
	var kind error
	switch {
	case err == nil, errors.Is(err, errNoSpace), errors.Is(err, errDiskWrite):
		return err
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, ffmpeg.ErrNoSpace):
		kind = errNoSpace
	case errors.Is(err, syscall.EIO), errors.Is(err, syscall.EROFS):
		kind = errDiskWrite
	default:
		return err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		// The errno's text is the kind's; the file says the rest.
		return &diskFailure{kind: kind, path: pe.Path, err: err}
	}
	return &diskFailure{kind: kind, path: dir, err: err, detail: true}
}

// minFreeAfterWrite is the free space below which the agent's disk counts
// as full after ffmpeg wrote to it. A write that fails for lack of space
// leaves less than a block or page free.
const minFreeAfterWrite = 64 << 10

// fullDisk returns a disk failure when the file system holding dir has
// less than minFreeAfterWrite bytes free, else nil; cause is what the task
// failed with otherwise (nil when it did not fail). It exists because
// ffmpeg does not always say so: its HLS muxer exits 0, silent even at
// -v error, leaving an empty playlist or truncated segments when a write
// fails with ENOSPC, so the agent checks the disk before it uploads
// anything ffmpeg wrote and when a task fails.
func fullDisk(dir string, cause error) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return nil
	}
	blocks := st.Bavail
	if syscall.Geteuid() == 0 {
		blocks = st.Bfree // root may write into the reserved blocks
	}
	free := int64(blocks) * st.Bsize
	if free >= minFreeAfterWrite {
		return nil
	}
	if cause == nil {
		cause = fmt.Errorf("%d bytes left after writing the outputs, which may be truncated", free)
	}
	return &diskFailure{kind: errNoSpace, path: dir, err: cause, detail: true}
}
