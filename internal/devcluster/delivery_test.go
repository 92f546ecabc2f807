package devcluster

import (
	"bytes"
	"context"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vodfleet/vodfleet/agent"
	"github.com/vodfleet/vodfleet/internal/testmedia"
	"github.com/vodfleet/vodfleet/internal/transfer/transfertest"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// TestDeliveryToDestinations runs a job with four destinations on real
// servers: nginx WebDAV (a URL), sshd SFTP (a named destination), the
// same nginx with a login it refuses, and versitygw S3. The three good
// destinations receive a package ffmpeg plays in full; the refused one fails alone with a
// readable reason while the job succeeds; a re-push with `TransferAsset`
// sends only the file that went missing.
func TestDeliveryToDestinations(t *testing.T) {
	if testing.Short() {
		t.Skip("delivery test encodes video; skipped with -short")
	}
	web := transfertest.StartNginx(t)
	sshd := transfertest.StartSSHD(t)
	s3 := transfertest.StartVersity(t)
	for k, v := range s3.Env(transfertest.S3Secret) { // the agents' AWS_* environment
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	creds := filepath.Join(dir, "netrc")
	// The agents' credentials file: the right login for the server by
	// address, and a wrong password for it by the name the failing
	// destination uses.
	_, port, _ := net.SplitHostPort(web.Addr)
	netrc := "machine " + web.Addr + " login " + transfertest.HTTPUser + " password " + transfertest.HTTPSecret + "\n" +
		"machine localhost:" + port + " login " + transfertest.HTTPUser + " password wrong-secret\n"
	if err := os.WriteFile(creds, []byte(netrc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := LoopbackConfig(t.TempDir())
	cfg.Agent.Destinations = agent.DestinationConfig{AllowPrivate: true, CredentialsFile: creds,
		SSHKeyFile: sshd.UserKey, KnownHostsFile: sshd.KnownHosts}
	logs := &lockedBuffer{}
	c, err := Start(cfg, hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: logs}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	conn := dialT(t, c, c.Coordinator.Addr)
	jobs := v1.NewJobServiceClient(conn)
	st := storage.NewClient(dialT(t, c, c.Storage.GRPCAddr))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	sftpDir := filepath.Join(t.TempDir(), "delivered")
	if _, err := v1.NewDestinationServiceClient(conn).AddDestination(ctx, &v1.AddDestinationRequest{Destination: &v1.Destination{
		Name: "backup", Url: "sftp://" + sshd.User + "@" + sshd.Addr + sftpDir}}); err != nil {
		t.Fatal(err)
	}
	good := "http://" + web.Addr + "/pkg/"
	refused := "http://localhost:" + port + "/refused/"

	// Secrets in destination URLs are refused at submit.
	for _, bad := range []string{"http://u:secret@" + web.Addr + "/x/", "http://user@" + web.Addr + "/x/", "s3://bucket/x?X-Amz-Signature=abc", "gopher://h/x", "nosuchname"} {
		_, err := jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_StoragePath{StoragePath: "sources/x/y.mp4"}},
			Destinations: []string{bad}})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("destination %q: got %v, want InvalidArgument", bad, err)
		} else if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "abc") {
			t.Errorf("error quotes the secret: %v", err)
		}
	}

	clip := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 3})
	_, srcDur := streamDurations(t, clip)
	path := "sources/" + strconv.FormatInt(time.Now().UnixNano(), 36) + "/clip.mp4"
	if _, err := st.PutFile(ctx, path, clip, ""); err != nil {
		t.Fatal(err)
	}
	resp, err := jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_StoragePath{StoragePath: path}},
		Destinations: []string{good, "backup", refused, "s3://" + transfertest.S3Bucket + "/vod/clip"}})
	if err != nil {
		t.Fatal(err)
	}
	end := waitJob(t, ctx, jobs, resp.GetJob().GetId())
	job := end.GetJob()
	if job.GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job ended %s: %s", job.GetState(), job.GetError())
	}
	got, err := jobs.GetJob(ctx, &v1.GetJobRequest{JobId: job.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	states := got.GetJob().GetDestinationStates()
	if len(states) != 4 {
		t.Fatalf("%d destination states, want 4: %v", len(states), states)
	}
	for i, want := range []string{"DONE", "DONE", "FAILED", "DONE"} {
		if states[i].GetState() != want {
			t.Errorf("destination %d (%s) is %s (%s), want %s", i, states[i].GetDestination().GetUrl(), states[i].GetState(), states[i].GetError(), want)
		}
	}
	if s := states[1]; s.GetDestination().GetName() != "backup" || s.GetBytesTotal() <= 0 || s.GetBytesDone() != s.GetBytesTotal() {
		t.Errorf("named destination state %v: want name backup and all bytes done", s)
	}
	if s := states[2]; !strings.Contains(s.GetError(), "authentication failed") || s.GetAttempts() != 1 {
		t.Errorf("refused destination: error %q after %d attempts, want a readable authentication failure at once", s.GetError(), s.GetAttempts())
	}
	objs, err := st.List(ctx, "assets/"+job.GetAssetId()+"/")
	if err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{filepath.Join(web.WWW, "pkg"), sftpDir, filepath.Join(s3.Root, transfertest.S3Bucket, "vod", "clip")} {
		if n := countFiles(t, root); n != len(objs) {
			t.Errorf("%s holds %d files, the asset %d", root, n, len(objs))
		}
		checkPlaysInFull(t, root, srcDur)
	}
	if _, err := os.Stat(filepath.Join(web.WWW, "refused")); err == nil {
		t.Error("the refused destination received files")
	}
	// Secrets stay in the agents' credentials file: not in the logs, not
	// in etcd (its WAL and database are under the data dir), not anywhere
	// else the cluster writes.
	for _, secret := range []string{"wrong-secret", transfertest.HTTPSecret, transfertest.S3Secret} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("secret %q appears in the logs", secret)
		}
		_ = filepath.WalkDir(cfg.DataDir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds secret %q", p, secret)
			}
			return nil
		})
	}
	asset, err := v1.NewCatalogServiceClient(conn).GetAsset(ctx, &v1.GetAssetRequest{AssetId: job.GetAssetId()})
	if err != nil {
		t.Fatal(err)
	}
	if a := asset.GetAsset(); a.GetState() != v1.AssetState_ASSET_STATE_READY || len(a.GetDestinations()) != 4 || a.GetDestinations()[2].GetState() != "FAILED" {
		t.Errorf("catalog record: state %s, destinations %v", a.GetState(), a.GetDestinations())
	}

	// Re-push after a segment went missing: only that file is sent.
	var lost string
	_ = filepath.Walk(filepath.Join(web.WWW, "pkg"), func(p string, info os.FileInfo, err error) error {
		if err == nil && lost == "" && strings.HasSuffix(p, ".m4s") {
			lost = p
		}
		return nil
	})
	if lost == "" {
		t.Fatal("no segment delivered")
	}
	if err := os.Remove(lost); err != nil {
		t.Fatal(err)
	}
	before := web.Puts(t, "/pkg/")
	tr, err := jobs.TransferAsset(ctx, &v1.TransferAssetRequest{AssetId: job.GetAssetId(), Destinations: []string{good}})
	if err != nil {
		t.Fatal(err)
	}
	again := waitJob(t, ctx, jobs, tr.GetJob().GetId())
	if again.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("transfer job ended %s: %s", again.GetJob().GetState(), again.GetJob().GetError())
	}
	var out *v1.TransferOutput
	for _, tk := range again.GetTasks() {
		out = tk.GetResult().GetTransfer()
	}
	if out.GetFilesSent() != 1 || out.GetFilesSkipped() != int64(len(objs)-1) {
		t.Errorf("re-push sent %d and skipped %d files, want 1 and %d", out.GetFilesSent(), out.GetFilesSkipped(), len(objs)-1)
	}
	if puts := web.Puts(t, "/pkg/") - before; puts != 1 {
		t.Errorf("re-push made %d PUTs, want 1", puts)
	}
	if _, err := os.Stat(lost); err != nil {
		t.Errorf("missing segment not restored: %v", err)
	}
	if _, err := jobs.TransferAsset(ctx, &v1.TransferAssetRequest{AssetId: tr.GetJob().GetId(), Destinations: []string{good}}); status.Code(err) == codes.OK {
		t.Error("a transfer job's id was accepted as an asset")
	}
}

