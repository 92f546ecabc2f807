package storage

import (
	"encoding/json"
	"net/http"
	"time"
)

// AssetRecordJSON is the body of GET /a/<asset> on the HTTP origin.
type AssetRecordJSON struct {
	// Asset is the asset id.
	Asset string `json:"asset"`
	// Node is the id of the storage node holding the asset.
	Node string `json:"node"`
	// Objects is the number of published objects.
	Objects int64 `json:"objects"`
	// Bytes is their total size.
	Bytes int64 `json:"bytes"`
	// UpdatedAt is the last change.
	UpdatedAt time.Time `json:"updated_at"`
}

// serveAsset answers the record of asset id, 404 when this node does not
// hold it. The answer is not cacheable: assets are published and deleted.
func (h *httpOrigin) serveAsset(w http.ResponseWriter, r *http.Request, id string) {
	info, err := h.store.Asset(id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := json.Marshal(AssetRecordJSON{Asset: info.ID, Node: info.Node, Objects: info.Objects, Bytes: info.Bytes, UpdatedAt: info.UpdatedAt})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}
