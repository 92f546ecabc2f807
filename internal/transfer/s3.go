package transfer

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// md5MetaKey is the user metadata key Push stores the content MD5 under,
// so multipart objects (whose ETag is not an MD5) can be compared too.
const md5MetaKey = "md5"

// newS3Client builds a client from the standard AWS chain
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
// AWS_ENDPOINT_URL, shared config files, instance roles), dialling
// through the policy. With an endpoint set it uses path-style
// addressing, as S3-compatible servers expect, and computes checksums
// only where S3 requires them, since not every server knows the newer
// ones.
func newS3Client(ctx context.Context, opts Options) (*s3.Client, string, error) {
	dialer := opts.Policy.Dialer()
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.Proxy = nil // a proxy would hide the real address from the policy
		tr.DialContext = dialer.DialContext
	})
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(httpClient))
	if err != nil {
		return nil, "", fmt.Errorf("%w: aws config: %w", ErrConfig, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	endpoint := ""
	if cfg.BaseEndpoint != nil {
		endpoint = *cfg.BaseEndpoint
	} else if e := os.Getenv("AWS_ENDPOINT_URL_S3"); e != "" {
		endpoint = e
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	host := "s3." + cfg.Region + ".amazonaws.com"
	if endpoint != "" {
		if eu, err := url.Parse(endpoint); err == nil {
			host = eu.Host
		}
	}
	return client, host, nil
}

// s3Error maps an SDK error to a sentinel where one applies. The SDK's
// messages carry request ids, never the secret key.
func s3Error(err error, host, what string) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken", "Forbidden":
			return fmt.Errorf("%w: %s refused the credentials (%s)", ErrAuth, host, ae.ErrorCode())
		case "NoSuchKey", "NotFound", "NoSuchBucket":
			return fmt.Errorf("%w: %s on %s (%s)", ErrNotFound, what, host, ae.ErrorCode())
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusForbidden, http.StatusUnauthorized:
			return fmt.Errorf("%w: %s refused the credentials (%d)", ErrAuth, host, re.HTTPStatusCode())
		case http.StatusNotFound:
			return fmt.Errorf("%w: %s on %s", ErrNotFound, what, host)
		}
	}
	return fmt.Errorf("%s on %s: %w", what, host, err)
}

// s3Dest pushes objects under a key prefix. Objects up to one part are
// sent with one PUT carrying Content-MD5; larger ones as a multipart
// upload, aborted on failure so no orphan parts are billed.
type s3Dest struct {
	u        *url.URL
	bucket   string
	prefix   string // "" or ending in "/"
	client   *s3.Client
	host     string
	partSize int64
}

func newS3Dest(u *url.URL, opts Options) (*s3Dest, error) {
	client, host, err := newS3Client(context.Background(), opts)
	if err != nil {
		return nil, err
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &s3Dest{u: u, bucket: u.Host, prefix: prefix, client: client, host: host, partSize: opts.S3PartSize}, nil
}

func (d *s3Dest) String() string { return redact(d.u) }

// Close has nothing to release; the SDK's connections are pooled.
func (d *s3Dest) Close() error { return nil }

func (d *s3Dest) key(rel string) (string, error) {
	p, err := joinRel("/", rel)
	if err != nil {
		return "", err
	}
	return d.prefix + strings.TrimPrefix(p, "/"), nil
}

func (d *s3Dest) Stat(ctx context.Context, rel string) (Info, error) {
	key, err := d.key(rel)
	if err != nil {
		return Info{}, err
	}
	out, err := d.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &d.bucket, Key: &key})
	if err != nil {
		return Info{}, s3Error(err, d.host, rel)
	}
	return s3Info(out.ContentLength, out.ETag, out.Metadata), nil
}

// s3Info extracts size, MD5 (stored metadata, else a single-part ETag)
// and version (the ETag).
func s3Info(size *int64, etag *string, meta map[string]string) Info {
	info := Info{Size: aws.ToInt64(size), Version: aws.ToString(etag)}
	if m := meta[md5MetaKey]; len(m) == 32 {
		info.MD5 = strings.ToLower(m)
	} else if e := strings.Trim(info.Version, `"`); len(e) == 32 && !strings.Contains(e, "-") {
		info.MD5 = strings.ToLower(e)
	}
	return info
}