// checkPlaysInFull asserts that the package delivered to root plays
// video and audio, each within 0.2 s of the source's durations.
func checkPlaysInFull(t *testing.T, root string, srcDur []float64) {
	t.Helper()
	_, durs := streamDurations(t, filepath.Join(root, "master.m3u8"))
	if len(durs) != 2 {
		t.Fatalf("%s plays %d streams, want video and audio", root, len(durs))
	}
	for i, d := range durs {
		if math.Abs(d-srcDur[i]) > 0.2 {
			t.Errorf("%s stream %d plays %.3f s, source %.3f s", root, i, d, srcDur[i])
		}
	}
}

// countFiles counts the regular files under root.
func countFiles(t *testing.T, root string) int {
	t.Helper()
	n := 0
	err := filepath.Walk(root, func(_ string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDeliveryRetriesUntilServerUp: a destination server that is down
// fails the transfer attempt (retryably), the task is retried with
// backoff, and once the server is up the package arrives and plays.
func TestDeliveryRetriesUntilServerUp(t *testing.T) {
	if testing.Short() {
		t.Skip("delivery test encodes video; skipped with -short")
	}
	addr := "127.0.0.1:" + strconv.Itoa(transfertest.FreePort(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	jobs, _, id, srcDur := retryingDelivery(t, ctx, addr)
	// A failed attempt against the closed port.
	waitFailedAttempt(t, ctx, jobs, id, "refused")
	web := transfertest.StartNginxAt(t, addr)
	end := waitJob(t, ctx, jobs, id)
	if end.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job ended %s: %s", end.GetJob().GetState(), end.GetJob().GetError())
	}
	got, err := jobs.GetJob(ctx, &v1.GetJobRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	ds := got.GetJob().GetDestinationStates()
	if len(ds) != 1 || ds[0].GetState() != "DONE" || ds[0].GetAttempts() < 2 {
		t.Fatalf("destination %v: want DONE after at least two attempts", ds)
	}
	checkPlaysInFull(t, filepath.Join(web.WWW, "vod"), srcDur)
}

// TestInterruptedDeliveryResumes: the destination server dies midway
// through a push (nginx killed with SIGKILL while uploads, slowed by a
// throttling proxy, are in flight: some media arrived, the rest and every
// manifest did not). The coordinator retries the transfer with backoff;
// once nginx is back the next attempt sends only what is missing, and
// nginx's access log shows no file stored twice.
func TestInterruptedDeliveryResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("delivery test encodes video; skipped with -short")
	}
	web := transfertest.StartNginx(t)
	slow := transfertest.StartThrottleProxy(t, web.Addr, 48<<10)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	jobs, st, id, srcDur := retryingDelivery(t, ctx, slow.Addr)
	// Kill nginx once two files have arrived.
	poll(t, ctx, func() bool {
		if isTerminalState(jobState(t, ctx, jobs, id)) {
			t.Fatal("job ended before the push was interrupted")
		}
		return web.Puts(t, "/vod/") >= 2
	})
	web.Kill()
	root := filepath.Join(web.WWW, "vod")
	arrived := map[string]bool{}
	_ = filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			arrived[p] = true
			if strings.HasSuffix(p, ".m3u8") || strings.HasSuffix(p, ".mpd") {
				t.Errorf("manifest %s arrived before the media were all sent", p)
			}
		}
		return nil
	})
	// The attempt fails against the dead server, retryably.
	waitFailedAttempt(t, ctx, jobs, id, "")
	web.Restart()
	end := waitJob(t, ctx, jobs, id)
	if end.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job ended %s: %s", end.GetJob().GetState(), end.GetJob().GetError())
	}
	var out *v1.TransferOutput
	for _, tk := range end.GetTasks() {
		if tk.GetSpec().GetKind() == v1.TaskKind_TASK_KIND_TRANSFER {
			out = tk.GetResult().GetTransfer()
			if tk.GetState() != v1.TaskState_TASK_STATE_SUCCEEDED || tk.GetAttempt() < 2 {
				t.Errorf("transfer task %s after %d attempts", tk.GetState(), tk.GetAttempt())
			}
		}
	}
	objs, err := st.List(ctx, "assets/"+id+"/")
	if err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, root); n != len(objs) {
		t.Errorf("%d files delivered, the asset has %d", n, len(objs))
	}
	for p, n := range web.PutCounts(t, "/vod/") {
		if n != 1 {
			t.Errorf("%s stored %d times", p, n)
		}
	}
	if out.GetFilesSkipped() != int64(len(arrived)) || out.GetFilesSent() != int64(len(objs)-len(arrived)) {
		t.Errorf("last attempt sent %d and skipped %d files; %d of %d had arrived before the kill",
			out.GetFilesSent(), out.GetFilesSkipped(), len(arrived), len(objs))
	}
	t.Logf("%d of %d files arrived before nginx was killed; the resumed attempt sent %d files, %d bytes",
		len(arrived), len(objs), out.GetFilesSent(), out.GetBytesSent())
	checkPlaysInFull(t, root, srcDur)
}

