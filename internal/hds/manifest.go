package hds

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// Namespace is the XML namespace of F4M 1.0 manifests.
const Namespace = "http://ns.adobe.com/f4m/1.0"

// Manifest is an F4M 1.0 manifest: the subset of elements players of VOD
// HDS use (OSMF's F4MLoader reads these).
type Manifest struct {
	XMLName xml.Name `xml:"manifest"`
	// Xmlns is the namespace attribute; Marshal sets it to Namespace.
	Xmlns string `xml:"xmlns,attr"`
	// ID names the presentation.
	ID string `xml:"id,omitempty"`
	// StreamType is "recorded" for VOD.
	StreamType string `xml:"streamType,omitempty"`
	// DeliveryType is "streaming" for HDS (fragments over HTTP).
	DeliveryType string `xml:"deliveryType,omitempty"`
	// Duration is the presentation length in seconds.
	Duration float64 `xml:"duration,omitempty"`
	// Bootstraps are the bootstrapInfo elements, referenced by id.
	Bootstraps []BootstrapInfo `xml:"bootstrapInfo"`
	// Media are the renditions.
	Media []Media `xml:"media"`
}

// BootstrapInfo is a bootstrapInfo element: the abst box either at URL
// (relative to the manifest) or inline, base64 encoded, as Inline.
type BootstrapInfo struct {
	// Profile is "named" for HDS.
	Profile string `xml:"profile,attr,omitempty"`
	// ID is what media elements reference.
	ID string `xml:"id,attr,omitempty"`
	// URL locates an external bootstrap.
	URL string `xml:"url,attr,omitempty"`
	// Inline is the base64 abst box when URL is empty.
	Inline string `xml:",chardata"`
}

// Media is a media element: one rendition.
type Media struct {
	// Bitrate in kbit/s; players pick renditions by it.
	Bitrate int `xml:"bitrate,attr,omitempty"`
	// URL is the fragment prefix, relative to the manifest: fragment N of
	// segment S is URL+"Seg"+S+"-Frag"+N.
	URL string `xml:"url,attr"`
	// BootstrapInfoID names this rendition's bootstrapInfo.
	BootstrapInfoID string `xml:"bootstrapInfoId,attr,omitempty"`
	// Width and Height of the picture, when known.
	Width  int `xml:"width,attr,omitempty"`
	Height int `xml:"height,attr,omitempty"`
	// Metadata is the base64 AMF onMetaData of the stream.
	Metadata string `xml:"metadata,omitempty"`
}

// ParseManifest reads an F4M manifest and checks that every media element
// has a url and names a bootstrap the manifest has. Errors wrap
// ErrBadManifest.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := xml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadManifest, err)
	}
	if m.XMLName.Space != "" && m.XMLName.Space != Namespace {
		return nil, fmt.Errorf("%w: namespace %q", ErrBadManifest, m.XMLName.Space)
	}
	if len(m.Media) == 0 {
		return nil, fmt.Errorf("%w: no media element", ErrBadManifest)
	}
	for i, md := range m.Media {
		if md.URL == "" {
			return nil, fmt.Errorf("%w: media %d has no url", ErrBadManifest, i)
		}
		b := m.Bootstrap(md)
		if b == nil {
			return nil, fmt.Errorf("%w: media %q names bootstrap %q, which is missing", ErrBadManifest, md.URL, md.BootstrapInfoID)
		}
		if b.URL == "" && strings.TrimSpace(b.Inline) == "" {
			return nil, fmt.Errorf("%w: bootstrap %q has neither url nor content", ErrBadManifest, b.ID)
		}
	}
	return &m, nil
}

// Bootstrap returns the bootstrapInfo md refers to: the one with its id,
// or the only one when md names none. Nil when there is no such element.
func (m *Manifest) Bootstrap(md Media) *BootstrapInfo {
	for i := range m.Bootstraps {
		if b := &m.Bootstraps[i]; b.ID == md.BootstrapInfoID || (md.BootstrapInfoID == "" && len(m.Bootstraps) == 1) {
			return b
		}
	}
	return nil
}

// InlineBootstrap decodes an inline bootstrap. Errors wrap ErrBadManifest.
func (b *BootstrapInfo) InlineBootstrap() ([]byte, error) {
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b.Inline))
	if err != nil {
		return nil, fmt.Errorf("%w: bootstrap %q: %v", ErrBadManifest, b.ID, err)
	}
	return data, nil
}

// Marshal writes m as an F4M document with the XML declaration and the
// F4M namespace.
func (m *Manifest) Marshal() ([]byte, error) {
	c := *m
	c.Xmlns = Namespace
	c.XMLName = xml.Name{Local: "manifest"}
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(&c); err != nil {
		return nil, fmt.Errorf("f4m: %w", err)
	}
	buf.WriteString("\n")
	return buf.Bytes(), nil
}

// FragmentURL is the URL, relative to the manifest, of fragment frag of
// segment seg of the media whose url is media.
func FragmentURL(media string, seg, frag uint32) string {
	return media + "Seg" + strconv.FormatUint(uint64(seg), 10) + "-Frag" + strconv.FormatUint(uint64(frag), 10)
}
