package urlpolicy

import (
	"errors"
	"net/netip"
	"testing"
)

func TestCheckIP(t *testing.T) {
	allowPrivate := Policy{AllowPrivate: true}
	allowlist := Policy{AllowedCIDRs: []string{"10.1.0.0/16", "fd00:1::/32", "not a cidr"}}
	tests := []struct {
		ip                              string
		def, withPrivate, withAllowlist bool // allowed under each policy
	}{
		// Public.
		{"8.8.8.8", true, true, true},
		{"1.1.1.1", true, true, true},
		{"2001:4860:4860::8888", true, true, true},
		{"2002:808:808::1", true, true, true},  // 6to4 for 8.8.8.8
		{"64:ff9b::808:808", true, true, true}, // NAT64 for 8.8.8.8
		{"::ffff:8.8.8.8", true, true, true},   // IPv4-mapped public
		{"100.63.255.255", true, true, true},   // just below CGNAT
		{"100.128.0.0", true, true, true},      // just above CGNAT
		{"172.15.255.255", true, true, true},   // just below 172.16/12
		{"172.32.0.0", true, true, true},       // just above 172.16/12
		{"223.255.255.255", true, true, true},  // last before multicast
		// Loopback.
		{"127.0.0.1", false, true, false},
		{"127.255.255.254", false, true, false},
		{"::1", false, true, false},
		{"::ffff:127.0.0.1", false, true, false},
		{"64:ff9b::7f00:1", false, true, false}, // NAT64 for 127.0.0.1
		{"2002:7f00:1::", false, true, false},   // 6to4 for 127.0.0.1
		// RFC 1918 and ULA.
		{"10.0.0.1", false, true, false},
		{"10.1.2.3", false, true, true},
		{"::ffff:10.1.2.3", false, true, true},
		{"10.2.0.1", false, true, false},
		{"172.16.0.1", false, true, false},
		{"172.31.255.255", false, true, false},
		{"192.168.1.1", false, true, false},
		{"::ffff:192.168.1.1", false, true, false},
		{"fc00::1", false, true, false},
		{"fd12:3456::1", false, true, false},
		{"fd00:1::5", false, true, true},
		// Link-local, including cloud metadata.
		{"169.254.169.254", false, true, false},
		{"169.254.0.1", false, true, false},
		{"fe80::1", false, true, false},
		{"fe80::1%eth0", false, true, false},
		{"febf::1", false, true, false},
		// CGNAT, unspecified, multicast, reserved.
		{"100.64.0.1", false, true, false},
		{"100.127.255.255", false, true, false},
		{"0.0.0.0", false, true, false},
		{"0.1.2.3", false, true, false},
		{"::", false, true, false},
		{"224.0.0.1", false, true, false},
		{"239.255.255.250", false, true, false},
		{"ff02::1", false, true, false},
		{"ff05::2", false, true, false},
		{"255.255.255.255", false, true, false},
		{"240.0.0.1", false, true, false},
		{"192.0.2.1", false, true, false},
		{"198.18.0.1", false, true, false},
		{"fec0::1", false, true, false},
		{"2001:db8::1", false, true, false},
		{"2001::1", false, true, false}, // Teredo
		{"::127.0.0.1", false, true, false},
		{"4000::1", false, true, false}, // outside 2000::/3
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.ip)
		for _, c := range []struct {
			name string
			p    Policy
			want bool
		}{{"default", Default(), tt.def}, {"AllowPrivate", allowPrivate, tt.withPrivate}, {"AllowedCIDRs", allowlist, tt.withAllowlist}} {
			err := c.p.CheckIP(ip)
			if c.want && err != nil {
				t.Errorf("%s: CheckIP(%s) = %v, want allowed", c.name, ip, err)
			} else if !c.want && !errors.Is(err, ErrForbiddenAddress) {
				t.Errorf("%s: CheckIP(%s) = %v, want ErrForbiddenAddress", c.name, ip, err)
			}
		}
	}
}

func TestCheckIPInvalidAlwaysForbidden(t *testing.T) {
	p := Policy{AllowPrivate: true, AllowedCIDRs: []string{"0.0.0.0/0", "::/0"}}
	if err := p.CheckIP(netip.Addr{}); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("CheckIP(zero) = %v, want ErrForbiddenAddress", err)
	}
}

func TestCheckIPErrorNamesRange(t *testing.T) {
	err := Default().CheckIP(netip.MustParseAddr("169.254.169.254"))
	if got, want := err.Error(), "source address forbidden: 169.254.169.254 is link-local"; got != want {
		t.Fatalf("error %q, want %q", got, want)
	}
}