// retryingDelivery starts a dev cluster whose agents push to
// http://addr/vod/ with the right login, one try per attempt and a 1 s
// retry backoff (so the coordinator's retry is what recovers), and submits
// a 2 s clip with that destination. It returns the job service, the
// storage client, the job id and the clip's stream durations.
func retryingDelivery(t *testing.T, ctx context.Context, addr string) (v1.JobServiceClient, *storage.Client, string, []float64) {
	t.Helper()
	dir := t.TempDir()
	creds := filepath.Join(dir, "netrc")
	if err := os.WriteFile(creds, []byte("machine "+addr+" login "+transfertest.HTTPUser+" password "+transfertest.HTTPSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := LoopbackConfig(t.TempDir())
	cfg.Coordinator.MaxRetryBackoff = time.Second
	cfg.Agent.Destinations = agent.DestinationConfig{AllowPrivate: true, CredentialsFile: creds, Retries: -1}
	c, err := Start(cfg, testmedia.Logger(t, hclog.Info))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	jobs := v1.NewJobServiceClient(dialT(t, c, c.Coordinator.Addr))
	st := storage.NewClient(dialT(t, c, c.Storage.GRPCAddr))
	clip := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 2})
	_, srcDur := streamDurations(t, clip)
	path := "sources/" + strconv.FormatInt(time.Now().UnixNano(), 36) + "/clip.mp4"
	if _, err := st.PutFile(ctx, path, clip, ""); err != nil {
		t.Fatal(err)
	}
	resp, err := jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_StoragePath{StoragePath: path}},
		MaxAttempts: 20, Destinations: []string{"http://" + addr + "/vod/"}})
	if err != nil {
		t.Fatal(err)
	}
	return jobs, st, resp.GetJob().GetId(), srcDur
}

