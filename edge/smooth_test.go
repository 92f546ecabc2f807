package edge

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vodfleet/vodfleet/internal/clock"

	"github.com/vodfleet/vodfleet/internal/smooth"
	"github.com/vodfleet/vodfleet/internal/smooth/smoothtest"
)

// packagedFiles is a real clip packaged with ffmpeg (smoothtest.Package),
// by path relative to the asset root; built once for the package's tests.
var (
	packagedOnce  sync.Once
	packagedFiles map[string][]byte
)

// smoothAsset puts the packaged files on the fake origin under asset and
// returns them.
func smoothAsset(t *testing.T, o *fakeOrigin, asset string) map[string][]byte {
	t.Helper()
	packagedOnce.Do(func() {
		root, err := os.MkdirTemp("", "edge-smooth-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(root)
		smoothtest.Package(t, root)
		files := map[string][]byte{}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			files[filepath.ToSlash(rel)] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		packagedFiles = files
	})
	if packagedFiles == nil {
		t.Fatal("packaging the test clip failed in an earlier test")
	}
	for rel, b := range packagedFiles {
		o.put(asset+"/"+rel, b)
	}
	return packagedFiles
}

// presentationOf parses the packaged files the way the edge does.
func presentationOf(t *testing.T, files map[string][]byte) *smooth.Presentation {
	t.Helper()
	p, err := smooth.NewPresentation(files[smoothtest.MPDName], func(path string) ([]byte, error) {
		if b, ok := files[path]; ok {
			return b, nil
		}
		return nil, os.ErrNotExist
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSmoothStreamingFromCMAF serves the manifest and every fragment of a
// real packaged asset through the edge (net/http and the fasthttp
// listener) and compares them with what internal/smooth derives from the
// same files on disk: the edge fetched the right segment, rewrote it and
// caches the result, so a second pass costs the origin nothing.
func TestSmoothStreamingFromCMAF(t *testing.T) {
	o := newFakeOrigin(t)
	files := smoothAsset(t, o, "a1")
	s, ts := newTestEdge(t, o.srv.URL, nil)
	fast := startFast(t, s)
	p := presentationOf(t, files)
	wantManifest, err := p.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	type object struct {
		path, ctype string
		body        []byte
	}
	objects := []object{{"/v/a1/manifest.ism/Manifest", smooth.ContentType, wantManifest}}
	for _, st := range p.Streams {
		for _, l := range st.Levels {
			for _, c := range st.Chunks {
				seg, _, err := p.Segment(st.Name, l.Bitrate, c.T)
				if err != nil {
					t.Fatal(err)
				}
				frag, _, err := smooth.Fragment(files[seg], l.Track.DefaultDuration)
				if err != nil {
					t.Fatal(err)
				}
				objects = append(objects, object{
					fmt.Sprintf("/v/a1/manifest.ism/QualityLevels(%d)/Fragments(%s=%d)", l.Bitrate, st.Name, c.T),
					st.Type + "/mp4", frag})
			}
		}
	}
	if len(objects) < 1+3*3 {
		t.Fatalf("only %d objects", len(objects))
	}
	for pass, want := range []string{"MISS", "HIT"} {
		for _, obj := range objects {
			base := ts.URL
			if pass == 1 {
				base = fast // hits go out on the fasthttp path
			}
			resp, body := doURL(t, "GET", base+obj.path, nil)
			expectStatus(t, resp, 200)
			if got := resp.Header.Get("X-Cache"); got != want {
				t.Errorf("pass %d %s: X-Cache %q, want %q", pass, obj.path, got, want)
			}
			if ct := resp.Header.Get("Content-Type"); ct != obj.ctype {
				t.Errorf("%s: Content-Type %q, want %q", obj.path, ct, obj.ctype)
			}
			if resp.Header.Get("ETag") == "" || resp.Header.Get("Cache-Control") == "" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("%s: headers %v", obj.path, resp.Header)
			}
			if !bytes.Equal(body, obj.body) {
				t.Fatalf("%s: %d bytes differ from the %d expected", obj.path, len(body), len(obj.body))
			}
		}
		if pass == 0 {
			o.hits.Store(0)
		}
	}
	if n := o.hits.Load(); n != 0 {
		t.Errorf("second pass reached the origin %d times", n)
	}
	// The manifest is a playlist (short max-age), fragments are immutable.
	resp, _ := doURL(t, "HEAD", ts.URL+objects[0].path, nil)
	if cc := resp.Header.Get("Cache-Control"); strings.Contains(cc, "immutable") {
		t.Errorf("manifest Cache-Control %q", cc)
	}
	resp, _ = doURL(t, "HEAD", ts.URL+objects[1].path, nil)
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("fragment Cache-Control %q", cc)
	}
	// Ranges work on the derived objects too.
	resp, body := doURL(t, "GET", ts.URL+objects[1].path, map[string]string{"Range": "bytes=0-7"})
	expectStatus(t, resp, 206)
	if !bytes.Equal(body, objects[1].body[:8]) {
		t.Errorf("range: %x", body)
	}
}

func TestSmoothManifestPathAgrees(t *testing.T) {
	if smoothManifest != smooth.ManifestPath || !isSmoothPath(smooth.ManifestPath) {
		t.Fatalf("edge serves %q, internal/smooth says %q", smoothManifest, smooth.ManifestPath)
	}
}

// TestSmoothStreamingBadRequests: malformed fragment URLs are 400, URLs
// that name nothing are 404, stored data that cannot be rewritten is 502;
// none of them crashes the edge or is cached.
func TestSmoothStreamingBadRequests(t *testing.T) {
	o := newFakeOrigin(t)
	files := smoothAsset(t, o, "a1")
	o.put("broken/"+smoothtest.MPDName, []byte("<MPD><Period><AdaptationSet"))
	for rel, b := range files {
		// garbled: the first two video segments are not CMAF fragments.
		if strings.HasSuffix(rel, "seg_00000.m4s") || strings.HasSuffix(rel, "seg_00001.m4s") {
			b = []byte("not a fragment")
		}
		o.put("garbled/"+rel, b)
		// nosegs: the MPD and init segments only.
		if rel == smoothtest.MPDName || strings.HasSuffix(rel, "init.mp4") {
			o.put("nosegs/"+rel, b)
		}
	}
	_, ts := newTestEdge(t, o.srv.URL, nil)
	p := presentationOf(t, files)
	v := p.Stream("video")
	good := func(asset string) string {
		return fmt.Sprintf("/v/%s/manifest.ism/QualityLevels(%d)/Fragments(video=%d)", asset, v.Levels[0].Bitrate, v.Chunks[0].T)
	}
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/v/a1/manifest.ism", 404},
		{"/v/a1/manifest.ism/manifest", 404},
		{"/v/a1/manifest.ism/Manifest/x", 404},
		{"/v/a1/manifest.ism/QualityLevels(abc)/Fragments(video=0)", 400},
		{"/v/a1/manifest.ism/QualityLevels(0400000)/Fragments(video=0)", 400},
		{"/v/a1/manifest.ism/QualityLevels(400000)/Fragments(video=-1)", 400},
		{"/v/a1/manifest.ism/QualityLevels(400000)/Fragments(video=99999999999999999999999)", 400},
		{"/v/a1/manifest.ism/QualityLevels(400000)/Fragments(video)", 400},
		{"/v/a1/manifest.ism/QualityLevels(400000)/Fragments(vi%20deo=0)", 400},
		{"/v/a1/manifest.ism/QualityLevels(400000)/Fragments(video=0", 400},
		{"/v/a1/manifest.ism/QualityLevels(400000)/Fragments(video=0)/x", 400},
		{"/v/a1/manifest.ism/QualityLevels()/Fragments(video=0)", 400},
		{fmt.Sprintf("/v/a1/manifest.ism/QualityLevels(%d)/Fragments(video=%d)", v.Levels[0].Bitrate, v.Chunks[1].T+1), 404},
		{fmt.Sprintf("/v/a1/manifest.ism/QualityLevels(%d)/Fragments(video=0)", v.Levels[0].Bitrate+1), 404},
		{fmt.Sprintf("/v/a1/manifest.ism/QualityLevels(%d)/Fragments(text=0)", v.Levels[0].Bitrate), 404},
		{"/v/nosuch/manifest.ism/Manifest", 404},
		{good("nosuch"), 404},
		{"/v/broken/manifest.ism/Manifest", 502},
		{good("garbled"), 502},
		{good("nosegs"), 404},
		{"/v/nosegs/manifest.ism/Manifest", 200},
		{good("a1"), 200},
	} {
		for range 2 { // a failure is not cached: the second answer is the same
			if got := rawStatus(t, ts, c.path); got != c.status {
				t.Errorf("GET %s: %d, want %d", c.path, got, c.status)
			}
		}
	}
}

// TestSmoothStreamingSignedAndCoalesced: with signed URLs the manifest and
// the fragment URLs relative to it work under one asset token and nothing
// is served without it; many simultaneous cold requests for the manifest
// and for one fragment cost the origin one fetch per source object (the
// MPD, each init segment, the one media segment).
func TestSmoothStreamingSignedAndCoalesced(t *testing.T) {
	const n = 20
	o := newFakeOrigin(t)
	files := smoothAsset(t, o, "a1")
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	_, ts := newTestEdge(t, o.srv.URL, func(c *Config) {
		c.Now = clk.Now
		c.SigningKey = testKey
	})
	p := presentationOf(t, files)
	base := SignedPath(testKey, "a1", clk.Now().Add(time.Hour))
	manifestURL, _ := url.Parse(ts.URL + base + smooth.ManifestPath)
	v := p.Stream("video")
	frag := manifestURL.ResolveReference(&url.URL{Path: fmt.Sprintf("QualityLevels(%d)/Fragments(video=%d)", v.Levels[0].Bitrate, v.Chunks[1].T)})

	for _, u := range []string{"/v/a1/" + smooth.ManifestPath, strings.Replace(frag.Path, base, "/v/a1/", 1)} {
		if got := rawStatus(t, ts, u); got != 403 {
			t.Errorf("unsigned %s: %d, want 403", u, got)
		}
	}
	inits := 0
	for _, st := range p.Streams {
		inits += len(st.Levels)
	}
	for _, c := range []struct {
		url        string
		wantOrigin int64
	}{
		{manifestURL.String(), int64(1 + inits)},
		{frag.String(), 1},
	} {
		o.hits.Store(0)
		var wg sync.WaitGroup
		bodies := make([][]byte, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.Get(c.url)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("%s: %d", c.url, resp.StatusCode)
				}
				bodies[i], _ = io.ReadAll(resp.Body)
			}()
		}
		wg.Wait()
		if got := o.hits.Load(); got != c.wantOrigin {
			t.Errorf("%s: %d origin fetches for %d requests, want %d", c.url, got, n, c.wantOrigin)
		}
		for i := range bodies {
			if len(bodies[i]) == 0 || !bytes.Equal(bodies[i], bodies[0]) {
				t.Fatalf("%s: answer %d differs", c.url, i)
			}
		}
	}
}
