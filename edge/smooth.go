package edge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/vodfleet/vodfleet/internal/smooth"
)

// mpdName is the DASH manifest the packager writes at the asset root
// (agent/runners.go); the Smooth view is derived from it.
const mpdName = "manifest.mpd"

// maxPresentations bounds the parsed presentations kept per edge.
const maxPresentations = 4096

// smoothView serves Microsoft Smooth Streaming from the stored CMAF
// tracks: the client manifest at /v/{asset}/manifest.ism/Manifest and the
// fragments it names, each built on a cache miss from objects fetched
// (and cached) like any other, then cached itself under its own URL, so
// hits take the ordinary hit paths (fasthttp included). Nothing is
// written to storage. Concurrent misses for one URL share one build.
type smoothView struct {
	builds singleflight.Group

	mu sync.Mutex
	// presentations holds the parsed view of an asset, keyed by asset and
	// valid while the MPD's ETag is unchanged, so fragment misses do not
	// parse the MPD and init segments again.
	presentations map[string]presentationEntry
}

type presentationEntry struct {
	etag string
	p    *smooth.Presentation
}

func newSmoothView() *smoothView {
	return &smoothView{presentations: map[string]presentationEntry{}}
}

// serveSmooth answers a GET or HEAD under /v/{asset}/manifest.ism/. key
// is "{asset}/{objPath}".
func (s *Server) serveSmooth(w http.ResponseWriter, r *http.Request, key, asset, objPath string) {
	req, err := parseSmoothPath(objPath)
	switch {
	case errors.Is(err, errNotSmooth):
		s.errorStatus(w, http.StatusNotFound)
		return
	case err != nil:
		s.badRequest(w, r, err)
		return
	}
	now := s.now()
	var stale *Object
	if obj, ok := s.tiers.mem.Get(key); ok {
		if obj.Fresh(now) {
			s.metrics.hits.Add(1)
			s.serveMemory(w, r, obj, cacheHit)
			return
		}
		stale = obj
	}
	if stale == nil && s.disk != nil {
		if f, meta, ok := s.disk.open(key); ok {
			fresh := meta.Fresh(now)
			if fresh {
				s.metrics.hits.Add(1)
				s.metrics.diskHits.Add(1)
				s.serveFile(w, r, f, meta, cacheHit)
			}
			f.Close()
			if fresh {
				return
			}
		}
	}
	s.metrics.misses.Add(1)
	ch := s.smooth.builds.DoChan(key, func() (any, error) {
		// Detached from this request so its cancel cannot fail the others
		// waiting on the build; the fetches inside are bounded by
		// OriginTimeout each.
		obj, err := s.buildSmooth(s.fetcher.ctx, asset, req)
		if err == nil {
			s.tiers.Add(key, obj)
		}
		return obj, err
	})
	var obj *Object
	select {
	case <-r.Context().Done():
		return
	case res := <-ch:
		if res.Err != nil {
			err = res.Err
			break
		}
		obj = res.Val.(*Object)
		if res.Shared {
			s.metrics.coalesced.Add(1)
		}
	}
	switch {
	case err == nil:
		s.serveMemory(w, r, obj, cacheMiss)
	case errors.Is(err, smooth.ErrNoFragment) || errors.Is(err, smooth.ErrUnsupported):
		s.log.Debug("no such smooth streaming resource", "key", key, "error", err)
		s.errorStatus(w, http.StatusNotFound)
	case stale != nil && errors.Is(err, ErrOrigin):
		s.metrics.stale.Add(1)
		s.serveMemory(w, r, stale, cacheStale)
	case errors.Is(err, smooth.ErrBadMPD) || errors.Is(err, smooth.ErrBadInit) || errors.Is(err, smooth.ErrBadSegment):
		s.log.Warn("stored media cannot be served as smooth streaming", "key", key, "error", err)
		s.errorStatus(w, http.StatusBadGateway)
	default:
		s.fail(w, r, key, err)
	}
}

// buildSmooth produces the manifest or a fragment of asset.
func (s *Server) buildSmooth(ctx context.Context, asset string, req smoothRequest) (*Object, error) {
	mpd, p, err := s.presentation(ctx, asset)
	if err != nil {
		return nil, err
	}
	if req.manifest {
		body, err := p.Manifest()
		if err != nil {
			return nil, err
		}
		// It expires with the MPD it is derived from: both change when
		// the asset is republished.
		meta := newObjectMeta(smooth.ContentType, hashETag(body), mpd.lastModified, mpd.expires, s.cc.playlist, int64(len(body)))
		return newObject(body, meta), nil
	}
	segPath, level, err := p.Segment(req.stream, req.bitrate, req.time)
	if err != nil {
		return nil, err
	}
	seg, err := s.fetcher.Fetch(ctx, asset+"/"+segPath)
	if err != nil {
		return nil, err
	}
	body, info, err := smooth.Fragment(seg.Data(), level.Track.DefaultDuration)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", segPath, err)
	}
	if info.Time != req.time {
		return nil, fmt.Errorf("%w: %s starts at %d, the manifest says %d", smooth.ErrBadSegment, segPath, info.Time, req.time)
	}
	ctype := "video/mp4"
	if !level.Track.Video() {
		ctype = "audio/mp4"
	}
	// The rewrite is a pure function of the segment, so its tag derives
	// from the segment's.
	etag := hashETag(body)
	if e := strings.Trim(seg.ETag(), `"`); e != "" && !strings.HasPrefix(seg.ETag(), "W/") {
		etag = `"sstr-` + e + `"`
	}
	meta := newObjectMeta(ctype, etag, seg.LastModified(), seg.expires, s.cc.segment, int64(len(body)))
	return newObject(body, meta), nil
}

// presentation returns the asset's MPD object and its parsed Smooth view,
// reusing the parsed view while the MPD is unchanged.
func (s *Server) presentation(ctx context.Context, asset string) (*Object, *smooth.Presentation, error) {
	mpd, err := s.fetcher.Fetch(ctx, asset+"/"+mpdName)
	if err != nil {
		return nil, nil, err
	}
	v := s.smooth
	v.mu.Lock()
	e, ok := v.presentations[asset]
	v.mu.Unlock()
	if ok && e.etag == mpd.ETag() && e.etag != "" {
		return mpd, e.p, nil
	}
	p, err := smooth.NewPresentation(mpd.Data(), func(path string) ([]byte, error) {
		obj, err := s.fetcher.Fetch(ctx, asset+"/"+path)
		if err != nil {
			return nil, err
		}
		return obj.Data(), nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("asset %s: %w", asset, err)
	}
	v.mu.Lock()
	if len(v.presentations) >= maxPresentations {
		clear(v.presentations)
	}
	v.presentations[asset] = presentationEntry{etag: mpd.ETag(), p: p}
	v.mu.Unlock()
	return mpd, p, nil
}

// hashETag is a strong ETag over body.
func hashETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}
