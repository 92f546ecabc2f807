// Package agent runs on encode servers: it holds a session with the leader
// coordinator, runs the tasks it is leased (ffprobe, ffmpeg, packaging),
// reports progress that renews the leases, and uploads outputs to storage.
package agent

import (
	"errors"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	"github.com/vodfleet/vodfleet/internal/ids"
)

// DefaultStallTimeout is Config.StallTimeout's default: ffmpeg reports
// progress twice a second and a healthy download delivers bytes
// continuously, so a minute of silence is a hang, not a slow machine.
const DefaultStallTimeout = time.Minute

// Config holds the agent settings.
type Config struct {
	// ID names the agent to the coordinator; leases are bound to it, so it
	// must be stable across restarts of the same machine. Defaults to the
	// host name.
	ID string
	// Coordinators lists coordinator gRPC addresses; the agent finds the
	// leader among them (followers redirect).
	Coordinators []string
	// Slots is how many tasks run at once.
	Slots int
	// WorkDir holds downloaded sources and task outputs before upload.
	WorkDir string
	// FFmpeg and FFprobe are the binaries to run.
	FFmpeg, FFprobe string
	// StorageAddress overrides the storage addresses the coordinator gives
	// in leases, for agents that reach storage through another network: a
	// bare address replaces every node's, "id=address,..." (see
	// storage.ParseNodes) replaces the listed nodes'.
	StorageAddress string
	// ProgressInterval is how often running tasks report progress, which is
	// also what keeps their leases alive.
	ProgressInterval time.Duration
	// ReconnectMin and ReconnectMax bound the reconnect backoff.
	ReconnectMin, ReconnectMax time.Duration
	// Labels are operator capability labels (e.g. gpu=nvidia) announced
	// with the encoder labels the agent detects in its ffmpeg; tasks only
	// go to agents with every label they require.
	Labels map[string]string
	// DialOptions secure every connection the agent opens (coordinators
	// and storage): TLS with the agent's certificate, or an agent token.
	// Required, from security.Security.DialOptions, so plaintext is never
	// an accident.
	DialOptions []grpc.DialOption
	// DrainTimeout is how long a stopping agent lets running tasks finish
	// before it hands them back (see Agent.Run).
	DrainTimeout time.Duration

	// AllowPrivateSources lets URL sources connect to loopback, private,
	// link-local and other non-public addresses. Off in production: a
	// user's URL must not reach the fleet's own network (cloud metadata,
	// etcd, storage). The agent checks every address it connects to,
	// after name resolution and on every redirect, so this holds even
	// when the coordinator's submit-time check was passed with a name.
	AllowPrivateSources bool
	// AllowedSourceCIDRs lists non-public networks URL sources may reach
	// anyway, e.g. an internal media origin's "10.1.0.0/16".
	AllowedSourceCIDRs []string
	// MaxSourceBytes stops a source download (URL or storage) past this
	// many bytes with a permanent "source too large" failure; 0 means no
	// limit. It bounds the disk and bandwidth one job can take.
	MaxSourceBytes int64
	// SFTPKeyFile is the private key sftp:// sources log in with, and
	// SFTPKnownHostsFile the known_hosts file their host keys must match.
	// Secrets stay on the agent: job records carry only the user name.
	SFTPKeyFile, SFTPKnownHostsFile string
	// FTPCredentialsFile and HTTPCredentialsFile are netrc-style files
	// ("machine HOST[:PORT] login USER password SECRET") for ftp:// and
	// http(s):// sources; empty means anonymous. s3:// sources use the
	// standard AWS chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
	// AWS_REGION, AWS_ENDPOINT_URL) of the agent's environment.
	FTPCredentialsFile, HTTPCredentialsFile string
	// TaskTimeout bounds one task attempt, download included; when it
	// passes, ffmpeg's whole process group is killed and the task fails
	// permanently with "task timed out after ...". 0 derives it per task:
	// the larger of 10 minutes and 20 times the source duration.
	TaskTimeout time.Duration
	// StallTimeout is how long a task may make no progress before it is
	// stopped and fails with a retryable "stalled" error, so the
	// coordinator retries it, preferably on another agent: an ffmpeg whose
	// -progress out_time (or frame count) has not advanced for this long
	// is killed with its process group, and a source download that
	// received no byte for this long is abandoned (resumed in place at
	// most a few times when it had made progress). It catches hangs long
	// before TaskTimeout: a network read that never returns, a wedged
	// disk, a filter that loops. Default 60s.
	StallTimeout time.Duration
	// Destinations configures transfer tasks (credentials, address policy).
	Destinations DestinationConfig
	// HWAccel enables a hardware encode path (nvenc, vaapi, qsv): H.264
	// and HEVC renditions are then encoded on the device (see
	// ffmpeg.HWAccel for the arguments). The agent test-encodes with it
	// at start and refuses to start when the H.264 encoder does not work.
	// Empty is software only, and hardware encoders are not announced.
	HWAccel ffmpeg.HWAccel
	// Prober finds the encoders the agent announces; nil runs FFmpeg.
	// Tests inject a capability list through it.
	Prober EncoderProber
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.ID == "" {
		h, _ := os.Hostname()
		c.ID = sanitizeID(h)
	}
	if c.Slots == 0 {
		c.Slots = 2
	}
	if c.FFmpeg == "" {
		c.FFmpeg = "ffmpeg"
	}
	if c.FFprobe == "" {
		c.FFprobe = "ffprobe"
	}
	if c.ProgressInterval == 0 {
		c.ProgressInterval = time.Second
	}
	if c.ReconnectMin == 0 {
		c.ReconnectMin = 200 * time.Millisecond
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = 5 * time.Second
	}
	if c.Prober == nil {
		c.Prober = ffmpegProber{bin: c.FFmpeg}
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = 5 * time.Minute
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = DefaultStallTimeout
	}
	return c
}

