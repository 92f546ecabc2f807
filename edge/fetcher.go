package edge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vodfleet/vodfleet/internal/mediatype"
)

// Fetcher loads objects from a storage node's HTTP origin. Concurrent
// misses for one key share one origin request (a flight) whose body streams
// to every waiter as it arrives, so a burst of players starting the same
// title costs the origin one read per object instead of one per player,
// and none of them waits for the whole object before its first byte.
type Fetcher struct {
	router         *originRouter
	maxObject      int64
	timeout        time.Duration
	playlistMaxAge time.Duration
	cc             cacheControl
	now            func() time.Time
	cache          Cache
	transport      *http.Transport
	client         *http.Client
	// ctx is the parent of every shared fetch; Close cancels it.
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	flights map[string]*flight
	fetches atomic.Uint64
	// latency observes the time from sending a request to the origin's
	// response headers (or the failure). The Server registers it.
	latency prometheus.Histogram
	log     hclog.Logger
}

// NewFetcher returns a Fetcher for cfg.Origin that fills cache (which may be
// nil) with what it fetches. cfg must have passed Validate.
func NewFetcher(cfg Config, cache Cache, log hclog.Logger) *Fetcher {
	dialer := &net.Dialer{Timeout: cfg.connectTimeout(), KeepAlive: 30 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = dialer.DialContext
	tr.TLSHandshakeTimeout = cfg.connectTimeout()
	if cfg.OriginTLS != nil {
		tr.TLSClientConfig = cfg.OriginTLS.Clone()
	}
	tr.ResponseHeaderTimeout = cfg.OriginTimeout
	tr.MaxIdleConnsPerHost = 64
	// Cache the identity bytes the ETag describes; media is incompressible.
	tr.DisableCompression = true
	ctx, cancel := context.WithCancel(context.Background())
	client := &http.Client{Transport: tr}
	return &Fetcher{
		router:         newOriginRouter(cfg.originNodes(), client, cfg.clock(), log),
		maxObject:      cfg.MaxObjectBytes,
		timeout:        cfg.OriginTimeout,
		playlistMaxAge: cfg.PlaylistMaxAge,
		cc:             newCacheControl(cfg),
		now:            cfg.clock(),
		cache:          cache,
		transport:      tr,
		client:         client,
		ctx:            ctx,
		cancel:         cancel,
		flights:        make(map[string]*flight),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vodfleet_edge_origin_latency_seconds",
			Help:    "Time from sending a request to the origin to its response headers.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}),
		log: log,
	}
}

// Fetch returns the object under key ("{asset}/{path}"), fetching it from
// the origin once however many callers ask concurrently, and adds it to the
// cache. The shared fetch is detached from ctx and bounded by OriginTimeout,
// so one impatient player cannot fail the fetch for the others; ctx only
// bounds how long this caller waits. Errors wrap ErrNotFound, ErrOrigin
// (with ErrTimeout) or ErrTooLarge.
func (f *Fetcher) Fetch(ctx context.Context, key string) (*Object, error) {
	fl, obj, _ := f.join(key)
	if obj != nil {
		return obj, nil
	}
	return fl.result(ctx)
}

// join returns the flight fetching key, starting one if none runs, and
// whether it started it. If the object is already available, because the
// flight for key has just completed or the cache gained a fresh copy since
// the caller missed, it returns that object instead.
func (f *Fetcher) join(key string) (fl *flight, obj *Object, created bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl := f.flights[key]; fl != nil {
		obj := fl.completed()
		if obj == nil {
			return fl, nil, false
		}
		if obj.Fresh(f.now()) {
			return nil, obj, false
		}
		// Completed but already expired: replace it with a new flight.
	}
	if f.cache != nil {
		if obj, ok := f.cache.Get(key); ok && obj.Fresh(f.now()) {
			return nil, obj, false
		}
	}
	fl = newFlight(key)
	f.flights[key] = fl
	go f.run(fl)
	return fl, nil, true
}

// run performs fl's fetch and fills the cache. The object enters memory
// before the waiters see the end of the body (readBody holds back the last
// read until finish), so a player that finished downloading and asks again
// finds it cached; disk writes happen after the waiters are released. A
// successful flight stays registered until then, and requests joining it
// meanwhile get the completed object. A failed flight is unregistered
// before its waiters are told, so a request arriving after the failure
// tries the origin again instead of inheriting the old error.
func (f *Fetcher) run(fl *flight) {
	ctx, cancel := context.WithTimeout(f.ctx, f.timeout)
	defer cancel()
	obj, err := f.download(ctx, fl)
	if err != nil {
		f.unregister(fl)
		if errors.Is(err, ErrNotFound) && f.cache != nil {
			f.cache.Remove(fl.key)
		}
		fl.finish(nil, err)
		return
	}
	spill := func() {}
	if sc, ok := f.cache.(stagedCache); ok {
		_, spill = sc.stage(fl.key, obj)
	} else if f.cache != nil {
		f.cache.Add(fl.key, obj)
	}
	fl.finish(obj, nil)
	spill()
	f.unregister(fl)
	f.log.Debug("fetched object", "key", fl.key, "bytes", obj.Size())
}

// unregister removes fl from the flights map.
func (f *Fetcher) unregister(fl *flight) {
	f.mu.Lock()
	if f.flights[fl.key] == fl {
		delete(f.flights, fl.key)
	}
	f.mu.Unlock()
}

// download fetches fl.key, publishing headers and body bytes to fl as they
// arrive, and returns the complete object.
func (f *Fetcher) download(ctx context.Context, fl *flight) (*Object, error) {
	key := fl.key
	resp, err := f.do(ctx, key, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, f.statusError(key, resp.StatusCode)
	}
	if resp.ContentLength > f.maxObject {
		return nil, fmt.Errorf("%w: %s is %d bytes", ErrTooLarge, key, resp.ContentLength)
	}
	ctype := contentTypeFor(key, resp.Header.Get("Content-Type"))
	etag := resp.Header.Get("ETag")
	lastModified, _ := http.ParseTime(resp.Header.Get("Last-Modified"))
	var expires time.Time
	if mediatype.IsPlaylist(key) {
		expires = f.now().Add(f.playlistMaxAge)
	}
	meta := newObjectMeta(ctype, etag, lastModified, expires, f.cc.forPath(key), max(resp.ContentLength, 0))
	fl.setHeaders(meta, resp.ContentLength)
	data, err := f.readBody(fl, resp.Body, resp.ContentLength)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("%w: %s", err, key)
		}
		return nil, f.transportError(key, err)
	}
	if etag == "" || resp.ContentLength < 0 {
		if etag == "" {
			sum := sha256.Sum256(data)
			etag = `"` + hex.EncodeToString(sum[:]) + `"`
		}
		meta = newObjectMeta(ctype, etag, lastModified, expires, f.cc.forPath(key), int64(len(data)))
	}
	return newObject(data, meta), nil
}

