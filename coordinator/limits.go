package coordinator

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/vodfleet/vodfleet/internal/urlpolicy"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Sentinel errors of the source limits. A probed source that breaks one
// fails its job at once: the source will not change on a retry.
var (
	// ErrSourceTooLong: the source runs longer than MaxSourceDuration.
	ErrSourceTooLong = errors.New("source too long")
	// ErrSourceTooLarge: the source has more bytes than MaxSourceBytes.
	ErrSourceTooLarge = errors.New("source too large")
	// ErrSourceResolution: the source picture is larger than
	// MaxSourceWidth x MaxSourceHeight.
	ErrSourceResolution = errors.New("source resolution too high")
)

// SourceSchemes are the URL schemes a submitted source may use; agents
// fetch each with internal/transfer.
var SourceSchemes = []string{"http", "https", "s3", "sftp", "ftp"}

// SourcePolicy returns the URL policy submitted source URLs are checked
// against: SourceSchemes, non-public addresses only when allowed, no
// passwords in URLs (secrets live in the agents' configuration).
func (c Config) SourcePolicy() urlpolicy.Policy {
	p := urlpolicy.Default()
	p.Schemes = append([]string(nil), SourceSchemes...)
	p.AllowPrivate = c.AllowPrivateSources
	p.AllowedCIDRs = c.AllowedSourceCIDRs
	p.MaxBytes = c.MaxSourceBytes
	return p
}

// validateSourceLimits reports invalid source policy and limit settings.
func (c Config) validateSourceLimits() error {
	var errs []error
	if err := c.SourcePolicy().Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxSourceDuration < 0 || c.MaxSourceWidth < 0 || c.MaxSourceHeight < 0 {
		errs = append(errs, fmt.Errorf("source limits (duration %s, %dx%d) must not be negative",
			c.MaxSourceDuration, c.MaxSourceWidth, c.MaxSourceHeight))
	}
	return errors.Join(errs...)
}

// checkSourceLimits returns an error wrapping ErrSourceTooLong,
// ErrSourceTooLarge or ErrSourceResolution when the probed source breaks
// one of c's limits; the message names the value and the limit, e.g.
// "source too long: 7260s exceeds the 3600s limit". Unknown values (0)
// pass. The picture limit ignores orientation: a 1080x1920 portrait source
// fits a 1920x1080 limit, since operators size the limit for the work a
// picture costs, not for its shape.
func checkSourceLimits(c Config, p *v1.ProbeResult) error {
	if limit := c.MaxSourceDuration.Seconds(); limit > 0 && p.GetDurationSeconds() > limit {
		return fmt.Errorf("%w: %ss exceeds the %ss limit", ErrSourceTooLong,
			overSeconds(p.GetDurationSeconds(), limit), limitSeconds(limit))
	}
	if limit := c.MaxSourceBytes; limit > 0 && p.GetSizeBytes() > limit {
		return fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrSourceTooLarge, p.GetSizeBytes(), limit)
	}
	if w, h := int(p.GetWidth()), int(p.GetHeight()); !fitsPicture(w, h, c.MaxSourceWidth, c.MaxSourceHeight) {
		return fmt.Errorf("%w: %dx%d exceeds the %s limit", ErrSourceResolution, w, h,
			limitFrame(c.MaxSourceWidth, c.MaxSourceHeight))
	}
	return nil
}

// fitsPicture reports whether a w x h picture fits the limit lw x lh (0:
// unset). With both set, either orientation of the picture may fit; with
// one set, that side alone is bounded.
func fitsPicture(w, h, lw, lh int) bool {
	switch {
	case lw > 0 && lh > 0:
		return max(w, h) <= max(lw, lh) && min(w, h) <= min(lw, lh)
	case lw > 0:
		return w <= lw
	case lh > 0:
		return h <= lh
	}
	return true
}

// limitFrame formats a picture limit; an unset side reads "any".
func limitFrame(w, h int) string {
	side := func(n int) string {
		if n <= 0 {
			return "any"
		}
		return strconv.Itoa(n)
	}
	return side(w) + "x" + side(h)
}

// limitSeconds formats seconds with at most one decimal.
func limitSeconds(s float64) string {
	return strconv.FormatFloat(math.Round(s*10)/10, 'f', -1, 64)
}

// overSeconds formats a duration s above limit like limitSeconds, with
// more decimals when one would make it read as not above the limit.
func overSeconds(s, limit float64) string {
	if math.Round(s*10)/10 > limit {
		return limitSeconds(s)
	}
	return strconv.FormatFloat(s, 'f', 3, 64)
}
