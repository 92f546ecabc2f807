package transfer

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vodfleet/vodfleet/internal/mediatype"
)

// Cache-Control values Push sends. Segments and downloads never change
// once published; manifests can be rewritten by a re-push, so caches
// keep them briefly.
const (
	CacheImmutable = "public, max-age=31536000, immutable"
	CacheManifest  = "public, max-age=60"
)

// PushResult says what Push did, file by file.
type PushResult struct {
	// Sent lists the files uploaded, in the order their upload finished.
	Sent []string
	// Skipped lists the files the destination already had (same size and,
	// where it offers one, the same MD5).
	Skipped []string
	// Bytes is the number of bytes uploaded (skipped files excluded).
	Bytes int64
}

// pushFile is one local file to push.
type pushFile struct {
	rel  string // slash-separated, relative to the package root
	abs  string
	size int64
}

// Push uploads every regular file under localDir to dest, keeping the
// relative layout. Media (segments, MP4 downloads, thumbnails, subtitles)
// go first, opts.Concurrency at a time; then manifests (media playlists
// and MPDs), then HLS master playlists, each phase starting only when the
// previous one finished, so a consumer never sees a manifest that points
// at a missing file. If a media file cannot be sent, no manifest is.
//
// A file the destination already holds with the same size (and the same
// MD5 when the destination offers one) is skipped, which makes a re-push
// after a failure send only what is missing. Each file is retried with
// backoff (opts.Retries, opts.Backoff, opts.Sleep); ErrAuth and
// ErrHostKey stop the push at once. progress, if not nil, receives bytes
// done (skipped files count as done) against the package's total size;
// Push serialises its calls.
func Push(ctx context.Context, localDir string, dest Destination, progress Progress, opts Options) (PushResult, error) {
	if err := opts.Validate(); err != nil {
		return PushResult{}, err
	}
	opts = opts.withDefaults()
	files, total, err := listFiles(localDir)
	if err != nil {
		return PushResult{}, err
	}
	p := &pusher{dest: dest, opts: opts, progress: progress, total: total}
	for _, phase := range phases(files) {
		if err := p.run(ctx, phase); err != nil {
			return p.result(), err
		}
	}
	return p.result(), nil
}

// pusher holds the state of one Push.
type pusher struct {
	dest     Destination
	opts     Options
	progress Progress
	total    int64

	progressMu sync.Mutex // serialises progress calls
	done       int64

	mu  sync.Mutex
	res PushResult
}

func (p *pusher) result() PushResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.res
	r.Sent = append([]string(nil), r.Sent...)
	r.Skipped = append([]string(nil), r.Skipped...)
	return r
}

// add counts n bytes done (negative when a failed attempt's bytes will
// be sent again) and reports the new total, one call at a time.
func (p *pusher) add(n int64) {
	p.progressMu.Lock()
	defer p.progressMu.Unlock()
	p.done += n
	if p.progress != nil {
		p.progress(p.done, p.total)
	}
}

// run pushes one phase's files with opts.Concurrency workers and returns
// the first error, cancelling the others.
func (p *pusher) run(ctx context.Context, files []pushFile) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan pushFile)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range min(p.opts.Concurrency, max(len(files), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				if err := p.one(ctx, f); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
	for _, f := range files {
		select {
		case work <- f:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return first
}

// one pushes a single file with retries.
func (p *pusher) one(ctx context.Context, f pushFile) error {
	fh, err := os.Open(f.abs)
	if err != nil {
		return err
	}
	defer fh.Close()
	sum, err := fileMD5(fh)
	if err != nil {
		return fmt.Errorf("%s: %w", f.rel, err)
	}
	meta := Meta{ContentType: mediatype.Of(f.rel), CacheControl: CacheImmutable, MD5: sum}
	if isManifest(f.rel) {
		meta.CacheControl = CacheManifest
	}
	return retry(ctx, p.opts, f.rel, func() error {
		info, err := p.dest.Stat(ctx, f.rel)
		switch {
		case err == nil && info.Size == f.size && (info.MD5 == "" || info.MD5 == sum):
			p.mu.Lock()
			p.res.Skipped = append(p.res.Skipped, f.rel)
			p.mu.Unlock()
			p.add(f.size)
			p.opts.Logger.Debug("already present", "file", f.rel)
			return nil
		case err != nil && !errors.Is(err, ErrNotFound):
			return err
		}
		// Some clients read the body on their own goroutine.
		var sent atomic.Int64
		err = p.dest.Put(ctx, f.rel, fh, f.size, meta, func(n int64) { sent.Add(n); p.add(n) })
		if err != nil {
			p.add(-sent.Load()) // the retry sends it again
			return err
		}
		p.mu.Lock()
		p.res.Sent = append(p.res.Sent, f.rel)
		p.res.Bytes += f.size
		p.mu.Unlock()
		p.opts.Logger.Debug("sent", "file", f.rel, "bytes", f.size)
		return nil
	})
}

// fileMD5 returns the hex MD5 of r's whole content.
func fileMD5(r io.ReaderAt) (string, error) {
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, 1<<62)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// listFiles returns the regular files under dir, sorted, and their total
// size. Symbolic links and other special files are refused rather than
// followed out of the package.
func listFiles(dir string) ([]pushFile, int64, error) {
	var files []pushFile
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, pushFile{rel: filepath.ToSlash(rel), abs: p, size: info.Size()})
		total += info.Size()
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	return files, total, nil
}

// manifestExts are the files that reference others and so go last: HLS
// playlists, DASH MPDs, Smooth Streaming and HDS manifests, SMIL.
var manifestExts = map[string]bool{".m3u8": true, ".m3u": true, ".mpd": true, ".ism": true, ".ismc": true, ".f4m": true, ".smil": true}

// isManifest reports whether rel is a manifest or playlist.
func isManifest(rel string) bool {
	return manifestExts[strings.ToLower(path.Ext(rel))]
}

// phases splits files into the upload phases: media, then manifests that
// reference media, then HLS master playlists (which reference the media
// playlists). Empty phases are dropped.
func phases(files []pushFile) [][]pushFile {
	var media, manifests, masters []pushFile
	for _, f := range files {
		switch {
		case !isManifest(f.rel):
			media = append(media, f)
		case isMasterPlaylist(f.abs):
			masters = append(masters, f)
		default:
			manifests = append(manifests, f)
		}
	}
	var out [][]pushFile
	for _, ph := range [][]pushFile{media, manifests, masters} {
		if len(ph) > 0 {
			out = append(out, ph)
		}
	}
	return out
}

// isMasterPlaylist reports whether the file is an HLS multivariant
// playlist: one naming other playlists via EXT-X-STREAM-INF.
func isMasterPlaylist(abs string) bool {
	if !strings.EqualFold(path.Ext(abs), ".m3u8") {
		return false
	}
	b, err := os.ReadFile(abs)
	return err == nil && bytes.Contains(b, []byte("#EXT-X-STREAM-INF"))
}
