// Package ffmpeg wraps the ffprobe and ffmpeg binaries for the agent: it
// parses probe output, builds encoder argument lists, parses -progress
// output and runs the encoder in its own process group so a cancelled task
// kills every process it started. A Watchdog carried by the context kills
// a run whose -progress output stops advancing (ErrStalled), so a hung
// input or disk cannot hold a task until its hard time limit.
//
// Argument lists are always passed to exec directly, never through a shell,
// so inputs and paths need no quoting.
//
// Timeline contract: every video and audio encode of the same source writes
// CMAF segments on one shared timeline that starts at zero. Segment k of a
// track begins exactly where segment k-1 ended (tfdt is contiguous), the
// first video frame is presented at t=0 (negative composition offsets, no
// empty edit), and audio is padded with silence when it starts after the
// source's first packet, so tracks from separate ffmpeg runs stay in sync.
package ffmpeg
