package transfer

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vodfleet/vodfleet/internal/transfer/transfertest"
)

// versityServer runs versitygw, an S3 gateway, over a POSIX directory on
// a loopback port. Buckets are directories under root; its access log
// records the operation, key and status of every request, and its debug
// output (debugLog) the request and response headers, secrets masked.
type versityServer struct {
	addr, root, accessLog, debugLog string
}

var (
	ansiEscape   = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	contentRange = regexp.MustCompile(`Content-Range\s*:\s*bytes (\d+)-(\d+)/\d+`)
)

const s3Access, s3Secret = transfertest.S3Access, transfertest.S3Secret

func startVersity(t *testing.T) *versityServer {
	v := transfertest.StartVersity(t)
	for k, val := range v.Env(s3Secret) {
		t.Setenv(k, val)
	}
	return &versityServer{addr: v.Addr, root: v.Root, accessLog: v.AccessLog, debugLog: v.DebugLog}
}

// logLines returns (operation, key, status, bytes sent) per request;
// versitygw logs 0 bytes sent for downloads, so only the first three
// are used.
func (s *versityServer) logLines(t *testing.T) [][4]string {
	b, err := os.ReadFile(s.accessLog)
	if err != nil {
		t.Fatal(err)
	}
	var out [][4]string
	for _, l := range strings.Split(string(b), "\n") {
		// owner bucket [time zone] ip requester id operation key uri status error bytes ...
		f := strings.Fields(l)
		if len(f) > 12 && strings.HasPrefix(f[7], "s3_") {
			out = append(out, [4]string{f[7], f[8], f[10], f[12]})
		}
	}
	return out
}

func TestS3DestinationAndSource(t *testing.T) {
	s := startVersity(t)
	opts := loopbackOpts()
	opts.S3PartSize = 5 << 20
	runScenario(t, protoServer{
		destURL: "s3://bkt/pkg",
		root:    filepath.Join(s.root, "bkt", "pkg"),
		opts:    opts,
		uploads: func(t *testing.T) []string {
			var out []string
			for _, f := range s.logLines(t) {
				if (f[0] == "s3_PutObject" || f[0] == "s3_CompleteMultipartUpload") && f[2] == "200" {
					out = append(out, strings.TrimPrefix(f[1], "pkg/"))
				}
			}
			return out
		},
		srcURL: func(rel string) string { return "s3://bkt/pkg/" + rel },
		resumed: func(t *testing.T, rel string) (int64, int64) {
			// The access log has no byte counts; the debug log shows the
			// Content-Range of each ranged response.
			b, err := os.ReadFile(s.debugLog)
			if err != nil {
				t.Fatal(err)
			}
			plain := ansiEscape.ReplaceAllString(string(b), "")
			m := contentRange.FindAllStringSubmatch(plain, -1)
			if len(m) == 0 {
				return -1, -2
			}
			last := m[len(m)-1]
			from, _ := strconv.ParseInt(last[1], 10, 64)
			to, _ := strconv.ParseInt(last[2], 10, 64)
			return to - from + 1, from
		},
		badOpts: func(t *testing.T) (Options, string) {
			t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-s3-secret-key")
			return opts, "wrong-s3-secret-key"
		},
	})

	t.Run("headers and multipart", func(t *testing.T) {
		client, _, err := newS3Client(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string][2]string{
			"pkg/master.m3u8":      {"application/vnd.apple.mpegurl", CacheManifest},
			"pkg/360p/seg_000.m4s": {"video/iso.segment", CacheImmutable},
			"pkg/360p/init.mp4":    {"video/mp4", CacheImmutable},
		} {
			out, err := client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("head %s: %v", key, err)
			}
			if got := [2]string{aws.ToString(out.ContentType), aws.ToString(out.CacheControl)}; got != want {
				t.Errorf("%s: Content-Type, Cache-Control = %q, want %q", key, got, want)
			}
		}
		multipart := false
		for _, f := range s.logLines(t) {
			multipart = multipart || (f[0] == "s3_CompleteMultipartUpload" && f[1] == "pkg/src/big.bin" && f[2] == "200")
		}
		if !multipart {
			t.Error("the 6 MiB object was not sent as a multipart upload")
		}
	})
}
