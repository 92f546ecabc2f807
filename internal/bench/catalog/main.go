// Command catalog measures catalog queries at scale: it bulk-loads
// -assets records (default 100,000) into an embedded etcd, in batched
// transactions, then times pages of 50 by tag, by custom field and by
// text search (each sample one SearchAssets-equivalent call through the
// etcd client, following page tokens a few pages deep), and prints p50 and
// p99 next to the target (p99 <= 50 ms).
//
//	go run ./internal/bench/catalog [-assets 100000] [-samples 300]
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vodfleet/vodfleet/coordinator/catalog"
	"github.com/vodfleet/vodfleet/internal/etcdserver"
	"github.com/vodfleet/vodfleet/internal/ids"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Shape of the generated catalog: every asset has 3 of numTags tags,
// fields lang (numLangs values) and season (numSeasons values), a title of
// 4 and a description of 8 words from a vocabulary of vocab words.
const (
	numTags    = 50
	numLangs   = 10
	numSeasons = 20
	vocab      = 2000
	pageSize   = 50
	// pagesDeep: each sampled query follows its page token this many times.
	pagesDeep = 4
	targetP99 = 50 * time.Millisecond
)

func main() {
	n := flag.Int("assets", 100_000, "assets to load")
	samples := flag.Int("samples", 300, "pages timed per query kind")
	workers := flag.Int("load-workers", 8, "concurrent loading transactions")
	flag.Parse()
	if err := run(*n, *samples, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "bench-catalog:", err)
		os.Exit(1)
	}
}

