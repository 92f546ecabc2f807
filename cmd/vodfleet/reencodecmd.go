package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// reencodeUsage is the synopsis of `vodfleet reencode`.
const reencodeUsage = "usage: vodfleet reencode [--wait] [--json] [--codec C] ASSET [--add NAME|WxH@KBPS[,codec=C][,name=N]]... [--replace NAME]..."

// runReencode adds renditions to a published asset, or re-encodes some of
// them, and republishes its manifests atomically (JobService.ReencodeAsset).
func runReencode(args []string, stdout io.Writer) error {
	var cf clientFlags
	fs := flag.NewFlagSet("reencode", flag.ContinueOnError)
	cf.register(fs)
	var adds addFlag
	var replace listFlag
	fs.Var(&adds, "add", "rendition to add (repeatable): a ladder rung name (720p), or WxH@KBPS (640x360@800), optionally followed by ,codec=av1 and ,name=NAME")
	fs.Var(&replace, "replace", "existing rendition to encode again (repeatable); an --add of the same name gives it new settings")
	codec := fs.String("codec", "", "codec of added renditions that name none: h264 (default), hevc, av1")
	wait := fs.Bool("wait", false, "wait for the reencode job; exit 1 unless it succeeded")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Flags may follow the asset (vodfleet reencode ASSET --add 720p).
	pos, err := positionalArgs(fs)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (len(adds.list) == 0 && len(replace) == 0) {
		return errors.New(reencodeUsage)
	}
	req := &v1.ReencodeAssetRequest{AssetId: pos[0], Add: adds.list, Replace: replace}
	if *codec != "" {
		c, err := parseCodec(*codec)
		if err != nil {
			return err
		}
		req.Codec = c
	}
	conn, err := cf.sec.dial(cf.coordinator)
	if err != nil {
		return err
	}
	defer conn.Close()
	jobs := v1.NewJobServiceClient(conn)
	ctx, stop := signalContext()
	defer stop()
	rctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	resp, err := jobs.ReencodeAsset(rctx, req)
	if err != nil {
		return fmt.Errorf("reencode: %w", err)
	}
	_, err = startedJob(ctx, jobs, resp.GetJob(), "reencode job", *wait, &cf, stdout, printOutcome)
	return err
}

// addFlag collects --add values.
type addFlag struct{ list []*v1.RenditionRequest }

func (a *addFlag) String() string { return fmt.Sprint(len(a.list), " renditions") }

// sizeSpec is WxH@KBPS.
var sizeSpec = regexp.MustCompile(`^(\d+)x(\d+)@(\d+)$`)

// Set parses "720p", "640x360@800" or either followed by ",codec=av1" and
// ",name=NAME". A bare name is resolved by the coordinator (a ladder rung).
func (a *addFlag) Set(s string) error {
	fields := strings.Split(s, ",")
	q := &v1.RenditionRequest{}
	head := strings.TrimSpace(fields[0])
	if m := sizeSpec.FindStringSubmatch(head); m != nil {
		w, _ := strconv.Atoi(m[1])
		h, _ := strconv.Atoi(m[2])
		kbps, _ := strconv.ParseInt(m[3], 10, 64)
		if h == 0 || kbps == 0 {
			return fmt.Errorf("add %q: height and bitrate must be positive", s)
		}
		q.Width, q.Height, q.VideoBitrate = int32(w), int32(h), kbps*1000
	} else if head == "" || strings.Contains(head, "=") {
		return fmt.Errorf("add %q: start with a rung name (720p) or WxH@KBPS", s)
	} else {
		q.Name = head
	}
	for _, kv := range fields[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return fmt.Errorf("add %q: %q is not key=value", s, kv)
		}
		switch k {
		case "codec":
			c, err := parseCodec(v)
			if err != nil {
				return fmt.Errorf("add %q: %w", s, err)
			}
			q.Codec = c
		case "name":
			if q.Height == 0 {
				return fmt.Errorf("add %q: name= goes with WxH@KBPS; a rung keeps its name", s)
			}
			q.Name = v
		default:
			return fmt.Errorf("add %q: unknown key %q (codec, name)", s, k)
		}
	}
	if q.Height > 0 && q.Name == "" && q.Codec != v1.VideoCodec_VIDEO_CODEC_UNSPECIFIED && q.Codec != v1.VideoCodec_VIDEO_CODEC_H264 {
		// Next to its H.264 twin of the same height.
		q.Name = fmt.Sprintf("%dp-%s", q.Height, strings.ToLower(strings.TrimPrefix(q.Codec.String(), "VIDEO_CODEC_")))
	}
	a.list = append(a.list, q)
	return nil
}
