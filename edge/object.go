package edge

import "time"

// Object is one cached origin object. It is immutable once built: the LRU
// hands the same *Object to many concurrent readers, so nothing may modify
// it, including the bytes returned by Data.
type Object struct {
	objectMeta
	data []byte
}

// NewObject builds an Object that never expires and carries no
// Cache-Control. data is retained, not copied; the caller must not modify
// it afterwards.
func NewObject(data []byte, contentType, etag string, lastModified time.Time) *Object {
	return newObject(data, newObjectMeta(contentType, etag, lastModified, time.Time{}, "", int64(len(data))))
}

// newObject pairs data with its metadata.
func newObject(data []byte, meta objectMeta) *Object {
	return &Object{objectMeta: meta, data: data}
}

// Data returns the object's bytes. The slice is shared: do not modify it.
func (o *Object) Data() []byte { return o.data }

// Size returns the length of the object's bytes.
func (o *Object) Size() int64 { return int64(len(o.data)) }
