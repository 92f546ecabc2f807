package transfer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// noSleep is an Options.Sleep that returns at once, so retry tests do not
// wait on the wall clock.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// protoServer describes one running test server to the shared scenario.
type protoServer struct {
	destURL string  // where the package goes
	root    string  // local directory where destURL's files land
	opts    Options // working credentials, loopback allowed
	// uploads returns the package-relative names of the files the server
	// logged as stored, in order.
	uploads func(t *testing.T) []string
	// srcURL returns the source URL of a file stored at rel below destURL.
	srcURL func(rel string) string
	// resumed returns the bytes the server sent for rel in its last
	// download, and the range offset asked for when it logs one (-1 if not).
	resumed func(t *testing.T, rel string) (sent, offset int64)
	// badOpts returns options with credentials the server refuses, and
	// the secret that must not show in the error.
	badOpts func(t *testing.T) (Options, string)
}

// runScenario runs the behaviour every protocol must have: a package
// arrives intact with manifests last, a re-push sends only what is
// missing, an interrupted download resumes, and wrong credentials fail
// with ErrAuth naming the host but not the secret.
func runScenario(t *testing.T, s protoServer) {
	pkg := makePackage(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	dest, err := ParseDestination(s.destURL, s.opts)
	if err != nil {
		t.Fatalf("ParseDestination: %v", err)
	}
	defer dest.Close()

	t.Run("push", func(t *testing.T) {
		var last, total int64
		res, err := Push(ctx, pkg.dir, dest, func(done, tot int64) { last, total = done, tot }, s.opts)
		if err != nil {
			t.Fatalf("Push: %v", err)
		}
		if len(res.Sent) != len(pkg.all()) || len(res.Skipped) != 0 {
			t.Errorf("sent %d skipped %d, want %d and 0", len(res.Sent), len(res.Skipped), len(pkg.all()))
		}
		if last != total || total != res.Bytes || total == 0 {
			t.Errorf("progress ended at %d/%d, bytes sent %d", last, total, res.Bytes)
		}
		checkTree(t, pkg, s.root)
		checkOrder(t, pkg, waitUploads(t, s, 0, len(pkg.all())))
	})

	t.Run("repush sends only the missing file", func(t *testing.T) {
		gone := "360p/seg_002.m4s"
		if err := os.Remove(filepath.Join(s.root, gone)); err != nil {
			t.Fatal(err)
		}
		before := len(s.uploads(t))
		res, err := Push(ctx, pkg.dir, dest, nil, s.opts)
		if err != nil {
			t.Fatalf("Push: %v", err)
		}
		if !slices.Equal(res.Sent, []string{gone}) || len(res.Skipped) != len(pkg.all())-1 {
			t.Errorf("re-push sent %v (skipped %d), want only %s", res.Sent, len(res.Skipped), gone)
		}
		if got := waitUploads(t, s, before, 1); !slices.Equal(got, []string{gone}) {
			t.Errorf("server stored %v on re-push, want only %s", got, gone)
		}
		checkTree(t, pkg, s.root)
	})

	t.Run("interrupted fetch resumes", func(t *testing.T) {
		const size = 6<<20 + 12345
		local := filepath.Join(t.TempDir(), "big.bin")
		want := writeBig(t, local+".orig", size)
		f, err := os.Open(local + ".orig")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := dest.Put(ctx, "src/big.bin", f, size, Meta{MD5: md5Hex(want)}, nil); err != nil {
			t.Fatalf("Put: %v", err)
		}
		src, err := ParseSource(s.srcURL("src/big.bin"), s.opts)
		if err != nil {
			t.Fatalf("ParseSource: %v", err)
		}
		defer src.Close()
		cctx, stop := context.WithCancel(ctx)
		_, err = Fetch(cctx, src, local, func(done, _ int64) {
			if done >= 2<<20 {
				stop()
			}
		}, s.opts)
		stop()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted Fetch returned %v, want context.Canceled", err)
		}
		st, err := os.Stat(local + PartSuffix)
		if err != nil || st.Size() < 2<<20 || st.Size() >= size {
			t.Fatalf("partial file after interruption: %v, %v", st, err)
		}
		have := st.Size()
		if fileExists(local) {
			t.Fatal("the final path exists after an interrupted fetch")
		}
		info, err := Fetch(ctx, src, local, nil, s.opts)
		if err != nil {
			t.Fatalf("resumed Fetch: %v", err)
		}
		got, _ := os.ReadFile(local)
		if !bytes.Equal(got, want) || info.Size != size {
			t.Fatalf("resumed download differs: %d bytes, want %d", len(got), size)
		}
		// Poll: the server may log the request just after answering it.
		sent, offset := s.resumed(t, "src/big.bin")
		for deadline := time.Now().Add(10 * time.Second); sent != size-have && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
			sent, offset = s.resumed(t, "src/big.bin")
		}
		if sent != size-have {
			t.Errorf("server sent %d bytes on resume, want %d (the rest after %d)", sent, size-have, have)
		}
		if offset != -1 && offset != have {
			t.Errorf("server saw a resume from %d, want %d", offset, have)
		}
	})

	t.Run("wrong credentials", func(t *testing.T) {
		bad, secret := s.badOpts(t)
		err := func() error {
			d, err := ParseDestination(s.destURL, bad)
			if err != nil {
				return err
			}
			defer d.Close()
			_, err = Push(ctx, pkg.dir, d, nil, bad)
			return err
		}()
		if !errors.Is(err, ErrAuth) {
			t.Fatalf("push with wrong credentials: %v, want ErrAuth", err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("error does not name the host: %v", err)
		}
		if secret != "" && strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks the secret: %v", err)
		}
	})
}

// waitUploads returns the server's logged uploads after the first skip,
// once there are at least n of them: servers such as nginx write a log
// line just after sending the response, so the client can be faster.
func waitUploads(t *testing.T, s protoServer, skip, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := s.uploads(t)
		if len(got) >= skip+n || time.Now().After(deadline) {
			if len(got) < skip {
				return nil
			}
			return got[skip:]
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func md5Hex(b []byte) string {
	s, _ := fileMD5(bytes.NewReader(b))
	return s
}
