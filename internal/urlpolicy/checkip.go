package urlpolicy

import (
	"fmt"
	"net/netip"
)

// special is a non-public range beyond those the netip predicates cover.
type special struct {
	prefix netip.Prefix
	reason string
}

// specialV4 and specialV6 follow the IANA special-purpose address
// registries: ranges that are not globally reachable unicast. Ranges
// covered by netip's predicates (loopback, private, link-local, multicast,
// unspecified) are checked before these tables.
var (
	specialV4 = []special{
		{netip.MustParsePrefix("0.0.0.0/8"), "in \"this network\" 0.0.0.0/8"},
		{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (CGNAT)"},
		{netip.MustParsePrefix("192.0.0.0/24"), "reserved for IETF protocol assignments"},
		{netip.MustParsePrefix("192.0.2.0/24"), "reserved for documentation"},
		{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast"},
		{netip.MustParsePrefix("198.18.0.0/15"), "reserved for benchmarking"},
		{netip.MustParsePrefix("198.51.100.0/24"), "reserved for documentation"},
		{netip.MustParsePrefix("203.0.113.0/24"), "reserved for documentation"},
		{netip.MustParsePrefix("240.0.0.0/4"), "reserved or broadcast"},
	}
	specialV6 = []special{
		{netip.MustParsePrefix("::/96"), "IPv4-compatible (deprecated)"},
		{netip.MustParsePrefix("::ffff:0:0:0/96"), "IPv4-translated"},
		{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64"},
		{netip.MustParsePrefix("100::/64"), "discard-only"},
		{netip.MustParsePrefix("2001::/23"), "reserved for IETF protocol assignments (incl. Teredo)"},
		{netip.MustParsePrefix("2001:db8::/32"), "reserved for documentation"},
		{netip.MustParsePrefix("3fff::/20"), "reserved for documentation"},
		{netip.MustParsePrefix("5f00::/16"), "SRv6 SID space"},
		{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated)"},
	}
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
	global6   = netip.MustParsePrefix("2000::/3")
)

// CheckIP returns nil if the policy allows connecting to ip: it is public
// unicast, inside AllowedCIDRs, or AllowPrivate is set. IPv4-mapped IPv6
// addresses are judged as the IPv4 address they carry, and NAT64 and 6to4
// addresses by their embedded IPv4 address. Otherwise the error wraps
// ErrForbiddenAddress and names the kind of range.
func (p Policy) CheckIP(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrForbiddenAddress)
	}
	bare := ip.Unmap().WithZone("")
	if p.allowlisted(bare) {
		return nil
	}
	reason := nonPublic(bare)
	if reason == "" || p.AllowPrivate {
		return nil
	}
	return fmt.Errorf("%w: %s is %s", ErrForbiddenAddress, ip, reason)
}

// nonPublic returns why ip (unmapped, without zone) is not a public unicast
// address, or "" if it is.
func nonPublic(ip netip.Addr) string {
	switch {
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	}
	if ip.Is4() {
		return lookup(specialV4, ip)
	}
	b := ip.As16()
	if nat64.Contains(ip) {
		return embedded("NAT64", netip.AddrFrom4([4]byte(b[12:16])))
	}
	if sixToFour.Contains(ip) {
		return embedded("6to4", netip.AddrFrom4([4]byte(b[2:6])))
	}
	if r := lookup(specialV6, ip); r != "" {
		return r
	}
	if !global6.Contains(ip) {
		return "outside global unicast 2000::/3"
	}
	return ""
}

// lookup returns the reason of the first range in table holding ip.
func lookup(table []special, ip netip.Addr) string {
	for _, s := range table {
		if s.prefix.Contains(ip) {
			return s.reason
		}
	}
	return ""
}

// embedded judges a translation address by the IPv4 address it carries,
// since the translator would connect there on the fleet's behalf.
func embedded(kind string, v4 netip.Addr) string {
	if r := nonPublic(v4); r != "" {
		return fmt.Sprintf("%s for %s, which is %s", kind, v4, r)
	}
	return ""
}
