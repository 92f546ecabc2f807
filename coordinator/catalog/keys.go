package catalog

import (
	"net/url"
	"strconv"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// etcd key layout of the catalog, all under "<prefix>/catalog/" (prefix is
// the coordinator's, default "/vodfleet"):
//
//	a/<asset>                         client part of the record (Asset proto: title,
//	                                  description, tags, meta, created_at, job, preset);
//	                                  written by UpdateAsset and at submit, CAS on its revision
//	f/<asset>                         pipeline part (Asset proto: state, source facts,
//	                                  renditions, outputs, sizes, destinations, error);
//	                                  written at submit and by the leader in the fenced
//	                                  transaction that finishes the job
//	i/tag/<tag>/<asset>               index: the asset has tag <tag>
//	i/meta/<key>/<esc value>/<asset>  index: meta[<key>] == value (value path-escaped,
//	                                  so '/' cannot split it)
//	i/word/<word>/<asset>             index: lowercased word of title or description
//	i/state/<n>/<asset>               index: AssetState number n (written with f/)
//	presets/<name>                    Preset proto, version in the value
//	dests/<name>                      Destination proto
//
// Index values are empty. Index keys are written in the same transaction
// as the record part they derive from; a reader still checks every
// candidate against the record, so a filter is answered by one prefix range
// over one index (then point reads of the candidates), never a scan of all
// assets. Asset ids sort by creation time, so every index lists its assets
// oldest first.
//
// Keys is that layout under one prefix.
type Keys struct{ root string }

// NewKeys returns the layout under prefix (the coordinator's etcd prefix).
func NewKeys(prefix string) Keys { return Keys{root: prefix + "/catalog/"} }

// Records is the range of client parts.
func (k Keys) Records() string { return k.root + "a/" }

// Record is the client part of an asset.
func (k Keys) Record(id string) string { return k.Records() + id }

// AllFacts is the range of pipeline parts (every asset has one).
func (k Keys) AllFacts() string { return k.root + "f/" }

// Facts is the pipeline part of an asset.
func (k Keys) Facts(id string) string { return k.AllFacts() + id }

// TagIndex is the range of assets with tag.
func (k Keys) TagIndex(tag string) string { return k.root + "i/tag/" + tag + "/" }

// MetaIndex is the range of assets whose field key has value.
func (k Keys) MetaIndex(key, value string) string {
	return k.root + "i/meta/" + key + "/" + url.PathEscape(value) + "/"
}

// WordIndex is the range of assets with word in title or description.
func (k Keys) WordIndex(word string) string { return k.root + "i/word/" + word + "/" }

// WordPrefix is the range of every word starting with p.
func (k Keys) WordPrefix(p string) string { return k.root + "i/word/" + p }

// StateIndex is the range of assets in state s.
func (k Keys) StateIndex(s v1.AssetState) string {
	return k.root + "i/state/" + strconv.Itoa(int(s)) + "/"
}

// Presets is the range of presets.
func (k Keys) Presets() string { return k.root + "presets/" }

// Preset is one preset.
func (k Keys) Preset(name string) string { return k.Presets() + name }

// Dests is the range of named destinations.
func (k Keys) Dests() string { return k.root + "dests/" }

// Dest is one named destination.
func (k Keys) Dest(name string) string { return k.Dests() + name }

// recordIndex lists the index keys derived from a client part.
func (k Keys) recordIndex(a *v1.Asset) []string {
	var out []string
	for _, t := range a.GetTags() {
		out = append(out, k.TagIndex(t)+a.GetId())
	}
	for key, v := range a.GetMeta() {
		out = append(out, k.MetaIndex(key, v)+a.GetId())
	}
	for _, w := range indexWords(a.GetTitle(), a.GetDescription()) {
		out = append(out, k.WordIndex(w)+a.GetId())
	}
	return out
}

// StateKeys returns the state index key to put for an asset in state s and
// the keys of every other state, to delete in the same transaction.
func (k Keys) StateKeys(id string, s v1.AssetState) (put string, del []string) {
	for n := range v1.AssetState_name {
		st := v1.AssetState(n)
		if st == v1.AssetState_ASSET_STATE_UNSPECIFIED {
			continue
		}
		if st == s {
			put = k.StateIndex(st) + id
		} else {
			del = append(del, k.StateIndex(st)+id)
		}
	}
	return put, del
}
