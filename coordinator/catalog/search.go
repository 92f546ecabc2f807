package catalog

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Query filters assets; every set filter must hold.
type Query struct {
	// Tags: the asset has every one.
	Tags []string
	// Meta: the asset's fields have these values.
	Meta map[string]string
	// State: UNSPECIFIED means any.
	State v1.AssetState
	// Search: words of title or description (see words.go).
	Search string
	// Limit: page size, 1..maxLimit (0 means defaultLimit).
	Limit int
	// PageToken: from a previous page.
	PageToken string
}

const (
	defaultLimit = 50
	maxLimit     = 1000
	// scanBudget bounds the candidates one call examines, so a query whose
	// filters match rarely returns a short page (with a token) instead of
	// running long; pages are only guaranteed to be non-empty when the
	// driving index's candidates match.
	scanBudget = 20000
)

// Search returns one page of matching assets, oldest first, and the token
// of the next page ("" on the last).
//
// One filter drives the scan: the first tag, else the first field, else
// the longest search word, else the state; with no filter, every record.
// The driving index is ranged from the page token's position in batches
// (in windows of ids, see scan.go);
// each candidate's record is read (batched point reads) and checked
// against all the filters. The page token is the last index key examined,
// base64 encoded, so the next page starts right after it. Reads are
// serializable (served by the coordinator's etcd member without a
// consensus round): a listing may trail the latest write by the member's
// replication lag, GetAsset never does.
func (s *Store) Search(ctx context.Context, q Query) ([]*v1.Asset, string, error) {
	q.Tags = NormalizeTags(q.Tags)
	if q.Limit == 0 {
		q.Limit = defaultLimit
	}
	if q.Limit < 0 || q.Limit > maxLimit {
		return nil, "", fmt.Errorf("limit: %d is outside 0..%d: %w", q.Limit, maxLimit, ErrInvalid)
	}
	if _, ok := v1.AssetState_name[int32(q.State)]; !ok {
		return nil, "", fmt.Errorf("state: %d is unknown: %w", q.State, ErrInvalid)
	}
	for i, t := range q.Tags {
		if !tagRE.MatchString(t) {
			return nil, "", fmt.Errorf("tags[%d]: %q must be 1-64 characters of [a-z0-9._:-]: %w", i, t, ErrInvalid)
		}
	}
	for k := range q.Meta {
		if !keyRE.MatchString(k) {
			return nil, "", fmt.Errorf("meta: key %q must be 1-64 characters of [a-z0-9._-]: %w", k, ErrInvalid)
		}
	}
	text := parseQuery(q.Search)
	if strings.TrimSpace(q.Search) != "" && len(text) == 0 {
		return nil, "", fmt.Errorf("search: no words in %q: %w", q.Search, ErrInvalid)
	}
	prefix, byRecord := s.drivingIndex(q, text)
	start := prefix
	if q.PageToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.PageToken)
		if err != nil || len(raw) == 0 {
			return nil, "", fmt.Errorf("page_token: malformed: %w", ErrInvalid)
		}
		start = prefix + string(raw) + "\x00"
	}
	scan := newIndexScanner(s.cli, prefix, start, s.hints.get(prefix))
	defer func() { s.hints.put(prefix, scan.keep) }()
	var page []*v1.Asset
	seen := map[string]bool{}
	examined := 0
	batch := max(q.Limit, 16)
	for {
		keys, more, err := scan.next(ctx, batch)
		if err != nil {
			return nil, "", err
		}
		ids := make([]string, 0, len(keys))
		for _, k := range keys {
			id := k[strings.LastIndexByte(k, '/')+1:]
			if byRecord {
				id = strings.TrimPrefix(k, prefix)
			}
			ids = append(ids, id)
		}
		recs, err := s.getMany(ctx, ids, true)
		if err != nil {
			return nil, "", err
		}
		for i, r := range recs {
			examined++
			if r != nil && !seen[ids[i]] && matches(r.merged, q, text) {
				seen[ids[i]] = true
				page = append(page, r.merged)
			}
			full := len(page) == q.Limit
			if full || examined >= scanBudget {
				last := i == len(recs)-1 && !more
				if last {
					return page, "", nil
				}
				return page, base64.RawURLEncoding.EncodeToString([]byte(strings.TrimPrefix(keys[i], prefix))), nil
			}
		}
		if !more || len(keys) == 0 {
			return page, "", nil
		}
	}
}

// drivingIndex picks the index range to scan (see Search). byRecord is
// true when the range is the records themselves (key suffix = asset id).
func (s *Store) drivingIndex(q Query, text []queryWord) (prefix string, byRecord bool) {
	switch {
	case len(q.Tags) > 0:
		return s.keys.TagIndex(q.Tags[0]), false
	case len(q.Meta) > 0:
		ks := make([]string, 0, len(q.Meta))
		for k := range q.Meta {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return s.keys.MetaIndex(ks[0], q.Meta[ks[0]]), false
	case len(text) > 0:
		best := -1
		for i, w := range text {
			if !w.prefix && (best < 0 || len(w.word) > len(text[best].word)) {
				best = i
			}
		}
		if best >= 0 {
			return s.keys.WordIndex(text[best].word), false
		}
		return s.keys.WordPrefix(text[0].word), false
	case q.State != v1.AssetState_ASSET_STATE_UNSPECIFIED:
		return s.keys.StateIndex(q.State), false
	}
	return s.keys.AllFacts(), true
}

// matches checks a record against every filter.
func matches(a *v1.Asset, q Query, text []queryWord) bool {
	if q.State != v1.AssetState_ASSET_STATE_UNSPECIFIED && a.GetState() != q.State {
		return false
	}
	for _, t := range q.Tags {
		found := false
		for _, at := range a.GetTags() {
			if at == t {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for k, v := range q.Meta {
		if a.GetMeta()[k] != v {
			return false
		}
	}
	return len(text) == 0 || matchesText(text, a.GetTitle(), a.GetDescription())
}
