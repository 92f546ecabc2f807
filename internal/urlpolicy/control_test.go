package urlpolicy

import (
	"context"
	"errors"
	"net"
	"testing"
)

func TestControl(t *testing.T) {
	tests := []struct {
		network, address string
		allowed          bool
	}{
		{"tcp", "8.8.8.8:443", true},
		{"tcp6", "[2001:4860:4860::8888]:443", true},
		{"udp", "1.1.1.1:53", true},
		{"tcp", "127.0.0.1:2379", false},
		{"tcp4", "169.254.169.254:80", false},
		{"tcp6", "[::ffff:10.0.0.1]:80", false},
		{"tcp6", "[fe80::1%eth0]:80", false},
		{"tcp", "example.com:80", false}, // never called with names; fail closed
		{"unix", "/run/etcd.sock", false},
	}
	for _, tt := range tests {
		err := Default().Control(tt.network, tt.address, nil)
		if tt.allowed && err != nil {
			t.Errorf("Control(%s, %s) = %v; want allowed", tt.network, tt.address, err)
		} else if !tt.allowed && !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("Control(%s, %s) = %v; want ErrForbiddenAddress", tt.network, tt.address, err)
		}
	}
}

// TestDialerChecksResolvedAddress dials a name, so the refusal can only
// come from the connect-time check on the address it resolved to.
func TestDialerChecksResolvedAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if _, err := net.DefaultResolver.LookupHost(context.Background(), "localhost"); err != nil {
		t.Skipf("localhost does not resolve here: %v", err)
	}

	_, err = Default().Dialer().DialContext(t.Context(), "tcp", net.JoinHostPort("localhost", port))
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("dial localhost with default policy: %v; want ErrForbiddenAddress", err)
	}
	c, err := Policy{AllowPrivate: true}.Dialer().DialContext(t.Context(), "tcp4", net.JoinHostPort("localhost", port))
	if err != nil {
		t.Fatalf("dial localhost with AllowPrivate: %v", err)
	}
	c.Close()
}
