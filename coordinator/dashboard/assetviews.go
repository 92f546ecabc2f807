package dashboard

import (
	"sort"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// assetView is one catalog record as the catalog and asset pages show it.
type assetView struct {
	ID          string            `json:"id"`
	JobID       string            `json:"job_id,omitempty"`
	Title       string            `json:"title"`
	Description string            `json:"description,omitempty"`
	Tags        []string          `json:"tags"`
	Meta        []metaField       `json:"meta"`
	State       string            `json:"state"`
	Error       string            `json:"error,omitempty"`
	Duration    float64           `json:"duration_seconds,omitempty"`
	SizeBytes   int64             `json:"size_bytes"`
	CreatedAt   string            `json:"created_at,omitempty"`
	UpdatedAt   string            `json:"updated_at,omitempty"`
	Preset      string            `json:"preset,omitempty"`
	Ladder      string            `json:"ladder,omitempty"`
	Source      *sourceView       `json:"source,omitempty"`
	Renditions  []renditionView   `json:"renditions"`
	Dests       []destinationView `json:"destinations"`
	HLSURL      string            `json:"hls_url,omitempty"`
	DASHURL     string            `json:"dash_url,omitempty"`
	PosterURL   string            `json:"poster_url,omitempty"`
}

// metaField is one custom field; a list sorted by key keeps the page's
// order stable.
type metaField struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// sourceView is the probe facts of the source.
type sourceView struct {
	Container  string  `json:"container,omitempty"`
	VideoCodec string  `json:"video_codec,omitempty"`
	AudioCodec string  `json:"audio_codec,omitempty"`
	Width      int32   `json:"width,omitempty"`
	Height     int32   `json:"height,omitempty"`
	FrameRate  float64 `json:"frame_rate,omitempty"`
	Audio      int     `json:"audio_tracks"`
	SizeBytes  int64   `json:"size_bytes,omitempty"`
}

// renditionView is one encoded video rendition.
type renditionView struct {
	Name      string `json:"name"`
	Width     int32  `json:"width"`
	Height    int32  `json:"height"`
	Codecs    string `json:"codecs,omitempty"`
	Bitrate   int64  `json:"average_bitrate,omitempty"`
	SizeBytes int64  `json:"size_bytes"`
}

// destinationView is the delivery state at one destination.
type destinationView struct {
	Name  string `json:"name,omitempty"`
	URL   string `json:"url"`
	State string `json:"state"`
	Error string `json:"error,omitempty"`
	Bytes int64  `json:"bytes"`
}

func newAssetView(a *v1.Asset, src Source) assetView {
	v := assetView{
		ID:          a.GetId(),
		JobID:       a.GetJobId(),
		Title:       a.GetTitle(),
		Description: a.GetDescription(),
		Tags:        a.GetTags(),
		Meta:        []metaField{},
		State:       enumName(a.GetState().String(), "ASSET_STATE_"),
		Error:       a.GetError(),
		Duration:    a.GetSource().GetDurationSeconds(),
		SizeBytes:   a.GetSizeBytes(),
		CreatedAt:   timeString(a.GetCreatedAt()),
		UpdatedAt:   timeString(a.GetUpdatedAt()),
		Preset:      a.GetPreset(),
		Ladder:      a.GetLadder(),
		Renditions:  []renditionView{},
		Dests:       []destinationView{},
		HLSURL:      a.GetOutputs().GetHlsUrl(),
		DASHURL:     a.GetOutputs().GetDashUrl(),
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	for k, val := range a.GetMeta() {
		v.Meta = append(v.Meta, metaField{Key: k, Value: val})
	}
	sort.Slice(v.Meta, func(i, j int) bool { return v.Meta[i].Key < v.Meta[j].Key })
	if s := a.GetSource(); s != nil {
		v.Source = &sourceView{Container: s.GetContainer(), VideoCodec: s.GetVideoCodec(), AudioCodec: s.GetAudioCodec(),
			Width: s.GetWidth(), Height: s.GetHeight(), FrameRate: s.GetFrameRate(), Audio: len(s.GetAudioTracks()),
			SizeBytes: s.GetSizeBytes()}
	}
	for _, r := range a.GetRenditions() {
		v.Renditions = append(v.Renditions, renditionView{Name: r.GetName(), Width: r.GetWidth(), Height: r.GetHeight(),
			Codecs: r.GetCodecs(), Bitrate: r.GetAverageBitrate(), SizeBytes: r.GetSizeBytes()})
	}
	for _, d := range a.GetDestinations() {
		v.Dests = append(v.Dests, destinationView{Name: d.GetName(), URL: d.GetUrl(), State: d.GetState(),
			Error: d.GetError(), Bytes: d.GetBytes()})
	}
	if a.GetState() == v1.AssetState_ASSET_STATE_READY {
		v.PosterURL = src.AssetURL(a.GetId(), a.GetOutputs().GetPoster())
	}
	return v
}
