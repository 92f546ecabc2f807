// Command transfer measures internal/transfer.Push against rclone: the
// same generated package (by default 50 files of 4 MiB in two rendition
// directories plus HLS playlists, ~200 MB) is pushed to S3 (versitygw)
// and SFTP (sshd), both started on loopback by this tool, by vodfleet and
// by rclone in the same run, each round to a fresh prefix so neither side
// can skip files. It prints a table of wall times and the ratio of
// vodfleet's speed to rclone's (target >= 1.0x). scripts/bench-transfer.sh
// (make bench-transfer) installs rclone and runs it.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vodfleet/vodfleet/internal/transfer"
	"github.com/vodfleet/vodfleet/internal/transfer/transfertest"
	"github.com/vodfleet/vodfleet/internal/urlpolicy"
)

func main() {
	files := flag.Int("files", 50, "media files in the package")
	size := flag.Int64("size", 4<<20, "bytes per media file")
	rounds := flag.Int("rounds", 2, "rounds per tool and target; the table shows the best")
	concurrency := flag.Int("concurrency", transfer.DefaultConcurrency, "vodfleet Push concurrency (rclone --transfers gets the same)")
	partSize := flag.Int64("part-size", transfer.DefaultS3PartSize, "vodfleet S3 multipart part size")
	rcloneBin := flag.String("rclone", "rclone", "rclone binary")
	rcloneArgs := flag.String("rclone-args", "", "extra rclone arguments, space-separated (e.g. --sftp-disable-hashcheck)")
	flag.Parse()

	t := newBenchT()
	defer t.cleanup()
	if _, err := exec.LookPath(*rcloneBin); err != nil {
		t.Fatalf("rclone not found (%v): scripts/bench-transfer.sh installs it", err)
	}
	pkg, total := makePackage(t, *files, *size)
	fmt.Printf("package: %d files, %.1f MB; concurrency %d; vodfleet S3 part size %d MiB; rclone args %q\n",
		*files+5, float64(total)/1e6, *concurrency, *partSize>>20, *rcloneArgs)

	s3 := transfertest.StartVersity(t)
	for k, v := range s3.Env(transfertest.S3Secret) {
		os.Setenv(k, v)
	}
	sshd := transfertest.StartSSHD(t)
	sftpRoot := filepath.Join(sshd.Dir, "dest")
	if err := os.MkdirAll(sftpRoot, 0o755); err != nil {
		t.Fatal(err)
	}
	host, port := splitHostPort(sshd.Addr)
	rcloneEnv := append(os.Environ(),
		"RCLONE_CONFIG="+filepath.Join(t.TempDir(), "rclone.conf"), // empty: everything from the env
		"RCLONE_CONFIG_BS3_TYPE=s3", "RCLONE_CONFIG_BS3_PROVIDER=Other",
		"RCLONE_CONFIG_BS3_ACCESS_KEY_ID="+transfertest.S3Access,
		"RCLONE_CONFIG_BS3_SECRET_ACCESS_KEY="+transfertest.S3Secret,
		"RCLONE_CONFIG_BS3_ENDPOINT=http://"+s3.Addr, "RCLONE_CONFIG_BS3_REGION=us-east-1",
		"RCLONE_CONFIG_BSFTP_TYPE=sftp", "RCLONE_CONFIG_BSFTP_HOST="+host, "RCLONE_CONFIG_BSFTP_PORT="+port,
		"RCLONE_CONFIG_BSFTP_USER="+sshd.User, "RCLONE_CONFIG_BSFTP_KEY_FILE="+sshd.UserKey,
		"RCLONE_CONFIG_BSFTP_KNOWN_HOSTS_FILE="+sshd.KnownHosts,
	)
	opts := transfer.Options{
		Policy:     urlpolicy.Policy{AllowPrivate: true, Schemes: []string{"s3", "sftp"}},
		SSHKeyFile: sshd.UserKey, KnownHostsFile: sshd.KnownHosts,
		Concurrency: *concurrency, S3PartSize: *partSize,
	}

	type target struct {
		name      string
		vodfleet  func(prefix string) string // destination URL
		rclone    func(prefix string) string // rclone remote path
		landed    func(prefix string) string // local dir the server stores prefix in
		best      [2]time.Duration
		allRounds [2][]time.Duration
	}
	targets := []*target{
		{name: "S3 (versitygw)",
			vodfleet: func(p string) string { return "s3://bkt/" + p },
			rclone:   func(p string) string { return "bs3:bkt/" + p },
			landed:   func(p string) string { return filepath.Join(s3.Root, "bkt", p) }},
		{name: "SFTP (sshd)",
			vodfleet: func(p string) string { return "sftp://" + sshd.User + "@" + sshd.Addr + sftpRoot + "/" + p },
			rclone:   func(p string) string { return "bsftp:" + sftpRoot + "/" + p },
			landed:   func(p string) string { return filepath.Join(sftpRoot, p) }},
	}
	ctx := context.Background()
	for r := 1; r <= *rounds; r++ {
		for _, tg := range targets {
			// vodfleet
			prefix := fmt.Sprintf("vodfleet-%d", r)
			dest, err := transfer.ParseDestination(tg.vodfleet(prefix), opts)
			if err != nil {
				t.Fatalf("%s: %v", tg.name, err)
			}
			start := time.Now()
			res, err := transfer.Push(ctx, pkg, dest, nil, opts)
			d := time.Since(start)
			dest.Close()
			if err != nil {
				t.Fatalf("%s: vodfleet push: %v", tg.name, err)
			}
			if len(res.Skipped) > 0 {
				t.Fatalf("%s: vodfleet skipped %d files on a fresh prefix", tg.name, len(res.Skipped))
			}
			checkLanded(t, tg.landed(prefix), total)
			tg.allRounds[0] = append(tg.allRounds[0], d)
			// rclone
			prefix = fmt.Sprintf("rclone-%d", r)
			args := append([]string{"copy", pkg, tg.rclone(prefix), "--transfers", fmt.Sprint(*concurrency)}, strings.Fields(*rcloneArgs)...)
			cmd := exec.Command(*rcloneBin, args...)
			cmd.Env = rcloneEnv
			start = time.Now()
			out, err := cmd.CombinedOutput()
			d = time.Since(start)
			if err != nil {
				t.Fatalf("%s: rclone: %v\n%s", tg.name, err, out)
			}
			checkLanded(t, tg.landed(prefix), total)
			tg.allRounds[1] = append(tg.allRounds[1], d)
		}
	}
	fmt.Println()
	fmt.Println("| target | vodfleet | rclone | vodfleet MB/s | rclone MB/s | vodfleet/rclone speed |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, tg := range targets {
		v, rc := best(tg.allRounds[0]), best(tg.allRounds[1])
		mb := float64(total) / 1e6
		fmt.Printf("| %s | %.2f s | %.2f s | %.1f | %.1f | %.2fx |\n", tg.name, v.Seconds(), rc.Seconds(),
			mb/v.Seconds(), mb/rc.Seconds(), rc.Seconds()/v.Seconds())
	}
	fmt.Println()
	for _, tg := range targets {
		fmt.Printf("%s rounds: vodfleet %v, rclone %v\n", tg.name, roundsText(tg.allRounds[0]), roundsText(tg.allRounds[1]))
	}
}

