package edge

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vodfleet/vodfleet/internal/smooth"
	"github.com/vodfleet/vodfleet/internal/smooth/smoothtest"
)

// smoothAsset packages a real clip with ffmpeg and puts every file on the
// fake origin under asset, returning the packaged directory.
func smoothAsset(t *testing.T, o *fakeOrigin, asset string) string {
	t.Helper()
	root := t.TempDir()
	smoothtest.Package(t, root)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		o.put(asset+"/"+filepath.ToSlash(rel), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestSmoothStreamingFromCMAF serves the manifest and every fragment of a
// real packaged asset through the edge (net/http and the fasthttp
// listener) and compares them with what internal/smooth derives from the
// same files on disk: the edge fetched the right segment, rewrote it and
// caches the result, so a second pass costs the origin nothing.
func TestSmoothStreamingFromCMAF(t *testing.T) {
	o := newFakeOrigin(t)
	root := smoothAsset(t, o, "a1")
	s, ts := newTestEdge(t, o.srv.URL, nil)
	fast := startFast(t, s)

	mpd, err := os.ReadFile(filepath.Join(root, smoothtest.MPDName))
	if err != nil {
		t.Fatal(err)
	}
	p, err := smooth.NewPresentation(mpd, func(path string) ([]byte, error) { return os.ReadFile(filepath.Join(root, path)) })
	if err != nil {
		t.Fatal(err)
	}
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
				b, err := os.ReadFile(filepath.Join(root, seg))
				if err != nil {
					t.Fatal(err)
				}
				frag, _, err := smooth.Fragment(b, l.Track.DefaultDuration)
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
	root := smoothAsset(t, o, "a1")
	o.put("broken/"+smoothtest.MPDName, []byte("<MPD><Period><AdaptationSet"))
	// An asset whose first video segment is not a CMAF fragment.
	mpd, err := os.ReadFile(filepath.Join(root, smoothtest.MPDName))
	if err != nil {
		t.Fatal(err)
	}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			if strings.HasSuffix(rel, "seg_00000.m4s") || strings.HasSuffix(rel, "seg_00001.m4s") {
				b = []byte("not a fragment")
			}
			o.put("garbled/"+filepath.ToSlash(rel), b)
		}
		return nil
	})
	o.put("nosegs/"+smoothtest.MPDName, mpd)
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, "init.mp4") {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			o.put("nosegs/"+filepath.ToSlash(rel), b)
		}
		return nil
	})
	_, ts := newTestEdge(t, o.srv.URL, nil)
	p, err := smooth.NewPresentation(mpd, func(path string) ([]byte, error) { return os.ReadFile(filepath.Join(root, path)) })
	if err != nil {
		t.Fatal(err)
	}
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
