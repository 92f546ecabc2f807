package storage

import "time"

// AssetInfo summarises one published asset: the objects under
// "assets/<ID>/". It is read from the asset record the Store maintains in
// the same index transaction as the objects, so it is exact, not estimated.
type AssetInfo struct {
	// ID is the asset id.
	ID string
	// Objects is the number of objects in the asset.
	Objects int64
	// Bytes is the total content size of those objects.
	Bytes int64
	// UpdatedAt is when an object of the asset was last added, replaced or
	// removed, by the Store's clock (Config.Now).
	UpdatedAt time.Time
	// Node is the Config.NodeID of the store that last changed the asset.
	Node string
}
