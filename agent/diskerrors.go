package agent

import (
	"errors"
	"fmt"
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

// diskError returns err described as a failure of the agent's disk while
// writing path ("no space left on device writing PATH: ..."), or err
// unchanged when it is not one. It recognises the errno in err's chain
// and ffmpeg's ErrNoSpace (ffmpeg only prints the errno text).
func diskError(err error, path string) error {
	switch {
	case err == nil, errors.Is(err, errNoSpace), errors.Is(err, errDiskWrite):
		return err
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, ffmpeg.ErrNoSpace):
		return fmt.Errorf("%w writing %s: %w", errNoSpace, path, err)
	case errors.Is(err, syscall.EIO), errors.Is(err, syscall.EROFS):
		return fmt.Errorf("%w writing %s: %w", errDiskWrite, path, err)
	}
	return err
}
