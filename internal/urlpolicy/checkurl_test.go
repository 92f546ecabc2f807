package urlpolicy

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	def := Default()
	private := Policy{AllowPrivate: true}
	transfers := Policy{Schemes: []string{"HTTPS", "sftp", "ftp", "s3"}}
	allowlist := Policy{AllowedCIDRs: []string{"10.1.0.0/16"}}
	tests := []struct {
		name string
		p    Policy
		raw  string
		want error // nil: accepted
	}{
		{"https", def, "https://media.example.com/in/source.mp4?sig=abc", nil},
		{"http with port", def, "http://media.example.com:8080/a.mov", nil},
		{"scheme case", def, "HTTPS://Media.Example.COM/a.mp4", nil},
		{"rooted name", def, "https://media.example.com./a.mp4", nil},
		{"underscore", def, "https://my_host.example.com/a", nil},
		{"public v4", def, "http://8.8.8.8/a", nil},
		{"public v6", def, "http://[2001:4860:4860::8888]:80/a", nil},
		{"zero policy", Policy{}, "https://example.com/a", nil},

		{"file", def, "file:///etc/passwd", ErrScheme},
		{"gopher", def, "gopher://example.com/_x", ErrScheme},
		{"ftp not enabled", def, "ftp://example.com/a.mp4", ErrScheme},
		{"s3 not enabled", def, "s3://bucket/key.mp4", ErrScheme},
		{"http not in list", transfers, "http://example.com/a", ErrScheme},
		{"javascript", def, "javascript:alert(1)", ErrScheme},
		{"data", def, "data:text/plain,hi", ErrScheme},
		{"unsupported though listed", Policy{Schemes: []string{"file"}}, "file:///etc/passwd", ErrScheme},

		{"ftp enabled", transfers, "ftp://example.com/a.mp4", nil},
		{"sftp user", transfers, "sftp://ingest@files.example.com:2222/in/a.mxf", nil},
		{"s3 enabled", transfers, "s3://bucket/key.mp4", nil},
		{"sftp password", transfers, "sftp://ingest:secret@files.example.com/a", ErrInvalidURL},
		{"sftp empty password", transfers, "sftp://ingest:@files.example.com/a", ErrInvalidURL},
		{"sftp empty user", transfers, "sftp://@files.example.com/a", ErrInvalidURL},
		{"s3 user", transfers, "s3://key@bucket/a", ErrInvalidURL},
		{"https user", def, "https://user@example.com/a", ErrInvalidURL},
		{"https password", def, "https://user:pw@example.com/a", ErrInvalidURL},
		{"https empty userinfo", def, "https://@example.com/a", ErrInvalidURL},

		{"fragment", def, "https://example.com/a.mp4#t=10", ErrInvalidURL},
		{"empty fragment", def, "https://example.com/a.mp4#", ErrInvalidURL},
		{"relative", def, "/a.mp4", ErrInvalidURL},
		{"empty", def, "", ErrInvalidURL},
		{"opaque", def, "http:example.com/a", ErrInvalidURL},
		{"no host", def, "http:///a", ErrInvalidURL},
		{"port only", def, "http://:80/a", ErrInvalidURL},
		{"port zero", def, "http://example.com:0/a", ErrInvalidURL},
		{"port too big", def, "http://example.com:65536/a", ErrInvalidURL},
		{"bad port", def, "http://example.com:x/a", ErrInvalidURL},
		{"space in host", def, "http://exa mple.com/a", ErrInvalidURL},
		{"control char", def, "http://example.com/a\n", ErrInvalidURL},
		{"unicode host", def, "http://exämple.com/a", ErrInvalidURL},
		{"empty label", def, "http://a..example.com/a", ErrInvalidURL},
		{"leading hyphen", def, "sftp://-oProxyCommand=x/a", ErrScheme},
		{"leading hyphen sftp", transfers, "sftp://-oProxyCommand=x/a", ErrInvalidURL},
		{"long label", def, "http://" + strings.Repeat("a", 64) + ".com/", ErrInvalidURL},
		{"too long", def, "https://example.com/" + strings.Repeat("a", MaxURLLength), ErrInvalidURL},
		{"bracketed v4", def, "http://[127.0.0.1]/", ErrInvalidURL},
		{"bad v6", def, "http://[::g]/", ErrInvalidURL},

		// Numeric tricks resolvers read as 127.0.0.1.
		{"decimal", def, "http://2130706433/", ErrInvalidURL},
		{"hex", def, "http://0x7f000001/", ErrInvalidURL},
		{"hex dotted", def, "http://0x7f.1/", ErrInvalidURL},
		{"octal", def, "http://0177.0.0.1/", ErrInvalidURL},
		{"short", def, "http://127.1/", ErrInvalidURL},
		{"trailing dot v4", def, "http://127.0.0.1./", ErrInvalidURL},
		{"numeric private allowed still ambiguous", private, "http://2130706433/", ErrInvalidURL},
		{"0x alone", def, "http://foo.0x/", ErrInvalidURL},
		{"hexish TLD is a name", def, "http://foo.0xg/", nil},

		// Forbidden literals.
		{"loopback", def, "http://127.0.0.1:8080/a", ErrForbiddenAddress},
		{"percent-encoded host", def, "http://%31%32%37.0.0.1/a", ErrInvalidURL},
		{"loopback v6", def, "http://[::1]/a", ErrForbiddenAddress},
		{"mapped loopback", def, "http://[::ffff:127.0.0.1]/a", ErrForbiddenAddress},
		{"mapped hex loopback", def, "http://[::ffff:7f00:1]/a", ErrForbiddenAddress},
		{"metadata", def, "http://169.254.169.254/latest/meta-data/", ErrForbiddenAddress},
		{"rfc1918", def, "https://10.0.0.5/a", ErrForbiddenAddress},
		{"rfc1918 172", def, "https://172.20.1.1/a", ErrForbiddenAddress},
		{"rfc1918 192", def, "https://192.168.0.10/a", ErrForbiddenAddress},
		{"cgnat", def, "https://100.64.1.1/a", ErrForbiddenAddress},
		{"unspecified", def, "http://0.0.0.0:2379/", ErrForbiddenAddress},
		{"ula", def, "http://[fd00::1]/a", ErrForbiddenAddress},
		{"link-local zone", def, "http://[fe80::1%25eth0]/a", ErrForbiddenAddress},
		{"localhost", def, "http://localhost:2379/", ErrForbiddenAddress},
		{"localhost case", def, "http://LocalHost./", ErrForbiddenAddress},
		{"sub.localhost", def, "http://etcd.localhost/", ErrForbiddenAddress},

		{"loopback AllowPrivate", private, "http://127.0.0.1:8080/a", nil},
		{"localhost AllowPrivate", private, "http://localhost:8080/a", nil},
		{"link-local zone AllowPrivate", private, "http://[fe80::1%25eth0]/a", nil},
		{"allowlisted", allowlist, "http://10.1.200.3/a.mp4", nil},
		{"outside allowlist", allowlist, "http://10.2.0.3/a.mp4", ErrForbiddenAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := tt.p.CheckURL(tt.raw)
			if tt.want == nil {
				if err != nil || u == nil {
					t.Fatalf("CheckURL(%q) = %v, %v; want accepted", tt.raw, u, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || u != nil {
				t.Fatalf("CheckURL(%q) = %v, %v; want %v", tt.raw, u, err, tt.want)
			}
		})
	}
}

func TestCheckURLErrorsHideCredentials(t *testing.T) {
	for _, raw := range []string{
		"https://user:s3cr3t@example.com/a",
		"https://user:s3cr3t@example.com:bad/a",
		"https://user:s3cr3t@exa mple.com/a",
		"sftp://user:s3cr3t@example.com/a",
		"https://user:s3cr3t@127.0.0.1/a",
	} {
		_, err := Default().CheckURL(raw)
		if err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("CheckURL(%q) error %v: want an error without the password", raw, err)
		}
	}
}
