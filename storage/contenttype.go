package storage

import "github.com/vodfleet/vodfleet/internal/mediatype"

// DefaultContentType is recorded when an object's type is unknown.
const DefaultContentType = mediatype.Default

// ContentType guesses the MIME type of an object from the extension of its
// name, falling back to DefaultContentType (see internal/mediatype).
func ContentType(name string) string { return mediatype.Of(name) }