// waitFailedAttempt waits until the job's one destination shows a failed
// attempt whose error contains want; the test fails if the destination
// failed for good or the job ended first.
func waitFailedAttempt(t *testing.T, ctx context.Context, jobs v1.JobServiceClient, id, want string) {
	t.Helper()
	poll(t, ctx, func() bool {
		r, err := jobs.GetJob(ctx, &v1.GetJobRequest{JobId: id})
		if err != nil {
			t.Fatal(err)
		}
		if isTerminalState(r.GetJob().GetState()) {
			t.Fatalf("job ended %s before a transfer attempt failed", r.GetJob().GetState())
		}
		ds := r.GetJob().GetDestinationStates()
		if len(ds) == 1 && ds[0].GetState() == "FAILED" {
			t.Fatalf("a server that is down failed the destination for good: %v", ds[0])
		}
		return len(ds) == 1 && ds[0].GetError() != "" && strings.Contains(ds[0].GetError(), want)
	})
}

// jobState reads a job's state.
func jobState(t *testing.T, ctx context.Context, jobs v1.JobServiceClient, id string) v1.JobState {
	t.Helper()
	r, err := jobs.GetJob(ctx, &v1.GetJobRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	return r.GetJob().GetState()
}

// poll calls cond every 20 ms until it holds or ctx ends.
func poll(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func isTerminalState(s v1.JobState) bool {
	return s == v1.JobState_JOB_STATE_SUCCEEDED || s == v1.JobState_JOB_STATE_FAILED || s == v1.JobState_JOB_STATE_CANCELLED
}
