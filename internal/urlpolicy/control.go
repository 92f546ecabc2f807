package urlpolicy

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// DialTimeout bounds establishing one connection to a source.
const DialTimeout = 30 * time.Second

// Control is a net.Dialer Control function that refuses, with an error
// wrapping ErrForbiddenAddress, to connect to an address CheckIP forbids.
// The dialer calls it after name resolution for every address it tries,
// so it judges the address actually connected to; this defeats DNS
// rebinding and names that resolve to internal addresses. Networks other
// than tcp and udp are refused.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
	default:
		return fmt.Errorf("%w: network %q", ErrForbiddenAddress, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable address %q", ErrForbiddenAddress, address)
	}
	return p.CheckIP(ap.Addr())
}

// Dialer returns a dialer that enforces the policy through Control, for
// transfers that dial themselves (sftp, ftp) as well as for Transport.
func (p Policy) Dialer() *net.Dialer {
	return &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second, Control: p.Control}
}