// readBody reads the body into one buffer, publishing each read to fl
// except the one that completes a body of known length: finish publishes
// that, once the object is cached. With a known length the buffer is allocated once at that size, so the
// cache's byte accounting matches the memory held; otherwise it grows up to
// maxObject and the result is trimmed.
func (f *Fetcher) readBody(fl *flight, body io.Reader, length int64) ([]byte, error) {
	size := length
	if length < 0 {
		size = min(32<<10, f.maxObject+1)
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			if length >= 0 {
				return buf, nil
			}
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), f.maxObject+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if length >= 0 && int64(len(buf)) == length {
			return buf, nil
		}
		if n > 0 {
			fl.publish(buf)
		}
		if int64(len(buf)) > f.maxObject {
			return nil, ErrTooLarge
		}
		switch {
		case err == io.EOF && length >= 0:
			return nil, io.ErrUnexpectedEOF
		case err == io.EOF:
			if cap(buf)-len(buf) > len(buf)/8 {
				buf = bytes.Clone(buf)
			}
			return buf, nil
		case err != nil:
			return nil, err
		}
	}
}

// Fetches returns how many requests have been sent to the origin.
func (f *Fetcher) Fetches() uint64 { return f.fetches.Load() }

// Close cancels fetches still running and releases idle origin
// connections.
func (f *Fetcher) Close() {
	f.cancel()
	f.transport.CloseIdleConnections()
}
