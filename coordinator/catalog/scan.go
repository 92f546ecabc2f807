package catalog

import (
	"context"
	"fmt"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// etcd answers a range with a limit in time proportional to the whole
// rest of the range, not to the limit: it counts every remaining key for
// the response's Count (about 1 µs per key). A page read straight over an
// index of 10,000 keys thus costs ~10 ms of etcd CPU, growing with the
// catalog. indexScanner keeps each range small instead: it reads the index
// in windows of asset ids that share their first windowChars characters
// (ids start with 12 hex digits of Unix milliseconds, so a window is about
// 65 s of submissions), widens the window 16-fold after each window that
// did not fill the request (galloping over sparse stretches) and narrows it
// after one that overflowed. Windows partition the range in key order, so
// the keys come out exactly as one plain range would give them.

// windowChars is the id prefix length of the first window of an index
// never scanned before; later scans start at the width the last scan of
// the same index ended with (windowHints).
const windowChars = 8

// maxWindowChars is the narrowest window: ids sharing all 12 time digits
// (one millisecond); narrower would mean a prefix longer than most ids,
// i.e. the whole range again.
const maxWindowChars = 12

// maxHints bounds the remembered window widths (one per index range).
const maxHints = 10000

// windowHints remembers, per index range, the window width a scan ended
// with, so the next page starts at a width that suits the index's density
// instead of galloping again.
type windowHints struct {
	mu sync.Mutex
	m  map[string]int
}

func (h *windowHints) get(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if k, ok := h.m[prefix]; ok {
		return k
	}
	return windowChars
}

func (h *windowHints) put(prefix string, keep int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxHints {
		h.m = map[string]int{}
	}
	h.m[prefix] = max(keep, 2)
}

// indexScanner reads one index range [cur, end) in windows.
type indexScanner struct {
	cli         *clientv3.Client
	prefix, end string
	cur         string
	// keep is how many leading characters of the key suffix (after
	// prefix) a window shares; 0 means the whole rest of the range.
	keep int
}

func newIndexScanner(cli *clientv3.Client, prefix, start string, keep int) *indexScanner {
	return &indexScanner{cli: cli, prefix: prefix, end: clientv3.GetPrefixRangeEnd(prefix), cur: start, keep: keep}
}

// next returns up to n further keys and whether more may follow.
func (sc *indexScanner) next(ctx context.Context, n int) ([]string, bool, error) {
	var keys []string
	for len(keys) < n {
		if sc.cur >= sc.end {
			return keys, false, nil
		}
		winEnd := sc.end
		if sfx := sc.cur[len(sc.prefix):]; sc.keep > 0 && len(sfx) > sc.keep {
			if e := clientv3.GetPrefixRangeEnd(sc.prefix + sfx[:sc.keep]); e != "\x00" && e < winEnd {
				winEnd = e
			}
		}
		resp, err := sc.cli.Get(ctx, sc.cur, clientv3.WithRange(winEnd), clientv3.WithKeysOnly(),
			clientv3.WithLimit(int64(n-len(keys))), clientv3.WithSerializable())
		if err != nil {
			return nil, false, fmt.Errorf("range %s: %w", sc.prefix, err)
		}
		for _, kv := range resp.Kvs {
			keys = append(keys, string(kv.Key))
		}
		if resp.More {
			// The window held more than asked: continue inside it, and
			// make the next window narrower.
			sc.cur = keys[len(keys)-1] + "\x00"
			if sc.keep > 0 && sc.keep < maxWindowChars {
				sc.keep++
			}
			return keys, true, nil
		}
		sc.cur = winEnd
		if winEnd == sc.end {
			return keys, false, nil
		}
		sc.keep-- // gallop: 16 times wider; 0 is the whole rest
	}
	return keys, sc.cur < sc.end, nil
}