func (d *s3Dest) Put(ctx context.Context, rel string, body io.ReaderAt, size int64, meta Meta, progress func(int64)) error {
	key, err := d.key(rel)
	if err != nil {
		return err
	}
	var md map[string]string
	if meta.MD5 != "" {
		md = map[string]string{md5MetaKey: meta.MD5}
	}
	if size <= d.partSize {
		in := &s3.PutObjectInput{
			Bucket: &d.bucket, Key: &key,
			Body:          io.NewSectionReader(body, 0, size),
			ContentLength: aws.Int64(size),
			Metadata:      md,
		}
		setS3Meta(&in.ContentType, &in.CacheControl, meta)
		if raw, err := hex.DecodeString(meta.MD5); err == nil && len(raw) == md5.Size {
			in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(raw))
		}
		if _, err := d.client.PutObject(ctx, in); err != nil {
			return s3Error(err, d.host, rel)
		}
		if progress != nil {
			progress(size)
		}
		return nil
	}
	return d.multipart(ctx, rel, key, body, size, meta, md, progress)
}

func setS3Meta(contentType, cacheControl **string, meta Meta) {
	if meta.ContentType != "" {
		*contentType = aws.String(meta.ContentType)
	}
	if meta.CacheControl != "" {
		*cacheControl = aws.String(meta.CacheControl)
	}
}

// multipart uploads body in partSize parts, one after another (Push runs
// several files at once), reporting progress per part.
func (d *s3Dest) multipart(ctx context.Context, rel, key string, body io.ReaderAt, size int64, meta Meta, md map[string]string, progress func(int64)) error {
	in := &s3.CreateMultipartUploadInput{Bucket: &d.bucket, Key: &key, Metadata: md}
	setS3Meta(&in.ContentType, &in.CacheControl, meta)
	up, err := d.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return s3Error(err, d.host, rel)
	}
	ok := false
	defer func() {
		if !ok {
			// A fresh context: the upload's may be the one that ended.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultDialTimeout)
			defer cancel()
			d.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: &d.bucket, Key: &key, UploadId: up.UploadId})
		}
	}()
	var parts []types.CompletedPart
	for n, off := int32(1), int64(0); off < size; n, off = n+1, off+d.partSize {
		length := min(d.partSize, size-off)
		section := io.NewSectionReader(body, off, length)
		h := md5.New()
		if _, err := io.Copy(h, section); err != nil {
			return err
		}
		section.Seek(0, io.SeekStart)
		out, err := d.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &d.bucket, Key: &key, UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: section, ContentLength: aws.Int64(length),
			ContentMD5: aws.String(base64.StdEncoding.EncodeToString(h.Sum(nil))),
		})
		if err != nil {
			return s3Error(err, d.host, rel+" part "+strconv.Itoa(int(n)))
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
		if progress != nil {
			progress(length)
		}
	}
	_, err = d.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &d.bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return s3Error(err, d.host, rel)
	}
	ok = true
	return nil
}

// s3Source downloads one object, resuming with a ranged GET conditioned
// on the ETag seen by Stat (If-Match), so a replaced object is never
// spliced onto the old one's prefix.
type s3Source struct {
	u      *url.URL
	bucket string
	key    string
	client *s3.Client
	host   string
}

func newS3Source(u *url.URL, opts Options) (*s3Source, error) {
	client, host, err := newS3Client(context.Background(), opts)
	if err != nil {
		return nil, err
	}
	return &s3Source{u: u, bucket: u.Host, key: strings.TrimPrefix(u.Path, "/"), client: client, host: host}, nil
}

func (s *s3Source) String() string { return redact(s.u) }
func (s *s3Source) Close() error   { return nil }

func (s *s3Source) Stat(ctx context.Context) (Info, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &s.key})
	if err != nil {
		return Info{}, s3Error(err, s.host, s.key)
	}
	return s3Info(out.ContentLength, out.ETag, out.Metadata), nil
}

func (s *s3Source) Open(ctx context.Context, offset int64, info Info) (io.ReadCloser, int64, error) {
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: &s.key}
	if info.Version != "" {
		in.IfMatch = aws.String(info.Version)
	}
	if offset > 0 {
		in.Range = aws.String("bytes=" + strconv.FormatInt(offset, 10) + "-")
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, 0, s3Error(err, s.host, s.key)
	}
	return out.Body, offset, nil
}
