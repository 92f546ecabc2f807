package transfertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// S3 credentials of the test gateway, and the one bucket it starts with.
const (
	S3Access = "VODFLEETTESTKEY"
	S3Secret = "right-s3-secret-key"
	S3Bucket = "bkt"
)

// Versity is versitygw, an S3 gateway, serving a POSIX directory on a
// loopback port. Buckets are directories under Root; AccessLog records
// the operation, key and status of every request, DebugLog the request
// and response headers, secrets masked.
type Versity struct {
	Addr, Root, AccessLog, DebugLog string
	dir                             string
}

// StartVersity starts versitygw with the bucket S3Bucket and S3Access /
// S3Secret as its root credentials. Point the AWS SDK at it with Env.
func StartVersity(t T) *Versity {
	t.Helper()
	bin := NeedBinary(t, "versitygw")
	dir := t.TempDir()
	s := &Versity{Addr: fmt.Sprintf("127.0.0.1:%d", FreePort(t)), Root: filepath.Join(dir, "root"),
		AccessLog: filepath.Join(dir, "access.log"), DebugLog: filepath.Join(dir, "versitygw.log"), dir: dir}
	if err := os.MkdirAll(filepath.Join(s.Root, S3Bucket), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--port", s.Addr, "--access", S3Access, "--secret", S3Secret,
		"--access-log", s.AccessLog, "--log-level", "debug", "posix", s.Root)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	StartServer(t, cmd, s.DebugLog, s.Addr)
	return s
}

// Env is the standard AWS environment that points the SDK at this server
// with secret, whatever the machine's own environment says (machines may
// set AWS_CA_BUNDLE, profiles and more). Tests apply it with t.Setenv.
func (s *Versity) Env(secret string) map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":           S3Access,
		"AWS_SECRET_ACCESS_KEY":       secret,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_ENDPOINT_URL":            "http://" + s.Addr,
		"AWS_ENDPOINT_URL_S3":         "",
		"AWS_CA_BUNDLE":               "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(s.dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(s.dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
}
