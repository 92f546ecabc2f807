package devcluster

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	"github.com/vodfleet/vodfleet/internal/transfer/transfertest"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// lockedBuffer collects the cluster's log lines from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// copyFile copies src to dst, creating dst's directory.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSourcesFromS3SFTPAndHTTP fetches job sources from real servers on
// loopback: versitygw (s3://), sshd (sftp://) and nginx (http://) behind
// a proxy that cuts the download midway, so the agent must resume it
// with a Range request. Each job ends SUCCEEDED with HLS that decodes to
// the source's duration. An sftp source whose login the server refuses
// fails its job with a readable reason after its bounded attempts. The
// agents' credentials come from their own config and environment only.
func TestSourcesFromS3SFTPAndHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test encodes video; skipped with -short")
	}
	dir := t.TempDir()
	clip := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 3})
	st, err := os.Stat(clip)
	if err != nil {
		t.Fatal(err)
	}

	s3 := transfertest.StartVersity(t)
	for k, v := range s3.Env(transfertest.S3Secret) {
		t.Setenv(k, v)
	}
	copyFile(t, clip, filepath.Join(s3.Root, "bkt", "in", "clip.mp4"))

	sshd := transfertest.StartSSHD(t)
	sftpPath := filepath.Join(sshd.Dir, "media", "clip.mp4")
	copyFile(t, clip, sftpPath)

	web := transfertest.StartNginx(t)
	copyFile(t, clip, filepath.Join(web.WWW, "clip.mp4"))
	proxy := transfertest.StartCuttingProxy(t, web.Addr, st.Size()/2)
	netrc := filepath.Join(dir, "netrc")
	cred := fmt.Sprintf("machine %s login %s password %s\n", proxy.Addr, transfertest.HTTPUser, transfertest.HTTPSecret)
	if err := os.WriteFile(netrc, []byte(cred), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg := LoopbackConfig(t.TempDir())
	cfg.Agent.SFTPKeyFile = sshd.UserKey
	cfg.Agent.SFTPKnownHostsFile = sshd.KnownHosts
	cfg.Agent.HTTPCredentialsFile = netrc
	logs := &lockedBuffer{}
	c, err := Start(cfg, hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	jobs := v1.NewJobServiceClient(dialT(t, c, c.Coordinator.Addr))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	submit := func(u string, attempts int32) string {
		t.Helper()
		resp, err := jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_Url{Url: u}}, MaxAttempts: attempts})
		if err != nil {
			t.Fatalf("submit %s: %v", u, err)
		}
		return resp.GetJob().GetId()
	}
	good := map[string]string{
		"s3":   submit("s3://bkt/in/clip.mp4", 0),
		"sftp": submit(fmt.Sprintf("sftp://%s@%s%s", sshd.User, sshd.Addr, sftpPath), 0),
		"http": submit("http://"+proxy.Addr+"/clip.mp4", 0),
	}
	wrong := submit(fmt.Sprintf("sftp://nosuchuser@%s%s", sshd.Addr, sftpPath), 2)

	for scheme, id := range good {
		r := waitJob(t, ctx, jobs, id)
		if r.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
			t.Errorf("%s source: job ended %s: %s", scheme, r.GetJob().GetState(), r.GetJob().GetError())
			continue
		}
		if _, durs := streamDurations(t, r.GetJob().GetHlsUrl()); len(durs) != 2 || math.Abs(durs[0]-3) > 0.2 {
			t.Errorf("%s source plays back as %v, want a 3 s video and audio", scheme, durs)
		}
	}

	// The http download was cut midway and resumed from where it stopped.
	if !proxy.Cut() {
		t.Error("the proxy never cut the http download")
	}
	accessLog, err := os.ReadFile(web.AccessLog)
	if err != nil {
		t.Fatal(err)
	}
	resumed := false
	for _, l := range strings.Split(string(accessLog), "\n") {
		if f := strings.Fields(l); len(f) == 5 && f[0] == "GET" && f[2] == "206" && strings.HasPrefix(f[3], `"bytes=`) && f[3] != `"bytes=0-"` {
			resumed = true
		}
	}
	if !resumed {
		t.Errorf("no resumed (ranged, 206) GET in nginx's log:\n%s", accessLog)
	}

	if t.Failed() {
		t.Logf("cluster log:\n%s", logs.String())
	}
	w := waitJob(t, ctx, jobs, wrong)
	if w.GetJob().GetState() != v1.JobState_JOB_STATE_FAILED {
		t.Fatalf("wrong-login job ended %s, want FAILED", w.GetJob().GetState())
	}
	if msg := w.GetJob().GetError(); !strings.Contains(msg, "source login failed") || !strings.Contains(msg, "nosuchuser") {
		t.Errorf("wrong-login job error %q is not a readable reason", msg)
	} else {
		t.Logf("wrong-login job failed with: %s", msg)
	}
	for _, tk := range w.GetTasks() {
		if tk.GetAttempt() > 2 {
			t.Errorf("task %s ran %d attempts, limit 2", tk.GetName(), tk.GetAttempt())
		}
	}
	// Secrets stay out of logs.
	for _, secret := range []string{transfertest.S3Secret, transfertest.HTTPSecret} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("cluster logs contain a secret")
		}
	}
}
