package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
)

// TestDiskError: disk failures anywhere in an error's chain become one
// clear, retryable reason naming the file; other errors pass unchanged.
func TestDiskError(t *testing.T) {
	write := &fs.PathError{Op: "write", Path: "/work/sources/k/source.part", Err: syscall.ENOSPC}
	cases := []struct {
		err  error
		kind error
		msg  string
	}{
		{fmt.Errorf("reading http://o/x: %w", write), errNoSpace, "no space left on device writing /work/sources/k/source.part"},
		{fmt.Errorf("ffmpeg: av_interleaved_write_frame(): No space left on device: %w", ffmpeg.ErrNoSpace), errNoSpace,
			"no space left on device writing /work/tasks/t-1: ffmpeg: av_interleaved_write_frame(): No space left on device: no space left on device"},
		{&fs.PathError{Op: "write", Path: "/work/tasks/t-1/out/seg_00001.m4s", Err: syscall.EIO}, errDiskWrite,
			"disk write error writing /work/tasks/t-1/out/seg_00001.m4s"},
		{fmt.Errorf("upload: %w", syscall.EROFS), errDiskWrite, "disk write error writing /work/tasks/t-1: upload: read-only file system"},
	}
	for _, c := range cases {
		got := diskError(c.err, "/work/tasks/t-1")
		if !errors.Is(got, c.kind) || !errors.Is(got, c.err) || got.Error() != c.msg {
			t.Errorf("diskError(%v) = %q", c.err, got)
		}
		if errors.Is(got, errPermanent) || ffmpeg.IsPermanent(got) {
			t.Errorf("%q is permanent; a disk failure must be retried", got)
		}
		if again := diskError(got, "/elsewhere"); again != got {
			t.Errorf("wrapped twice: %q", again)
		}
	}
	other := fmt.Errorf("ffmpeg: %w", ffmpeg.ErrFailed)
	if got := diskError(other, "/x"); got != other {
		t.Errorf("unrelated error changed: %q", got)
	}
	if diskError(nil, "/x") != nil {
		t.Error("nil became an error")
	}
}
