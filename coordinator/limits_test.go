package coordinator

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vodfleet/vodfleet/internal/urlpolicy"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

func TestCheckSourceLimits(t *testing.T) {
	cfg := Config{MaxSourceDuration: time.Hour, MaxSourceBytes: 1 << 30, MaxSourceWidth: 1920, MaxSourceHeight: 1080}
	probe := func(d float64, size int64, w, h int32) *v1.ProbeResult {
		return &v1.ProbeResult{DurationSeconds: d, SizeBytes: size, Width: w, Height: h, HasVideo: true}
	}
	tests := []struct {
		name string
		cfg  Config
		p    *v1.ProbeResult
		want error
		msg  string
	}{
		{"fits", cfg, probe(3600, 1<<30, 1920, 1080), nil, ""},
		{"portrait fits", cfg, probe(10, 100, 1080, 1920), nil, ""},
		{"unknown size and duration pass", cfg, probe(0, 0, 640, 360), nil, ""},
		{"too long", cfg, probe(7260, 100, 640, 360), ErrSourceTooLong, "source too long: 7260s exceeds the 3600s limit"},
		{"just too long", Config{MaxSourceDuration: 2500 * time.Millisecond}, probe(2.52, 0, 0, 0), ErrSourceTooLong,
			"source too long: 2.520s exceeds the 2.5s limit"},
		{"too large", cfg, probe(10, 1<<30+1, 640, 360), ErrSourceTooLarge,
			"source too large: 1073741825 bytes exceeds the 1073741824-byte limit"},
		{"too wide", cfg, probe(10, 100, 3840, 1080), ErrSourceResolution, "source resolution too high: 3840x1080 exceeds the 1920x1080 limit"},
		{"too tall portrait", cfg, probe(10, 100, 1080, 2000), ErrSourceResolution, "source resolution too high: 1080x2000 exceeds the 1920x1080 limit"},
		{"height only", Config{MaxSourceHeight: 720}, probe(10, 100, 1280, 1080), ErrSourceResolution,
			"source resolution too high: 1280x1080 exceeds the anyx720 limit"},
		{"width only fits", Config{MaxSourceWidth: 1280}, probe(10, 100, 1280, 5000), nil, ""},
		{"no limits", Config{}, probe(1e6, 1<<40, 8192, 8192), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkSourceLimits(tt.cfg, tt.p)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || err.Error() != tt.msg {
				t.Fatalf("err = %q, want %q (%v)", err, tt.msg, tt.want)
			}
		})
	}
}

func TestSourcePolicyFromConfig(t *testing.T) {
	strict := DefaultConfig().SourcePolicy()
	if _, err := strict.CheckURL("http://10.1.2.3/a.mp4"); !errors.Is(err, urlpolicy.ErrForbiddenAddress) {
		t.Errorf("private address allowed by default: %v", err)
	}
	if _, err := strict.CheckURL("https://cdn.example.com/a.mp4"); err != nil {
		t.Errorf("public url refused: %v", err)
	}
	cidr := Config{AllowedSourceCIDRs: []string{"10.1.0.0/16"}}.SourcePolicy()
	if _, err := cidr.CheckURL("http://10.1.2.3/a.mp4"); err != nil {
		t.Errorf("allowlisted network refused: %v", err)
	}
	if _, err := cidr.CheckURL("http://10.2.0.1/a.mp4"); err == nil {
		t.Error("network outside the allowlist accepted")
	}
	open := Config{AllowPrivateSources: true}.SourcePolicy()
	if _, err := open.CheckURL("http://127.0.0.1:8000/a.mp4"); err != nil {
		t.Errorf("loopback refused with private sources allowed: %v", err)
	}
}

func TestConfigValidatesSourceLimits(t *testing.T) {
	bad := []Config{
		{AllowedSourceCIDRs: []string{"10.0.0.0/33"}},
		{MaxSourceBytes: -1},
		{MaxSourceDuration: -time.Second},
		{MaxSourceWidth: -1},
	}
	for i, c := range bad {
		if err := c.WithDefaults().Validate(); err == nil {
			t.Errorf("case %d: invalid limits accepted", i)
		}
	}
	ok := Config{AllowedSourceCIDRs: []string{"10.0.0.0/8"}, MaxSourceBytes: 1, MaxSourceDuration: time.Second, MaxSourceWidth: 2}
	if err := ok.WithDefaults().Validate(); err != nil {
		t.Errorf("valid limits refused: %v", err)
	}
}

func TestValidateSubmitChecksSourcePolicy(t *testing.T) {
	req := func(u string) *v1.SubmitJobRequest {
		return &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_Url{Url: u}}}
	}
	strict := DefaultConfig().SourcePolicy()
	for _, u := range []string{
		"http://127.0.0.1:8000/a.mp4", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/a.mp4",
		"http://[::1]/a.mp4", "http://localhost/a.mp4", "gopher://cdn.example.com/a.mp4", "file:///etc/passwd",
		"sftp://user:secret@media.example.com/a.mp4", "ftp://user:secret@media.example.com/a.mp4",
		"sftp://127.0.0.1:2222/a.mp4", "s3://10.0.0.1/a.mp4",
		"http://user:secret@cdn.example.com/a.mp4", "http://2130706433/a.mp4",
	} {
		err := validateSubmit(req(u), strict)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", u, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error leaks credentials: %v", u, err)
		}
	}
	for _, u := range []string{"https://cdn.example.com/a.mp4?sig=x", "s3://media-bucket/in/a.mp4",
		"sftp://ingest@media.example.com:2222/in/a.mp4", "ftp://ingest@media.example.com/a.mp4"} {
		if err := validateSubmit(req(u), strict); err != nil {
			t.Errorf("public url %s refused: %v", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8000/a.mp4", "sftp://me@127.0.0.1:2222/a.mp4"} {
		if err := validateSubmit(req(u), Config{AllowPrivateSources: true}.SourcePolicy()); err != nil {
			t.Errorf("loopback %s refused although allowed: %v", u, err)
		}
	}
}
