package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Run ids the script writes for the timed encodes whose outputs are
// measured: the vodfleet run (vodfleet's default chunking) is the one the
// raw/vodfleet ratio uses; chunked and unchunked give the quality cost of
// chunking.
const (
	runRaw       = "raw"
	runVodfleet  = "vodfleet"
	runChunked   = "chunked"
	runUnchunked = "unchunked"
)

// timedRun is one "time" line of the runs file: an encode of the whole
// source, its wall and CPU seconds, and where its renditions are.
type timedRun struct {
	id, label string
	wall, cpu float64
	dir       string // "-" when the outputs were not kept
}

// scaleRun is one "scale" line: the same job on a dev cluster with agents
// agents.
type scaleRun struct {
	agents    int
	wall, cpu float64
	label     string
}

// runsFile is the script's record of one bench run, tab separated:
//
//	meta  KEY  VALUE
//	time  ID  WALL  CPU  DIR  LABEL
//	scale AGENTS  WALL  CPU  LABEL
//	note  TEXT
type runsFile struct {
	meta   map[string]string
	timed  []timedRun
	scales []scaleRun
	notes  []string
}

func readRuns(name string) (*runsFile, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rf := &runsFile{meta: map[string]string{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		bad := fmt.Errorf("%s: bad line %q", name, sc.Text())
		switch {
		case c[0] == "meta" && len(c) == 3:
			rf.meta[c[1]] = c[2]
		case c[0] == "time" && len(c) == 6:
			rf.timed = append(rf.timed, timedRun{id: c[1], wall: num(c[2]), cpu: num(c[3]), dir: c[4], label: c[5]})
		case c[0] == "scale" && len(c) == 5:
			n, err := strconv.Atoi(c[1])
			if err != nil {
				return nil, bad
			}
			rf.scales = append(rf.scales, scaleRun{agents: n, wall: num(c[2]), cpu: num(c[3]), label: c[4]})
		case c[0] == "note" && len(c) == 2:
			rf.notes = append(rf.notes, c[1])
		case c[0] == "":
		default:
			return nil, bad
		}
	}
	return rf, sc.Err()
}

func num(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

func (rf *runsFile) run(id string) *timedRun {
	for i := range rf.timed {
		if rf.timed[i].id == id {
			return &rf.timed[i]
		}
	}
	return nil
}

// cell is the measurement of one rendition of one run.
type cell struct {
	q   *quality
	err error
}

func reportCmd(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	runs := fs.String("runs", "", "runs file written by scripts/bench-encode.sh")
	src := fs.String("src", "", "source clip")
	fps := fs.String("fps", "30", "source frame rate (a number or N/D)")
	size := fs.String("size", "1920x1080", "source size WxH")
	ladder := fs.String("ladder", "default", "ladder name")
	jobs := fs.Int("jobs", runtime.NumCPU(), "measurements run in parallel")
	seg := fs.Float64("segment", 4, "segment duration in seconds (to locate bad frames)")
	_ = fs.Parse(args)
	rf, err := readRuns(*runs)
	if err != nil {
		return err
	}
	w, h, err := parseSize(*size)
	if err != nil {
		return err
	}
	rungs, err := fitLadder(*ladder, w, h)
	if err != nil {
		return err
	}
	_, _, srcFrames, err := probeVideo(*src)
	if err != nil {
		return err
	}

	// Measure every rendition of every kept run, jobs at a time.
	cells := map[[2]string]*cell{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(*jobs, 1))
	for _, r := range rf.timed {
		if r.dir == "-" {
			continue
		}
		for _, g := range rungs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				q, err := measure(filepath.Join(r.dir, "v"+g.name), *src, *fps, *seg)
				mu.Lock()
				cells[[2]string{r.id, g.name}] = &cell{q, err}
				mu.Unlock()
			}()
		}
	}
	wg.Wait()

	fmt.Println()
	fmt.Printf("bench-encode: %s; %s; ladder %s\n", rf.meta["source"], rf.meta["machine"], *ladder)
	fmt.Println()
	fmt.Printf("%-80s %8s %8s\n", "encode of the whole source (vodfleet: submit incl. upload to SUCCEEDED)", "wall s", "cpu s")
	for _, r := range rf.timed {
		fmt.Printf("  %-9s %-68s %8.1f %8.1f\n", r.id, r.label, r.wall, r.cpu)
	}
	if raw, vf := rf.run(runRaw), rf.run(runVodfleet); raw != nil && vf != nil {
		ratio := raw.wall / vf.wall
		fmt.Printf("  ratio raw/vodfleet (wall) %.2f (target >= 0.9: %s); CPU %.2f (less sensitive to other load)\n",
			ratio, verdict(ratio >= 0.9), raw.cpu/vf.cpu)
	}
	if u, c := rf.run(runUnchunked), rf.run(runChunked); u != nil && c != nil {
		fmt.Printf("  chunked speedup over unchunked (wall) %.2fx\n", u.wall/c.wall)
	}

	fmt.Println()
	fmt.Println("per rendition: bitrate = segment bytes*8 / playlist duration; PSNR (Y,U,V average) and SSIM (All)")
	fmt.Println("against the source scaled to the rendition size; min = worst frame; frames = rendition/source")
	fmt.Printf("%-9s %-10s %7s   %-10s %8s %8s %8s %8s %8s %11s\n", "rendition", "size", "target", "run", "kb/s", "PSNR dB", "PSNR-Y", "min", "SSIM", "frames")
	var failed, problems []string
	for _, g := range rungs {
		first := true
		for _, r := range rf.timed {
			c := cells[[2]string{r.id, g.name}]
			if c == nil {
				continue
			}
			name, sz, tgt := "", "", ""
			if first {
				name, sz, tgt = g.name, fmt.Sprintf("%dx%d", g.width, g.height), fmt.Sprint(g.bitrate/1000)
				first = false
			}
			if c.err != nil {
				fmt.Printf("%-9s %-10s %7s   %-10s %s\n", name, sz, tgt, r.id, "measurement failed (below)")
				failed = append(failed, fmt.Sprintf("%s %s: %v", r.id, g.name, c.err))
				continue
			}
			q := c.q
			fmt.Printf("%-9s %-10s %7s   %-10s %8.0f %8.2f %8.2f %8.2f %8.5f %11s\n", name, sz, tgt, r.id, q.kbps, q.psnr, q.psnrY, q.psnrMin, q.ssim,
				fmt.Sprintf("%d/%d", q.frames, srcFrames))
			if len(q.badSegments) > 0 {
				problems = append(problems, fmt.Sprintf("%s %s: frames more than %d dB below the median in segments %v", r.id, g.name, badFrameDB, q.badSegments))
			}
			if q.width != g.width || q.height != g.height {
				problems = append(problems, fmt.Sprintf("%s %s: size %dx%d, ladder says %dx%d", r.id, g.name, q.width, q.height, g.width, g.height))
			}
		}
	}
	if rf.run(runChunked) != nil && rf.run(runUnchunked) != nil {
		var parts []string
		ok := true
		for _, g := range rungs {
			a, b := cells[[2]string{runChunked, g.name}], cells[[2]string{runUnchunked, g.name}]
			if a == nil || b == nil || a.err != nil || b.err != nil || !comparable(a.q, b.q) {
				parts = append(parts, g.name+" n/a (see !)")
				ok = false
				continue
			}
			d := a.q.psnr - b.q.psnr
			ok = ok && d >= -0.3
			parts = append(parts, fmt.Sprintf("%s %+.2f", g.name, d))
		}
		fmt.Printf("PSNR chunked - unchunked (dB): %s (target >= -0.3: %s)\n", strings.Join(parts, ", "), verdict(ok))
	}
	for _, f := range append(failed, problems...) {
		fmt.Println("  !", f)
	}

	if len(rf.scales) > 0 {
		sort.SliceStable(rf.scales, func(i, j int) bool { return rf.scales[i].agents < rf.scales[j].agents })
		fmt.Println()
		fmt.Printf("scaling: %s\n", rf.meta["scale"])
		fmt.Printf("%8s %8s %8s %18s\n", "agents", "wall s", "cpu s", "speedup vs 1 agent")
		var base float64
		for _, s := range rf.scales {
			if s.agents == 1 {
				base = s.wall
			}
		}
		for _, s := range rf.scales {
			sp := "-"
			if base > 0 {
				sp = fmt.Sprintf("%.2fx", base/s.wall)
			}
			fmt.Printf("%8d %8.1f %8.1f %18s   %s\n", s.agents, s.wall, s.cpu, sp, s.label)
		}
	}
	for _, n := range rf.notes {
		fmt.Println("note:", n)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d measurements failed", len(failed))
	}
	return nil
}

// comparable reports whether the PSNR of a chunked and an unchunked
// encode can be compared: neither has bad segments (frames far below the
// median, see badFrameDB), or both have the same ones, which then come
// from the source or the start of any encode (the raw command's too), not
// from chunking.
func comparable(chunked, unchunked *quality) bool {
	return slices.Equal(chunked.badSegments, unchunked.badSegments)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
