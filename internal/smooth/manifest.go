package smooth

import (
	"encoding/xml"
	"fmt"
	"math"
)

// ManifestTimeScale is the SmoothStreamingMedia TimeScale: the manifest
// Duration is in it (each StreamIndex carries its own media timescale).
const ManifestTimeScale = 10_000_000

// ManifestPath is where the edge serves an asset's client manifest,
// relative to the asset root (/v/{asset}/manifest.ism/Manifest); fragment
// URLs are relative to it.
const ManifestPath = "manifest.ism/Manifest"

// ContentType is the media type of the client manifest.
const ContentType = "application/vnd.ms-sstr+xml"

// The client manifest elements (MS-SSTR 2.2.2).
type (
	ssmXML struct {
		XMLName      xml.Name         `xml:"SmoothStreamingMedia"`
		MajorVersion int              `xml:"MajorVersion,attr"`
		MinorVersion int              `xml:"MinorVersion,attr"`
		TimeScale    int64            `xml:"TimeScale,attr"`
		Duration     uint64           `xml:"Duration,attr"`
		Streams      []streamIndexXML `xml:"StreamIndex"`
	}
	streamIndexXML struct {
		Type          string            `xml:"Type,attr"`
		Name          string            `xml:"Name,attr"`
		Language      string            `xml:"Language,attr,omitempty"`
		Subtype       string            `xml:"Subtype,attr,omitempty"`
		TimeScale     uint32            `xml:"TimeScale,attr"`
		Chunks        int               `xml:"Chunks,attr"`
		QualityLevels int               `xml:"QualityLevels,attr"`
		MaxWidth      int               `xml:"MaxWidth,attr,omitempty"`
		MaxHeight     int               `xml:"MaxHeight,attr,omitempty"`
		DisplayWidth  int               `xml:"DisplayWidth,attr,omitempty"`
		DisplayHeight int               `xml:"DisplayHeight,attr,omitempty"`
		URL           string            `xml:"Url,attr"`
		Levels        []qualityLevelXML `xml:"QualityLevel"`
		ChunkList     []chunkXML        `xml:"c"`
	}
	qualityLevelXML struct {
		Index            int    `xml:"Index,attr"`
		Bitrate          int64  `xml:"Bitrate,attr"`
		FourCC           string `xml:"FourCC,attr"`
		MaxWidth         int    `xml:"MaxWidth,attr,omitempty"`
		MaxHeight        int    `xml:"MaxHeight,attr,omitempty"`
		SamplingRate     int    `xml:"SamplingRate,attr,omitempty"`
		Channels         int    `xml:"Channels,attr,omitempty"`
		BitsPerSample    int    `xml:"BitsPerSample,attr,omitempty"`
		PacketSize       int    `xml:"PacketSize,attr,omitempty"`
		AudioTag         int    `xml:"AudioTag,attr,omitempty"`
		CodecPrivateData string `xml:"CodecPrivateData,attr"`
	}
	chunkXML struct {
		N int    `xml:"n,attr"`
		T uint64 `xml:"t,attr"`
		D uint64 `xml:"d,attr"`
	}
)

// aacAudioTag is the WAVE format tag Smooth uses for raw AAC.
const aacAudioTag = 255

// Manifest renders the client manifest: SmoothStreamingMedia version 2.2
// with the presentation Duration in ManifestTimeScale units and one
// StreamIndex per stream, whose TimeScale is the media timescale, whose
// QualityLevels carry the codec data from the init segments, and whose c
// elements give every chunk's number, start and duration explicitly.
// Fragment URLs are QualityLevels({bitrate})/Fragments({name}={start
// time}) relative to the manifest.
func (p *Presentation) Manifest() ([]byte, error) {
	doc := ssmXML{MajorVersion: 2, MinorVersion: 2, TimeScale: ManifestTimeScale,
		Duration: uint64(math.Round(p.Duration * ManifestTimeScale))}
	for _, st := range p.Streams {
		x := streamIndexXML{Type: st.Type, Name: st.Name, Language: st.Language, TimeScale: st.Timescale,
			Chunks: len(st.Chunks), QualityLevels: len(st.Levels),
			URL: "QualityLevels({bitrate})/Fragments(" + st.Name + "={start time})"}
		for i, l := range st.Levels {
			t := l.Track
			q := qualityLevelXML{Index: i, Bitrate: l.Bitrate, FourCC: t.FourCC, CodecPrivateData: t.CodecPrivateData}
			if t.Video() {
				q.MaxWidth, q.MaxHeight = t.Width, t.Height
				x.MaxWidth, x.MaxHeight = max(x.MaxWidth, t.Width), max(x.MaxHeight, t.Height)
			} else {
				bits := t.BitsPerSample
				if bits == 0 {
					bits = 16
				}
				q.SamplingRate, q.Channels, q.BitsPerSample = t.SampleRate, t.Channels, bits
				q.PacketSize, q.AudioTag = t.Channels*bits/8, aacAudioTag
			}
			x.Levels = append(x.Levels, q)
		}
		x.DisplayWidth, x.DisplayHeight = x.MaxWidth, x.MaxHeight
		for i, c := range st.Chunks {
			x.ChunkList = append(x.ChunkList, chunkXML{N: i, T: c.T, D: c.D})
		}
		doc.Streams = append(doc.Streams, x)
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal smooth manifest: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}
