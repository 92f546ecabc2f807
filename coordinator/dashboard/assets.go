package dashboard

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/vodfleet/vodfleet/coordinator/catalog"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// The catalog view's endpoints: GET /api/assets (the filtered, paged
// listing of asset records, the same search as `vodfleet assets`) and
// GET /api/assets/{id} (one record). Both only read the catalog store.

// assetsAnswer is GET /api/assets.
type assetsAnswer struct {
	Assets []assetView `json:"assets"`
	// NextPageToken fetches the next page; empty on the last.
	NextPageToken string `json:"next_page_token,omitempty"`
}

// listAssets answers GET /api/assets?tag=T&meta=K=V&state=S&search=Q&limit=N&page_token=P.
// tag and meta may repeat; every filter must hold.
func (h *Handler) listAssets(r *http.Request) (any, error) {
	q, err := queryOf(r)
	if err != nil {
		return nil, err
	}
	assets, next, err := h.src.Catalog().Search(r.Context(), q)
	if err != nil {
		return nil, err
	}
	out := assetsAnswer{Assets: make([]assetView, 0, len(assets)), NextPageToken: next}
	for _, a := range assets {
		out.Assets = append(out.Assets, newAssetView(a, h.src))
	}
	return out, nil
}

// queryOf reads the listing's filters from the URL.
func queryOf(r *http.Request) (catalog.Query, error) {
	v := r.URL.Query()
	q := catalog.Query{Search: v.Get("search"), PageToken: v.Get("page_token")}
	for _, t := range v["tag"] {
		if t = strings.TrimSpace(t); t != "" {
			q.Tags = append(q.Tags, t)
		}
	}
	for _, kv := range v["meta"] {
		if kv == "" {
			continue
		}
		k, val, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return q, fmt.Errorf("meta %q must be KEY=VALUE: %w", kv, catalog.ErrInvalid)
		}
		if q.Meta == nil {
			q.Meta = map[string]string{}
		}
		q.Meta[k] = val
	}
	if s := v.Get("state"); s != "" {
		n, ok := v1.AssetState_value["ASSET_STATE_"+strings.ToUpper(s)]
		if !ok || n == 0 {
			return q, fmt.Errorf("state %q is not one of processing, ready, failed, cancelled: %w", s, catalog.ErrInvalid)
		}
		q.State = v1.AssetState(n)
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, fmt.Errorf("limit %q must be a positive number: %w", s, catalog.ErrInvalid)
		}
		q.Limit = n
	}
	return q, nil
}

// assetAnswer is GET /api/assets/{id}.
type assetAnswer struct {
	Asset assetView `json:"asset"`
}

// getAsset answers GET /api/assets/{id}.
func (h *Handler) getAsset(r *http.Request) (any, error) {
	a, err := h.src.Catalog().GetAsset(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return assetAnswer{Asset: newAssetView(a, h.src)}, nil
}
