package storage

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHTTPAssetRecord(t *testing.T) {
	cfg := testConfig(t)
	cfg.NodeID = "node-b"
	s := openStore(t, cfg)
	mustPut(t, s, "assets/a1/v1/seg_1.m4s", []byte("0123456789"))
	mustPut(t, s, "assets/a1/master.m3u8", []byte("#EXTM3U\n"))
	srv := httptest.NewServer(NewHTTPHandler(s, testLogger()))
	defer srv.Close()

	resp, body := doHTTP(t, http.MethodGet, srv.URL+"/a/a1", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /a/a1: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var rec AssetRecordJSON
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	if rec.Asset != "a1" || rec.Node != "node-b" || rec.Objects != 2 || rec.Bytes != 18 {
		t.Fatalf("record = %+v", rec)
	}
	if resp, _ := doHTTP(t, http.MethodHead, srv.URL+"/a/a1", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD /a/a1: %d", resp.StatusCode)
	}
	if resp, _ := doHTTP(t, http.MethodGet, srv.URL+"/a/missing", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown asset: %d, want 404", resp.StatusCode)
	}
	if resp, _ := doHTTP(t, http.MethodGet, srv.URL+"/a/..", nil); resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
		t.Fatalf("invalid id: %d, want 400", resp.StatusCode)
	}
	if _, err := s.DeleteAsset("a1"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := doHTTP(t, http.MethodGet, srv.URL+"/a/a1", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("deleted asset: %d, want 404", resp.StatusCode)
	}
}