func run(n, samples, workers int) error {
	dir, err := os.MkdirTemp("", "vodfleet-bench-catalog-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	etcd, err := etcdserver.Start(dir, "127.0.0.1:0", hclog.NewNullLogger())
	if err != nil {
		return err
	}
	defer etcd.Close()
	cli, err := etcd.Client()
	if err != nil {
		return err
	}
	defer cli.Close()
	store := catalog.NewStore(cli, "/bench", nil, hclog.NewNullLogger())
	ctx := context.Background()

	start := time.Now()
	txns, err := load(ctx, cli, store, n, workers)
	if err != nil {
		return err
	}
	loadTime := time.Since(start)
	fmt.Printf("loaded %d assets in %d transactions in %s (%.0f assets/s)\n\n", n, txns, loadTime.Round(time.Millisecond), float64(n)/loadTime.Seconds())

	rng := rand.New(rand.NewPCG(1, 2))
	kinds := []struct {
		name string
		q    func() catalog.Query
	}{
		{"by tag", func() catalog.Query { return catalog.Query{Tags: []string{tag(rng.IntN(numTags))}} }},
		{"by field", func() catalog.Query {
			return catalog.Query{Meta: map[string]string{"lang": lang(rng.IntN(numLangs))}}
		}},
		{"by text search", func() catalog.Query { return catalog.Query{Search: word(rng.IntN(vocab))} }},
		{"tag + state READY", func() catalog.Query {
			return catalog.Query{Tags: []string{tag(rng.IntN(numTags))}, State: v1.AssetState_ASSET_STATE_READY}
		}},
	}
	// Settle after the load (garbage of the load, etcd's background
	// work), then take the kinds in turns, one query (up to pagesDeep
	// pages) each, so that noise over time falls on all of them alike.
	runtime.GC()
	time.Sleep(2 * time.Second)
	type result struct {
		lat   []time.Duration
		cpu   time.Duration
		short int
	}
	res := make([]result, len(kinds))
	for done := false; !done; {
		done = true
		for i, k := range kinds {
			r := &res[i]
			if len(r.lat) >= samples {
				continue
			}
			done = false
			q := k.q()
			q.Limit = pageSize
			for range pagesDeep {
				c0, t0 := cpuTime(), time.Now()
				page, next, err := store.Search(ctx, q)
				r.lat = append(r.lat, time.Since(t0))
				r.cpu += cpuTime() - c0
				if err != nil {
					return fmt.Errorf("%s: %w", k.name, err)
				}
				if len(page) < pageSize && next != "" {
					r.short++
				}
				if next == "" || len(r.lat) >= samples {
					break
				}
				q.PageToken = next
			}
		}
	}
	fmt.Printf("%-20s %8s %10s %10s %10s %12s %8s\n", "query (page of 50)", "pages", "p50", "p99", "max", "cpu/page", "target")
	for i, k := range kinds {
		r := res[i]
		lat := r.lat
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		p50, p99 := lat[len(lat)/2], lat[(len(lat)*99)/100]
		verdict := "ok"
		if p99 > targetP99 {
			verdict = "MISSED"
		}
		fmt.Printf("%-20s %8d %10s %10s %10s %12s %8s\n", k.name, len(lat), ms(p50), ms(p99), ms(lat[len(lat)-1]),
			ms(r.cpu/time.Duration(len(lat))), "p99<=50ms "+verdict)
		if r.short > 0 {
			fmt.Printf("  (%d pages were short with a next token)\n", r.short)
		}
	}
	return nil
}

// cpuTime is the CPU time (user + system) this process used so far: the
// benchmark runs etcd in-process, so per page it is the whole cost of a
// query (client, gRPC, etcd), independent of other load on the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

func tag(i int) string  { return fmt.Sprintf("tag%02d", i) }
func lang(i int) string { return fmt.Sprintf("l%d", i) }
func word(i int) string { return fmt.Sprintf("w%04d", i) }

// load writes n records with the store's own operations, several records
// per transaction (under etcd's 128-operation limit), from workers
// goroutines. New records have no old index keys, so the deletes of other
// state keys are left out.
func load(ctx context.Context, cli *clientv3.Client, store *catalog.Store, n, workers int) (int, error) {
	type batch struct{ ops []clientv3.Op }
	ch := make(chan batch, workers*2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	txns := 0
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range ch {
				_, err := cli.Txn(ctx).Then(b.ops...).Commit()
				mu.Lock()
				txns++
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	rng := rand.New(rand.NewPCG(3, 4))
	// Real-shaped ids (time first), one submission every 30 s on average.
	now := time.Unix(1_780_000_000, 0)
	gen := ids.TimeRandom{Now: func() time.Time { return now }}
	var cur []clientv3.Op
	for i := range n {
		now = now.Add(time.Duration(rng.IntN(60_000)) * time.Millisecond)
		id := gen.New()
		r := catalog.NewRecord{ID: id, JobID: id,
			Title:       fmt.Sprintf("%s %s %s %s", word(rng.IntN(vocab)), word(rng.IntN(vocab)), word(rng.IntN(vocab)), word(rng.IntN(vocab))),
			Description: fmt.Sprintf("%s %s %s %s %s %s %s %s", word(rng.IntN(vocab)), word(rng.IntN(vocab)), word(rng.IntN(vocab)), word(rng.IntN(vocab)), word(rng.IntN(vocab)), word(rng.IntN(vocab)), word(rng.IntN(vocab)), word(rng.IntN(vocab))),
			Tags:        []string{tag(rng.IntN(numTags)), tag(rng.IntN(numTags)), tag(rng.IntN(numTags))},
			Meta:        map[string]string{"lang": lang(rng.IntN(numLangs)), "season": fmt.Sprint(rng.IntN(numSeasons))},
		}
		state := v1.AssetState_ASSET_STATE_READY
		if i%10 == 0 {
			state = v1.AssetState_ASSET_STATE_FAILED
		}
		facts := &v1.Asset{Id: id, State: state, SizeBytes: 1 << 20, Source: &v1.SourceFacts{Container: "mov,mp4", VideoCodec: "h264",
			AudioCodec: "aac", DurationSeconds: 60, Width: 1280, Height: 720, FrameRate: 25},
			Renditions: []*v1.AssetRendition{{Name: "720p", Width: 1280, Height: 720, Codecs: "avc1.64001f", AverageBitrate: 3e6, SizeBytes: 1 << 20}},
			Outputs:    &v1.AssetOutputs{HlsMaster: "master.m3u8", DashManifest: "manifest.mpd"}}
		_, ops, err := store.CreateOps(r, facts)
		if err != nil {
			close(ch)
			wg.Wait()
			return 0, err
		}
		var puts []clientv3.Op
		for _, op := range ops {
			if !op.IsDelete() {
				puts = append(puts, op)
			}
		}
		if len(cur)+len(puts) > 120 {
			ch <- batch{cur}
			cur = nil
		}
		cur = append(cur, puts...)
	}
	if len(cur) > 0 {
		ch <- batch{cur}
	}
	close(ch)
	wg.Wait()
	return txns, firstErr
}
