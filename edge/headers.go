package edge

import "net/http"

// Header values shared by every response. Each is a one-element slice
// assigned straight into the header map, so the hit path formats and
// allocates nothing; len == cap, so an Add by anyone appends to a copy and
// never to the shared array.
var (
	hdrBytes      = []string{"bytes"}
	hdrAnyOrigin  = []string{"*"}
	hdrExposed    = []string{corsExposed}
	hdrNoStore    = []string{"no-store"}
	hdrAllowedMth = []string{"GET, HEAD, OPTIONS"}
	hdrStaleWarn  = []string{`110 - "Response is Stale"`}
)

// cacheStatus is how a response was answered, reported in X-Cache.
type cacheStatus uint8

const (
	// cacheHit: from memory or disk, or from a fetch that had completed.
	cacheHit cacheStatus = iota
	// cacheMiss: this request waited on the origin (possibly sharing the
	// fetch with others).
	cacheMiss
	// cacheStale: an expired copy, served because the origin failed.
	cacheStale
)

// cacheStatusValues are the X-Cache values, indexed by cacheStatus.
var cacheStatusValues = [...][]string{cacheHit: {"HIT"}, cacheMiss: {"MISS"}, cacheStale: {"STALE"}}

// set writes X-Cache and, for a stale answer, Warning: 110 (RFC 7234).
func (c cacheStatus) set(h http.Header) {
	h["X-Cache"] = cacheStatusValues[c]
	if c == cacheStale {
		h["Warning"] = hdrStaleWarn
	}
}
