package devcluster

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/agent"
	"github.com/vodfleet/vodfleet/internal/testmedia"
	"github.com/vodfleet/vodfleet/internal/transfer/transfertest"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// TestFTPSourceAndDestination runs two jobs against pure-ftpd on
// loopback: one whose source is an ftp:// URL (the agents read the login
// from their FTP credentials file) ends SUCCEEDED with HLS that decodes
// to the source's duration; one with an ftp:// destination (the login
// from the agents' destination credentials file) delivers a package that,
// copied back from the server's directory on disk, ffmpeg plays in full,
// and whose playlists the server's transfer log shows stored after every
// media file, the master playlist last. The FTP secret appears in no log.
func TestFTPSourceAndDestination(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test encodes video; skipped with -short")
	}
	ftp := transfertest.StartPureFTPd(t)
	dir := t.TempDir()
	clip := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 3})
	_, srcDur := streamDurations(t, clip)
	b, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	ftp.Put(t, "clip.mp4", b)
	netrc := filepath.Join(dir, "netrc")
	cred := fmt.Sprintf("machine %s login %s password %s\n", ftp.Addr, transfertest.FTPUser, transfertest.FTPSecret)
	if err := os.WriteFile(netrc, []byte(cred), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg := LoopbackConfig(t.TempDir())
	cfg.Agent.FTPCredentialsFile = netrc
	cfg.Agent.Destinations = agent.DestinationConfig{AllowPrivate: true, CredentialsFile: netrc}
	logs := &lockedBuffer{}
	c, err := Start(cfg, hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	jobs := v1.NewJobServiceClient(dialT(t, c, c.Coordinator.Addr))
	st := storage.NewClient(dialT(t, c, c.Storage.GRPCAddr))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// (a) An ftp:// source.
	srcURL := "ftp://" + transfertest.FTPUser + "@" + ftp.Addr + "/clip.mp4"
	fromFTP, err := jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_Url{Url: srcURL}}})
	if err != nil {
		t.Fatalf("submit %s: %v", srcURL, err)
	}
	// (b) An ftp:// destination.
	stored := "sources/" + strconv.FormatInt(time.Now().UnixNano(), 36) + "/clip.mp4"
	if _, err := st.PutFile(ctx, stored, clip, ""); err != nil {
		t.Fatal(err)
	}
	destURL := "ftp://" + transfertest.FTPUser + "@" + ftp.Addr + "/vod/clip"
	toFTP, err := jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_StoragePath{StoragePath: stored}},
		Destinations: []string{destURL}})
	if err != nil {
		t.Fatalf("submit with destination %s: %v", destURL, err)
	}

	a := waitJob(t, ctx, jobs, fromFTP.GetJob().GetId()).GetJob()
	if a.GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Errorf("ftp source: job ended %s: %s", a.GetState(), a.GetError())
	} else if _, durs := streamDurations(t, a.GetHlsUrl()); len(durs) != 2 || math.Abs(durs[0]-srcDur[0]) > 0.2 || math.Abs(durs[1]-srcDur[1]) > 0.2 {
		t.Errorf("ftp source plays back as %v, source %v", durs, srcDur)
	}
	downloaded := false
	for _, f := range ftp.Transfers(t) {
		downloaded = downloaded || (f.Method == "GET" && f.Path == filepath.Join(ftp.Home, "clip.mp4") && f.Bytes == int64(len(b)))
	}
	if !downloaded {
		t.Errorf("pure-ftpd logged no complete download of clip.mp4: %v", ftp.Transfers(t))
	}

	end := waitJob(t, ctx, jobs, toFTP.GetJob().GetId())
	job := end.GetJob()
	if job.GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("ftp destination: job ended %s: %s", job.GetState(), job.GetError())
	}
	got, err := jobs.GetJob(ctx, &v1.GetJobRequest{JobId: job.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if ds := got.GetJob().GetDestinationStates(); len(ds) != 1 || ds[0].GetState() != "DONE" || ds[0].GetBytesDone() != ds[0].GetBytesTotal() {
		t.Fatalf("ftp destination state %v: want DONE with all bytes sent", ds)
	}
	objs, err := st.List(ctx, "assets/"+job.GetAssetId()+"/")
	if err != nil {
		t.Fatal(err)
	}

	// Copy the package back from the FTP root and play the copy.
	served := filepath.Join(ftp.Home, "vod", "clip")
	back := filepath.Join(t.TempDir(), "back")
	var rels []string
	err = filepath.Walk(served, func(p string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(served, p)
		rels = append(rels, filepath.ToSlash(rel))
		copyFile(t, p, filepath.Join(back, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != len(objs) {
		t.Errorf("the FTP server holds %d files, the asset %d: %v", len(rels), len(objs), rels)
	}
	for _, rel := range rels {
		if strings.Contains(path.Base(rel), ".tmp-vodfleet") {
			t.Errorf("temporary upload %s left on the server", rel)
		}
	}
	checkPlaysInFull(t, back, srcDur)

	checkFTPUploadOrder(t, ftp, served, back, rels)
	if strings.Contains(logs.String(), transfertest.FTPSecret) {
		t.Error("the FTP secret appears in the cluster's logs")
	}
	if t.Failed() {
		t.Logf("cluster log:\n%s", logs.String())
	}
}

// checkFTPUploadOrder asserts from pure-ftpd's transfer log (uploads in
// the order they completed, each to a temporary name renamed at once)
// that every file was uploaded and that media files precede every
// playlist and MPD, and media playlists the HLS master playlist.
func checkFTPUploadOrder(t *testing.T, ftp *transfertest.PureFTPd, served, local string, rels []string) {
	t.Helper()
	pos := map[string]int{}
	var order []string
	for _, f := range ftp.Transfers(t) {
		if f.Method != "PUT" || !strings.HasPrefix(f.Path, served+"/") {
			continue
		}
		d, base := path.Split(strings.TrimPrefix(f.Path, served+"/"))
		rel := d + strings.TrimSuffix(strings.TrimPrefix(base, "."), ".tmp-vodfleet")
		pos[rel] = len(order)
		order = append(order, rel)
	}
	lastMedia, firstList, lastList, master := -1, len(order), -1, -1
	for _, rel := range rels {
		i, ok := pos[rel]
		if !ok {
			t.Errorf("the transfer log has no upload of %s; logged: %v", rel, order)
			continue
		}
		switch ext := path.Ext(rel); {
		case ext != ".m3u8" && ext != ".mpd":
			lastMedia = max(lastMedia, i)
		case isMaster(t, filepath.Join(local, rel)):
			master = i
		default:
			firstList, lastList = min(firstList, i), max(lastList, i)
		}
	}
	if master < 0 || lastList < 0 || lastMedia < 0 {
		t.Fatalf("uploads lack media, playlists or a master playlist: %v", order)
	}
	if lastMedia > firstList || lastMedia > master {
		t.Errorf("a playlist was stored before all media; upload order: %v", order)
	}
	if lastList > master {
		t.Errorf("the master playlist was stored before a media playlist; upload order: %v", order)
	}
}

// isMaster reports whether the file at p is an HLS master playlist.
func isMaster(t *testing.T, p string) bool {
	t.Helper()
	if path.Ext(p) != ".m3u8" {
		return false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(b, []byte("#EXT-X-STREAM-INF"))
}
