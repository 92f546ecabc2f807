package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/coordinator/catalog"
	"github.com/vodfleet/vodfleet/internal/etcdserver/etcdtest"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// catalogSource is sampleSource with a real catalog store on embedded etcd
// holding three records: a ready one with facts, renditions and a
// destination, a processing one, and a third sharing a tag.
func catalogSource(t *testing.T) *fakeSource {
	t.Helper()
	_, cli := etcdtest.Start(t)
	st := catalog.NewStore(cli, "/t", nil, hclog.NewNullLogger())
	put := func(r catalog.NewRecord, facts *v1.Asset) {
		t.Helper()
		facts.Id = r.ID
		_, ops, err := st.CreateOps(r, facts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cli.Txn(context.Background()).Then(ops...).Commit(); err != nil {
			t.Fatal(err)
		}
	}
	put(catalog.NewRecord{ID: "a1", JobID: "a1", Title: "Harbour at dawn", Description: "boats leaving",
		Tags: []string{"sea", "promo"}, Meta: map[string]string{"client": "acme", "season": "3"}},
		&v1.Asset{State: v1.AssetState_ASSET_STATE_READY, SizeBytes: 1234,
			Source:       &v1.SourceFacts{Container: "mov,mp4", VideoCodec: "h264", DurationSeconds: 4, Width: 320, Height: 180},
			Renditions:   []*v1.AssetRendition{{Name: "180p", Width: 320, Height: 180, Codecs: "avc1.64000d", SizeBytes: 1000}},
			Outputs:      &v1.AssetOutputs{Poster: "thumbs/poster.jpg", HlsUrl: "http://edge/v/a1/master.m3u8"},
			Destinations: []*v1.AssetDestination{{Name: "cdn", Url: "s3://bucket/vod", State: "DONE", Bytes: 1234}}})
	put(catalog.NewRecord{ID: "a2", JobID: "a2", Title: "Mountain pass", Tags: []string{"land"}},
		&v1.Asset{State: v1.AssetState_ASSET_STATE_PROCESSING})
	put(catalog.NewRecord{ID: "a3", JobID: "a3", Title: "Sea cliffs", Tags: []string{"sea"}, Meta: map[string]string{"client": "other"}},
		&v1.Asset{State: v1.AssetState_ASSET_STATE_PROCESSING})
	src := sampleSource()
	src.catalog = st
	return src
}

// listed GETs /api/assets with query q and returns the ids and the token.
func listed(t *testing.T, h http.Handler, q url.Values) ([]string, string) {
	t.Helper()
	res, body := get(t, h, http.MethodGet, "/api/assets?"+q.Encode())
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/assets?%s: %d %s", q.Encode(), res.StatusCode, body)
	}
	var out assetsAnswer
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range out.Assets {
		ids = append(ids, a.ID)
	}
	return ids, out.NextPageToken
}

func TestAPIAssetsFiltersAndPages(t *testing.T) {
	h := newTestHandler(t, catalogSource(t), Config{})
	cases := []struct {
		name string
		q    url.Values
		want string
	}{
		{"all", url.Values{}, "a1,a2,a3"},
		{"tag", url.Values{"tag": {"sea"}}, "a1,a3"},
		{"two tags", url.Values{"tag": {"sea", "promo"}}, "a1"},
		{"meta", url.Values{"meta": {"client=acme"}}, "a1"},
		{"state", url.Values{"state": {"processing"}}, "a2,a3"},
		{"search", url.Values{"search": {"harbour"}}, "a1"},
		{"search and tag", url.Values{"search": {"sea"}, "tag": {"land"}}, ""},
	}
	for _, c := range cases {
		ids, _ := listed(t, h, c.q)
		if got := strings.Join(ids, ","); got != c.want {
			t.Errorf("%s: got [%s], want [%s]", c.name, got, c.want)
		}
	}

	// Pages of one: every record once, then no token.
	var all []string
	q := url.Values{"limit": {"1"}}
	for range 5 {
		ids, next := listed(t, h, q)
		all = append(all, ids...)
		if next == "" {
			break
		}
		q.Set("page_token", next)
	}
	if got := strings.Join(all, ","); got != "a1,a2,a3" {
		t.Errorf("paged with limit 1: [%s], want [a1,a2,a3]", got)
	}

	for _, bad := range []string{"state=bogus", "limit=0", "limit=x", "meta=novalue", "limit=100000"} {
		res, body := get(t, h, http.MethodGet, "/api/assets?"+bad)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"error"`) {
			t.Errorf("GET /api/assets?%s: %d %s, want 400 with an error", bad, res.StatusCode, body)
		}
	}
}

func TestAPIAssetRecord(t *testing.T) {
	h := newTestHandler(t, catalogSource(t), Config{})
	res, body := get(t, h, http.MethodGet, "/api/assets/a1")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/assets/a1: %d %s", res.StatusCode, body)
	}
	var out assetAnswer
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	a := out.Asset
	if a.Title != "Harbour at dawn" || a.Description != "boats leaving" || a.State != "ready" ||
		strings.Join(a.Tags, ",") != "promo,sea" || a.Duration != 4 || a.SizeBytes != 1234 || a.CreatedAt == "" {
		t.Errorf("record: %+v", a)
	}
	if len(a.Meta) != 2 || a.Meta[0] != (metaField{"client", "acme"}) || a.Meta[1] != (metaField{"season", "3"}) {
		t.Errorf("meta %+v, want client=acme, season=3 in key order", a.Meta)
	}
	if a.Source == nil || a.Source.VideoCodec != "h264" || a.Source.Width != 320 {
		t.Errorf("source facts %+v", a.Source)
	}
	if len(a.Renditions) != 1 || a.Renditions[0].Name != "180p" || a.Renditions[0].SizeBytes != 1000 {
		t.Errorf("renditions %+v", a.Renditions)
	}
	if len(a.Dests) != 1 || a.Dests[0] != (destinationView{Name: "cdn", URL: "s3://bucket/vod", State: "DONE", Bytes: 1234}) {
		t.Errorf("destinations %+v", a.Dests)
	}
	if a.PosterURL != "http://edge/v/a1/thumbs/poster.jpg" || a.HLSURL != "http://edge/v/a1/master.m3u8" {
		t.Errorf("poster %q hls %q", a.PosterURL, a.HLSURL)
	}

	// Not ready: no poster; lists are empty, not null.
	_, body = get(t, h, http.MethodGet, "/api/assets/a2")
	if !strings.Contains(body, `"renditions": []`) || !strings.Contains(body, `"destinations": []`) || strings.Contains(body, "poster_url") {
		t.Errorf("processing record: %s", body)
	}
	if res, body := get(t, h, http.MethodGet, "/api/assets/nope"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown asset: %d %s, want 404", res.StatusCode, body)
	}
}

func TestAPIAssetsNeedAuth(t *testing.T) {
	src := catalogSource(t)
	h := newTestHandler(t, src, Config{Authenticate: func(r *http.Request) error {
		if r.Header.Get("Authorization") != "Bearer ok" {
			return ErrForbidden
		}
		return nil
	}})
	for _, p := range []string{"/api/assets", "/api/assets/a1"} {
		if res, _ := get(t, h, http.MethodGet, p); res.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s without credentials: %d, want 403", p, res.StatusCode)
		}
	}
}
