package urlpolicy

import (
	"errors"
	"testing"
)

func TestDefault(t *testing.T) {
	p := Default()
	if err := p.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if p.AllowPrivate || p.MaxBytes != 0 || len(p.AllowedCIDRs) != 0 {
		t.Fatalf("Default() = %+v; want public-only and unlimited", p)
	}
	if len(p.Schemes) != 2 || p.Schemes[0] != "http" || p.Schemes[1] != "https" {
		t.Fatalf("Default().Schemes = %v", p.Schemes)
	}
	p.Schemes[0] = "ftp" // the returned slice is the caller's own
	if Default().Schemes[0] != "http" {
		t.Fatal("Default shares its Schemes slice")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		errs int
	}{
		{"zero", Policy{}, 0},
		{"all transfers", Policy{Schemes: []string{"http", "HTTPS", "s3", "sftp", "ftp"}}, 0},
		{"cidrs", Policy{AllowedCIDRs: []string{"10.1.0.0/16", "fd00::/8", "192.168.1.7/32"}}, 0},
		{"max bytes", Policy{MaxBytes: 1 << 40}, 0},
		{"file scheme", Policy{Schemes: []string{"file"}}, 1},
		{"bad cidr", Policy{AllowedCIDRs: []string{"10.1.0.0"}}, 1},
		{"negative max", Policy{MaxBytes: -1}, 1},
		{"everything", Policy{Schemes: []string{"gopher", "http"}, AllowedCIDRs: []string{"x"}, MaxBytes: -5}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.errs == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("Validate() = %v; want ErrInvalidPolicy", err)
			}
			joined, ok := err.(interface{ Unwrap() []error })
			if !ok || len(joined.Unwrap()) != tt.errs {
				t.Fatalf("Validate() = %v; want %d errors", err, tt.errs)
			}
		})
	}
}
