package edge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/singleflight"
)

// Route cache bounds. Assets never move between nodes once published, so a
// found route is kept until the node answers 404 for the asset (deleted or
// republished elsewhere); an unknown asset is remembered briefly so a flood
// of requests for it does not turn into a flood of lookups on every node.
const (
	routeTTL     = 10 * time.Minute
	negativeTTL  = 2 * time.Second
	maxRoutes    = 100_000
	maxRecordLen = 64 << 10
)

// route is a cached answer of where an asset lives.
type route struct {
	base    string // "" when no node holds the asset
	expires time.Time
}

// originRouter maps assets to the origin of the storage node holding them.
// With one origin every asset goes there and nothing is looked up.
type originRouter struct {
	nodes  []OriginNode
	client *http.Client
	now    func() time.Time
	log    hclog.Logger

	lookups singleflight.Group
	mu      sync.Mutex
	routes  map[string]route
}

func newOriginRouter(nodes []OriginNode, client *http.Client, now func() time.Time, log hclog.Logger) *originRouter {
	return &originRouter{nodes: nodes, client: client, now: now, log: log, routes: map[string]route{}}
}

// base returns the origin base URL serving asset.
func (r *originRouter) base(ctx context.Context, asset string) (string, error) {
	if len(r.nodes) == 1 {
		return r.nodes[0].URL, nil
	}
	now := r.now()
	r.mu.Lock()
	rt, ok := r.routes[asset]
	r.mu.Unlock()
	if !ok || now.After(rt.expires) {
		// One lookup per asset however many requests miss at once; it is
		// detached from the first caller so its cancel cannot fail the rest.
		ch := r.lookups.DoChan(asset, func() (any, error) {
			return r.lookup(context.WithoutCancel(ctx), asset)
		})
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w: locate asset %s: %w", ErrOrigin, asset, ctx.Err())
		case res := <-ch:
			if res.Err != nil {
				return "", res.Err
			}
			rt = res.Val.(route)
		}
	}
	if rt.base == "" {
		return "", fmt.Errorf("%w: asset %s is on no storage node", ErrNotFound, asset)
	}
	return rt.base, nil
}

// forget drops the route of asset, after its node answered 404.
func (r *originRouter) forget(asset string) {
	if len(r.nodes) == 1 {
		return
	}
	r.mu.Lock()
	delete(r.routes, asset)
	r.mu.Unlock()
}

// lookup asks every node for the asset record in parallel and caches the
// answer. The record's node id picks the origin; a node that answers but
// is not configured under that id is used as it is. When no node has the
// asset but some could not be asked, the error is ErrOrigin (not cached),
// so stale copies keep being served and players retry.
func (r *originRouter) lookup(ctx context.Context, asset string) (route, error) {
	type answer struct {
		node  OriginNode
		found bool
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answers := make(chan answer, len(r.nodes))
	for _, n := range r.nodes {
		go func() {
			found, err := r.ask(ctx, n, asset)
			answers <- answer{n, found, err}
		}()
	}
	var errs []error
	for range r.nodes {
		a := <-answers
		switch {
		case a.err != nil:
			errs = append(errs, a.err)
		case a.found:
			rt := route{base: a.node.URL, expires: r.now().Add(routeTTL)}
			r.store(asset, rt)
			return rt, nil
		}
	}
	if len(errs) > 0 {
		return route{}, fmt.Errorf("%w: locate asset %s: %w", ErrOrigin, asset, errors.Join(errs...))
	}
	rt := route{expires: r.now().Add(negativeTTL)}
	r.store(asset, rt)
	return rt, nil
}

// ask fetches asset's record from one node: found, 404, or an error.
func (r *originRouter) ask(ctx context.Context, n OriginNode, asset string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.URL+"/a/"+url.PathEscape(asset), nil)
	if err != nil {
		return false, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("node %s: %w", n.ID, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusBadRequest:
		return false, nil
	default:
		return false, fmt.Errorf("node %s: asset record: status %d", n.ID, resp.StatusCode)
	}
	var rec struct {
		Node string `json:"node"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxRecordLen)).Decode(&rec); err != nil {
		return false, fmt.Errorf("node %s: asset record: %w", n.ID, err)
	}
	if rec.Node != n.ID {
		r.log.Warn("asset record names another node", "asset", asset, "asked", n.ID, "record", rec.Node)
	}
	return true, nil
}

// store caches a route, starting over when the table is full.
func (r *originRouter) store(asset string, rt route) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.routes) >= maxRoutes {
		clear(r.routes)
	}
	r.routes[asset] = rt
}

// assetOf returns the asset id of a cache key ("{asset}/{path}").
func assetOf(key string) string {
	asset, _, _ := strings.Cut(key, "/")
	return asset
}
