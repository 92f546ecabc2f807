package storage

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// doHTTP sends one request and returns the response with its body read.
func doHTTP(t *testing.T, method, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestHTTPOrigin(t *testing.T) {
	s := openStore(t, testConfig(t))
	body := "0123456789abcdefghij"
	obj := mustPut(t, s, "assets/a/v1/seg_1.m4s", []byte(body))
	srv := httptest.NewServer(NewHTTPHandler(s, testLogger()))
	defer srv.Close()
	url := srv.URL + "/o/" + obj.Path
	etag := `"` + obj.SHA256 + `"`

	resp, got := doHTTP(t, http.MethodGet, url, nil)
	if resp.StatusCode != http.StatusOK || got != body {
		t.Fatalf("get = %d %q", resp.StatusCode, got)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "video/iso.segment" {
		t.Fatalf("content type %q", ct)
	}
	if resp.Header.Get("ETag") != etag {
		t.Fatalf("etag %q, want %q", resp.Header.Get("ETag"), etag)
	}
	if lm := resp.Header.Get("Last-Modified"); lm != testTime.Format(http.TimeFormat) {
		t.Fatalf("last-modified %q", lm)
	}

	resp, got = doHTTP(t, http.MethodGet, url, map[string]string{"Range": "bytes=5-9"})
	if resp.StatusCode != http.StatusPartialContent || got != "56789" || resp.Header.Get("Content-Range") != "bytes 5-9/20" {
		t.Fatalf("range = %d %q %q", resp.StatusCode, got, resp.Header.Get("Content-Range"))
	}
	resp, got = doHTTP(t, http.MethodGet, url, map[string]string{"Range": "bytes=-3"})
	if resp.StatusCode != http.StatusPartialContent || got != "hij" {
		t.Fatalf("suffix range = %d %q", resp.StatusCode, got)
	}
	resp, _ = doHTTP(t, http.MethodGet, url, map[string]string{"Range": "bytes=50-60"})
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || resp.Header.Get("Content-Range") != "bytes */20" {
		t.Fatalf("unsatisfiable range = %d %q", resp.StatusCode, resp.Header.Get("Content-Range"))
	}

	resp, got = doHTTP(t, http.MethodHead, url, nil)
	if resp.StatusCode != http.StatusOK || got != "" || resp.ContentLength != int64(len(body)) || resp.Header.Get("ETag") != etag {
		t.Fatalf("head = %d len %d body %q", resp.StatusCode, resp.ContentLength, got)
	}

	resp, got = doHTTP(t, http.MethodGet, url, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified || got != "" {
		t.Fatalf("if-none-match = %d %q", resp.StatusCode, got)
	}
	resp, _ = doHTTP(t, http.MethodGet, url, map[string]string{"If-None-Match": `"other"`})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("if-none-match other = %d", resp.StatusCode)
	}
	resp, _ = doHTTP(t, http.MethodGet, url, map[string]string{"If-Modified-Since": testTime.Add(time.Hour).Format(http.TimeFormat)})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("if-modified-since = %d", resp.StatusCode)
	}

	errCases := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/o/assets/a/missing.m4s", http.StatusNotFound},
		{http.MethodHead, "/o/assets/a/missing.m4s", http.StatusNotFound},
		{http.MethodGet, "/o/assets//a", http.StatusBadRequest},
		{http.MethodGet, "/o/assets/%5Ca", http.StatusBadRequest},
		{http.MethodGet, "/o/", http.StatusBadRequest},
		{http.MethodPost, "/o/" + obj.Path, http.StatusMethodNotAllowed},
		{http.MethodDelete, "/o/" + obj.Path, http.StatusMethodNotAllowed},
		{http.MethodGet, "/elsewhere", http.StatusNotFound},
	}
	for _, c := range errCases {
		resp, _ := doHTTP(t, c.method, srv.URL+c.path, nil)
		if resp.StatusCode != c.want {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
		if c.want == http.StatusMethodNotAllowed && !strings.Contains(resp.Header.Get("Allow"), "GET") {
			t.Errorf("405 without Allow header")
		}
	}
}
