package transfer

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vodfleet/vodfleet/internal/urlpolicy"
)

func TestParseRefusesBadURLs(t *testing.T) {
	for _, raw := range []string{
		"ftp://user:hunter2@example.com/dir",
		"gopher://example.com/x",
		"file://host/dir",
		"file:relative",
		"http:///nohost",
	} {
		_, err := ParseDestination(raw, Options{})
		if !errors.Is(err, ErrInvalidURL) {
			t.Errorf("ParseDestination(%q) = %v, want ErrInvalidURL", raw, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
	opts := Options{Policy: urlpolicy.Policy{AllowPrivate: true, Schemes: []string{"http", "https", "s3", "sftp", "ftp"}}}
	if _, err := ParseSource("file:///etc/passwd", opts); err == nil {
		t.Error("a file:// source was accepted")
	}
	if _, err := ParseSource("http://example.com/dir/", opts); !errors.Is(err, ErrInvalidURL) {
		t.Errorf("directory source: %v, want ErrInvalidURL", err)
	}
}

func TestJoinRelStaysInside(t *testing.T) {
	for _, rel := range []string{"../x", "a/../../x", "", "/", "a\\b", "a//b", "./a"} {
		if p, err := joinRel("/base", rel); err == nil {
			t.Errorf("joinRel(%q) = %q, want an error", rel, p)
		}
	}
	if p, err := joinRel("/base", "a/b.m4s"); err != nil || p != "/base/a/b.m4s" {
		t.Errorf("joinRel(a/b.m4s) = %q, %v", p, err)
	}
}

func TestCredentialsFile(t *testing.T) {
	file := writeCredentials(t, `# comment
machine ftp.example.com login alice password a-secret
machine ftp.example.com:2121 login bob password b-secret
machine other.example.com
  login carol
  password c-secret
default login anon password d-secret
`)
	cases := []struct{ hostport, host, user, login, password string }{
		{"ftp.example.com", "ftp.example.com", "", "alice", "a-secret"},
		{"ftp.example.com:2121", "ftp.example.com", "", "bob", "b-secret"},
		{"ftp.example.com:2121", "ftp.example.com", "alice", "alice", "a-secret"},
		{"other.example.com", "other.example.com", "", "carol", "c-secret"},
		{"nowhere.example.com", "nowhere.example.com", "", "anon", "d-secret"},
	}
	for _, c := range cases {
		got, ok, err := lookupCredential(file, c.hostport, c.host, c.user)
		if err != nil || !ok || got.login != c.login || got.password != c.password {
			t.Errorf("lookup(%s, %q) = %+v %v %v, want %s/%s", c.hostport, c.user, got, ok, err, c.login, c.password)
		}
	}
}

// TestPolicyAppliesToEveryProtocol checks that without an operator
// override no protocol connects to a loopback address: the address
// check runs at connect time, inside each protocol's dialer.
func TestPolicyAppliesToEveryProtocol(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	writeKey(t, key)
	known := writeCredentials(t, "") // an empty known_hosts file
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	opts := Options{SSHKeyFile: key, KnownHostsFile: known, Retries: -1}
	for _, raw := range []string{
		"http://127.0.0.1:1/dir",
		"ftp://u@127.0.0.1:1/dir",
		"sftp://u@127.0.0.1:1/dir",
		"s3://bucket/prefix",
	} {
		err := func() error {
			d, err := ParseDestination(raw, opts)
			if err != nil {
				return err
			}
			defer d.Close()
			_, err = d.Stat(context.Background(), "x.m3u8")
			return err
		}()
		if !errors.Is(err, urlpolicy.ErrForbiddenAddress) {
			t.Errorf("%s with the default policy: %v, want ErrForbiddenAddress", raw, err)
		}
	}
}
