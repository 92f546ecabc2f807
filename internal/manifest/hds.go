package manifest

import (
	"encoding/base64"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/vodfleet/vodfleet/internal/hds"
	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// HDSManifest writes the multi-bitrate F4M manifest at name (a path
// inside the asset) over the HDS renditions the MUX tasks made: one
// bootstrapInfo (by URL) and one media element per rendition, from the
// lowest bitrate up, with URLs relative to the manifest's directory, where
// every rendition must lie. The duration is the longest rendition's.
//
// Errors wrap ErrBadPath (a rendition outside the manifest's directory)
// or ErrNoTracks (no rendition).
func HDSManifest(name string, media []*vodfleetv1.HdsMedia) (string, error) {
	if len(media) == 0 {
		return "", fmt.Errorf("hds: %w", ErrNoTracks)
	}
	media = append([]*vodfleetv1.HdsMedia(nil), media...)
	sort.SliceStable(media, func(i, j int) bool { return media[i].GetBitrateKbps() < media[j].GetBitrateKbps() })
	dir := path.Dir(name) + "/"
	rel := func(p string) (string, error) {
		r, ok := strings.CutPrefix(p, dir)
		if !ok || r == "" || strings.Contains(r, "..") || strings.HasPrefix(r, "/") {
			return "", fmt.Errorf("hds: %q is not inside %q: %w", p, dir, ErrBadPath)
		}
		return r, nil
	}
	m := &hds.Manifest{ID: "index", StreamType: "recorded", DeliveryType: "streaming"}
	for i, md := range media {
		boot, err := rel(md.GetBootstrap())
		if err != nil {
			return "", err
		}
		url, err := rel(md.GetMedia())
		if err != nil {
			return "", err
		}
		id := fmt.Sprintf("bootstrap%d", i)
		m.Bootstraps = append(m.Bootstraps, hds.BootstrapInfo{Profile: "named", ID: id, URL: boot})
		m.Media = append(m.Media, hds.Media{
			Bitrate: int(md.GetBitrateKbps()), URL: url, BootstrapInfoID: id,
			Width: int(md.GetWidth()), Height: int(md.GetHeight()),
			Metadata: base64.StdEncoding.EncodeToString(md.GetMetadata()),
		})
		m.Duration = max(m.Duration, md.GetDurationSeconds())
	}
	data, err := m.Marshal()
	if err != nil {
		return "", err
	}
	return string(data), nil
}
