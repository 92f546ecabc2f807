package hds

import "errors"

// Sentinel errors; every parse error wraps one of them.
var (
	// ErrBadManifest means an F4M manifest is not well formed or lacks
	// what a player needs (a media element with a url and a bootstrap).
	ErrBadManifest = errors.New("bad f4m manifest")
	// ErrBadBootstrap means an abst box is truncated or inconsistent.
	ErrBadBootstrap = errors.New("bad hds bootstrap")
	// ErrBadFragment means an F4F fragment is not an mdat box of FLV tags.
	ErrBadFragment = errors.New("bad f4f fragment")
)