// Validate reports invalid settings.
func (c Config) Validate() error {
	var errs []error
	if !ids.Valid(c.ID) {
		errs = append(errs, fmt.Errorf("agent id %q must be 1-64 of [A-Za-z0-9_-]", c.ID))
	}
	if len(c.Coordinators) == 0 {
		errs = append(errs, errors.New("at least one coordinator address is required"))
	}
	if c.Slots < 1 || c.Slots > 256 {
		errs = append(errs, fmt.Errorf("slots %d outside 1..256", c.Slots))
	}
	if c.WorkDir == "" {
		errs = append(errs, errors.New("work dir is required"))
	}
	if c.ProgressInterval <= 0 || c.ReconnectMin <= 0 || c.ReconnectMax < c.ReconnectMin {
		errs = append(errs, errors.New("intervals must be positive and reconnect max >= min"))
	}
	if err := c.sourcePolicy().Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(c.DialOptions) == 0 {
		errs = append(errs, errors.New("dial options are required (security.Security.DialOptions)"))
	}
	if err := c.Destinations.Validate(); err != nil {
		errs = append(errs, err)
	}
	if h, err := ffmpeg.ParseHWAccel(string(c.HWAccel)); err != nil || h != c.HWAccel {
		errs = append(errs, fmt.Errorf("hwaccel %q is not one of nvenc, vaapi, qsv (or empty)", c.HWAccel))
	}
	if c.TaskTimeout < 0 {
		errs = append(errs, fmt.Errorf("task timeout %s is negative", c.TaskTimeout))
	}
	if c.StallTimeout <= 0 {
		errs = append(errs, fmt.Errorf("stall timeout %s must be positive", c.StallTimeout))
	}
	return errors.Join(errs...)
}

// sanitizeID turns a host name into a valid agent id.
func sanitizeID(h string) string {
	b := []byte(h)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '-'
		}
	}
	if len(b) == 0 {
		return "agent"
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}
