package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// job is the part of `vodfleet submit --json` the bench reads.
type job struct {
	JobID  string `json:"job_id"`
	State  string `json:"state"`
	Error  string `json:"error"`
	HLSURL string `json:"hls_url"`
	Tasks  []struct {
		Name string `json:"name"`
	} `json:"tasks"`
}

// readJob reads a submit --json answer and checks that the job succeeded.
func readJob(name string) (*job, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var j job
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if j.State != "succeeded" || j.HLSURL == "" {
		return nil, fmt.Errorf("job %s is %q: %s", j.JobID, j.State, j.Error)
	}
	return &j, nil
}

// videoTasks counts the job's video encode tasks (one per rendition, or
// one per rendition and chunk).
func (j *job) videoTasks() int {
	n := 0
	for _, t := range j.Tasks {
		if strings.HasPrefix(t.Name, "video-") {
			n++
		}
	}
	return n
}

// checkCmd checks that a job succeeded and prints its video task count.
func checkCmd(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	jobFile := fs.String("job", "", "JSON printed by vodfleet submit --json")
	_ = fs.Parse(args)
	j, err := readJob(*jobFile)
	if err != nil {
		return err
	}
	fmt.Println(j.videoTasks())
	return nil
}

// fetchCmd downloads the video renditions of a finished job through the
// edge: DIR/<variant dir>/media.m3u8 plus its init and media segments.
func fetchCmd(args []string) error {
	fs := flag.NewFlagSet("fetch", flag.ExitOnError)
	jobFile := fs.String("job", "", "JSON printed by vodfleet submit --json")
	out := fs.String("out", "", "output directory")
	_ = fs.Parse(args)
	j, err := readJob(*jobFile)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	master, err := get(client, j.HLSURL)
	if err != nil {
		return err
	}
	base := j.HLSURL[:strings.LastIndexByte(j.HLSURL, '/')+1]
	variants := masterVariants(master)
	if len(variants) == 0 {
		return fmt.Errorf("%s lists no variants", j.HLSURL)
	}
	for _, v := range variants {
		rel, err := safeRel(v)
		if err != nil {
			return err
		}
		if err := fetchMedia(client, base, rel, *out); err != nil {
			return err
		}
	}
	return nil
}

// fetchMedia downloads one media playlist (rel to base) and every file it
// references into out, keeping relative paths.
func fetchMedia(client *http.Client, base, rel, out string) error {
	data, err := get(client, base+rel)
	if err != nil {
		return err
	}
	p, err := parseMedia(data)
	if err != nil {
		return fmt.Errorf("%s: %w", base+rel, err)
	}
	if err := save(filepath.Join(out, filepath.FromSlash(rel)), data); err != nil {
		return err
	}
	dir := path.Dir(rel)
	for _, uri := range append(append([]string{}, p.maps...), p.segments...) {
		r, err := safeRel(uri)
		if err != nil {
			return err
		}
		name := path.Join(dir, r)
		b, err := get(client, base+name)
		if err != nil {
			return err
		}
		if err := save(filepath.Join(out, filepath.FromSlash(name)), b); err != nil {
			return err
		}
	}
	return nil
}

func get(client *http.Client, url string) ([]byte, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func save(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, data, 0o644)
}
