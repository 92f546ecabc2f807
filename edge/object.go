package edge

import "time"

// Object is one cached origin object. It is immutable once built: the LRU
// hands the same *Object to many concurrent readers, so nothing may modify
// it, including the bytes returned by Data.
type Object struct {
	data         []byte
	contentType  string
	etag         string
	lastModified time.Time
	// expires is when the edge must refetch the object; zero means never
	// (segments are immutable, only playlists expire).
	expires time.Time
}

// NewObject builds an Object that never expires. data is retained, not
// copied; the caller must not modify it afterwards.
func NewObject(data []byte, contentType, etag string, lastModified time.Time) *Object {
	return &Object{data: data, contentType: contentType, etag: etag, lastModified: lastModified}
}

// Data returns the object's bytes. The slice is shared: do not modify it.
func (o *Object) Data() []byte { return o.data }

// Size returns the length of the object's bytes.
func (o *Object) Size() int64 { return int64(len(o.data)) }

// ContentType returns the media type the edge serves the object with.
func (o *Object) ContentType() string { return o.contentType }

// ETag returns the quoted entity tag (the origin's sha256), used for
// If-None-Match and If-Range.
func (o *Object) ETag() string { return o.etag }

// LastModified returns the origin's Last-Modified time, zero if unknown.
func (o *Object) LastModified() time.Time { return o.lastModified }

// Fresh reports whether the object may still be served at now without
// asking the origin again.
func (o *Object) Fresh(now time.Time) bool {
	return o.expires.IsZero() || now.Before(o.expires)
}