func best(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[0]
}

func roundsText(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%.2fs", d.Seconds()))
	}
	return strings.Join(parts, " ")
}

func splitHostPort(addr string) (string, string) {
	i := strings.LastIndex(addr, ":")
	return addr[:i], addr[i+1:]
}

// makePackage writes n random media files of size bytes in two rendition
// directories with their media playlists, a master playlist and a
// thumbnail, and returns the directory and its total size.
func makePackage(t *benchT, n int, size int64) (string, int64) {
	dir := t.TempDir()
	var total int64
	write := func(rel string, r io.Reader, n int64) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		w, err := io.CopyN(f, r, n)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		total += w
	}
	lists := map[string]*strings.Builder{}
	for i := range n {
		r := []string{"720p", "360p"}[i%2]
		if lists[r] == nil {
			lists[r] = &strings.Builder{}
			lists[r].WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n")
		}
		name := fmt.Sprintf("seg_%04d.m4s", i/2)
		write(filepath.Join(r, name), rand.Reader, size)
		fmt.Fprintf(lists[r], "#EXTINF:4.0,\n%s\n", name)
	}
	master := "#EXTM3U\n"
	for r, b := range lists {
		b.WriteString("#EXT-X-ENDLIST\n")
		s := b.String()
		write(filepath.Join(r, "index.m3u8"), strings.NewReader(s), int64(len(s)))
		master += fmt.Sprintf("#EXT-X-STREAM-INF:BANDWIDTH=2000000\n%s/index.m3u8\n", r)
	}
	write("master.m3u8", strings.NewReader(master), int64(len(master)))
	write("thumb.jpg", rand.Reader, 20_000)
	write("download.mp4", rand.Reader, 1<<20)
	return dir, total
}

// checkLanded fails unless dir holds want bytes of regular files.
func checkLanded(t *benchT, dir string, want int64) {
	var got int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			got += info.Size()
		}
		return nil
	})
	if err != nil || got != want {
		t.Fatalf("%s holds %d bytes (%v), want %d", dir, got, err, want)
	}
}

// benchT is the transfertest.T of a command: Fatal stops the servers
// started so far, then exits.
type benchT struct {
	base     string
	cleanups []func()
}

func newBenchT() *benchT {
	base, err := os.MkdirTemp("", "vodfleet-bench-transfer-")
	if err != nil {
		log.Fatal(err)
	}
	return &benchT{base: base}
}

func (b *benchT) Helper() {}

func (b *benchT) Fatal(args ...any) { b.Fatalf("%s", fmt.Sprint(args...)) }

func (b *benchT) Fatalf(format string, args ...any) {
	b.cleanup()
	log.Fatalf(format, args...)
}

func (b *benchT) Cleanup(f func()) { b.cleanups = append(b.cleanups, f) }

func (b *benchT) TempDir() string {
	d, err := os.MkdirTemp(b.base, "")
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func (b *benchT) cleanup() {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
	b.cleanups = nil
	os.RemoveAll(b.base)
}
