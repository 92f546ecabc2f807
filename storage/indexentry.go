package storage

// indexEntry is a raw object entry read during a Publish scan: the value is
// moved verbatim, since records do not contain their own path.
type indexEntry struct {
	path  string
	value []byte
}
