// Command edgetool supports scripts/bench-edge.sh:
//
//	edgetool seed -storage ADDR -asset ID -dir DIR   upload every file of DIR to assets/ID/
//	edgetool herd -url URL -metrics URL -n 1000      fire n simultaneous GETs for one
//	                                                 uncached object and print how many
//	                                                 origin fetches the edge made
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/security"
	"github.com/vodfleet/vodfleet/storage"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: edgetool seed|herd [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "seed":
		err = seed(os.Args[2:])
	case "herd":
		err = herd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "edgetool:", err)
		os.Exit(1)
	}
}

func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	addr := fs.String("storage", "127.0.0.1:7001", "storage gRPC address")
	asset := fs.String("asset", "bench", "asset id")
	dir := fs.String("dir", ".", "directory whose files to upload")
	_ = fs.Parse(args)
	// bench-edge runs storage with --insecure on loopback.
	conn, err := security.MustInsecure(hclog.NewNullLogger()).Dial(*addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	st := storage.NewClient(conn)
	entries, err := os.ReadDir(*dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if _, err := st.PutFile(ctx, "assets/"+*asset+"/"+e.Name(), filepath.Join(*dir, e.Name()), ""); err != nil {
			return fmt.Errorf("upload %s: %w", e.Name(), err)
		}
	}
	return nil
}

func herd(args []string) error {
	fs := flag.NewFlagSet("herd", flag.ExitOnError)
	url := fs.String("url", "", "object URL on the edge (not cached yet)")
	metrics := fs.String("metrics", "", "edge /metrics URL")
	n := fs.Int("n", 1000, "simultaneous requests")
	_ = fs.Parse(args)
	before, err := originFetches(*metrics)
	if err != nil {
		return err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *n, MaxConnsPerHost: 0}
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	sizes := map[int64]int{}
	failures := 0
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := client.Get(*url)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failures++
				return
			}
			defer resp.Body.Close()
			b, err := io.Copy(io.Discard, resp.Body)
			if err != nil || resp.StatusCode != 200 {
				failures++
				return
			}
			sizes[b]++
		}()
	}
	close(start)
	wg.Wait()
	after, err := originFetches(*metrics)
	if err != nil {
		return err
	}
	fmt.Printf("herd: %d simultaneous GETs, %d failed, body sizes %v, origin fetches %.0f\n", *n, failures, sizes, after-before)
	return nil
}

// originFetches reads vodfleet_edge_origin_fetches_total from /metrics.
func originFetches(url string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "vodfleet_edge_origin_fetches_total ") {
			return strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, "vodfleet_edge_origin_fetches_total ")), 64)
		}
	}
	return 0, fmt.Errorf("vodfleet_edge_origin_fetches_total not in %s", url)
}
