package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Catalog client commands: `asset show|set`, `assets` (the filtered,
// paged listing of asset records; `catalog` is its alias and `assets
// --on-storage` the listing of what the storage nodes hold), `preset ...`
// and `dest ...`.

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// parseSub parses a command whose flags may follow its positional
// arguments (`asset set ID --title T`): flags are moved to the front, then
// parsed by parseFlags (so the config layer applies).
func parseSub(fs *flag.FlagSet, args []string) error {
	if isFlagSetRequest(args) || dryRunFile(args) != nil {
		return parseFlags(fs, args)
	}
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				continue
			}
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return parseFlags(fs, append(append(flags, "--"), pos...))
}

// withConn dials the coordinator and calls f with a connection and a
// context bounded by --timeout.
func (c *clientFlags) withConn(f func(ctx context.Context, conn grpc.ClientConnInterface) error) error {
	conn, err := c.sec.dial(c.coordinator)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	return f(ctx, conn)
}

// printProto prints a message as JSON with the proto field names.
func printProto(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{UseProtoNames: true, Multiline: true, Indent: "  "}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func runAsset(args []string, stdout io.Writer) error {
	var cf clientFlags
	fs := flag.NewFlagSet("asset", flag.ContinueOnError)
	cf.register(fs)
	title := fs.String("title", "", "set: new title")
	desc := fs.String("description", "", "set: new description")
	var tags, meta stringList
	fs.Var(&tags, "tag", "set: tag (repeatable); the given tags replace the asset's")
	fs.Var(&meta, "meta", "set: custom field KEY=VALUE (repeatable); KEY= removes the field")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	usage := errors.New("usage: vodfleet asset show ASSET | vodfleet asset set ASSET [--title T] [--description D] [--tag T]... [--meta K=V]...")
	if fs.NArg() != 2 {
		return usage
	}
	id := fs.Arg(1)
	var req proto.Message
	switch fs.Arg(0) {
	case "show":
		req = &v1.GetAssetRequest{AssetId: id}
	case "set":
		u := &v1.UpdateAssetRequest{Asset: &v1.Asset{Id: id, Title: *title, Description: *desc, Tags: tags, Meta: map[string]string{}}}
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "title", "description":
				u.UpdateMask = append(u.UpdateMask, f.Name)
			case "tag":
				u.UpdateMask = append(u.UpdateMask, "tags")
			}
		})
		for _, kv := range meta {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return fmt.Errorf("--meta %q: want KEY=VALUE", kv)
			}
			u.Asset.Meta[k] = v
			u.UpdateMask = append(u.UpdateMask, "meta."+k)
		}
		if len(u.UpdateMask) == 0 {
			return errors.New("asset set: nothing to change (give --title, --description, --tag or --meta)")
		}
		req = u
	default:
		return usage
	}
	return cf.withConn(func(ctx context.Context, conn grpc.ClientConnInterface) error {
		cat := v1.NewCatalogServiceClient(conn)
		var a *v1.Asset
		switch r := req.(type) {
		case *v1.GetAssetRequest:
			resp, err := cat.GetAsset(ctx, r)
			if err != nil {
				return err
			}
			a = resp.GetAsset()
		case *v1.UpdateAssetRequest:
			resp, err := cat.UpdateAsset(ctx, r)
			if err != nil {
				return err
			}
			a = resp.GetAsset()
		}
		if cf.json {
			return printProto(stdout, a)
		}
		printAsset(stdout, a)
		return nil
	})
}

// printAsset prints one record for people.
func printAsset(w io.Writer, a *v1.Asset) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("asset", a.GetId())
	row("state", stateName(a.GetState(), "ASSET_STATE_"))
	row("title", a.GetTitle())
	row("description", a.GetDescription())
	row("tags", strings.Join(a.GetTags(), ", "))
	for _, k := range sortedKeys(a.GetMeta()) {
		row("meta."+k, a.GetMeta()[k])
	}
	if p := a.GetPreset(); p != "" {
		row("preset", fmt.Sprintf("%s (version %d)", p, a.GetPresetVersion()))
	}
	if s := a.GetSource(); s != nil {
		row("source", fmt.Sprintf("%s, %s %dx%d %.3g fps, %s, %.2fs, %d audio track(s)", s.GetContainer(), s.GetVideoCodec(),
			s.GetWidth(), s.GetHeight(), s.GetFrameRate(), s.GetAudioCodec(), s.GetDurationSeconds(), len(s.GetAudioTracks())))
	}
	for _, r := range a.GetRenditions() {
		row("rendition "+r.GetName(), fmt.Sprintf("%dx%d %s %d kb/s %d bytes", r.GetWidth(), r.GetHeight(), r.GetCodecs(), r.GetAverageBitrate()/1000, r.GetSizeBytes()))
	}
	if a.GetSizeBytes() > 0 {
		row("size", fmt.Sprintf("%d bytes", a.GetSizeBytes()))
	}
	if o := a.GetOutputs(); o != nil {
		row("hls", firstNonEmpty(o.GetHlsUrl(), o.GetHlsMaster()))
		row("dash", firstNonEmpty(o.GetDashUrl(), o.GetDashManifest()))
		row("hds", firstNonEmpty(o.GetHdsUrl(), o.GetHdsManifest()))
	}
	for _, d := range a.GetDestinations() {
		row("destination "+firstNonEmpty(d.GetName(), d.GetUrl()), strings.TrimSpace(d.GetState()+" "+d.GetError()))
	}
	row("error", a.GetError())
	row("created", a.GetCreatedAt().AsTime().Format("2006-01-02 15:04:05"))
	row("updated", a.GetUpdatedAt().AsTime().Format("2006-01-02 15:04:05"))
	tw.Flush()
}

// runAssets is `vodfleet assets`: the catalog listing, or with
// --on-storage the listing of what the storage nodes hold.
func runAssets(args []string, stdout io.Writer) error {
	if rest, ok := takeOnStorage(args); ok {
		return runStorageAssets(rest, stdout)
	}
	return runCatalogList("assets", args, stdout)
}

// runCatalog is `vodfleet catalog`, the alias of the catalog listing.
func runCatalog(args []string, stdout io.Writer) error {
	return runCatalogList("catalog", args, stdout)
}

// takeOnStorage removes --on-storage from args (before any "--") and says
// whether it was given and true. args is returned as is when it is absent
// (the config layer compares its flag-set request by identity).
func takeOnStorage(args []string) ([]string, bool) {
	idx, on := -1, false
	for i, a := range args {
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "on-storage" {
			continue
		}
		idx, on = i, !hasVal || val == "true" || val == "1"
	}
	if idx < 0 {
		return args, false
	}
	return append(append([]string(nil), args[:idx]...), args[idx+1:]...), on
}

// runCatalogList searches the asset records (CatalogService.SearchAssets).
func runCatalogList(name string, args []string, stdout io.Writer) error {
	var cf clientFlags
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cf.register(fs)
	var onStorage *bool
	if name == "assets" {
		onStorage = fs.Bool("on-storage", false, "list what the storage nodes hold (asset, objects, bytes, node) instead of the catalog; takes --storage, --json, --timeout")
	}
	var tags stringList
	var meta labelFlag
	fs.Var(&tags, "tag", "only assets with this tag (repeatable: all of them)")
	fs.Var(&meta, "meta", "only assets with this custom field value, KEY=VALUE (repeatable)")
	state := fs.String("state", "", "only assets in this state: processing, ready, failed, cancelled")
	search := fs.String("search", "", "words that title or description must contain (word* matches a prefix)")
	limit := fs.Int("limit", 50, "page size (1..1000)")
	token := fs.String("page-token", "", "page token printed by the previous page")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if onStorage != nil && *onStorage {
		// Set by the environment or a config file rather than the command line.
		return runStorageAssets(args, stdout)
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("usage: vodfleet %s [--tag T]... [--meta K=V]... [--state S] [--search TEXT] [--limit N] [--page-token TOKEN] [--json]", name)
	}
	req := &v1.SearchAssetsRequest{Tags: tags, Meta: meta.m, Search: *search, Limit: int32(*limit), PageToken: *token}
	if *state != "" {
		v, ok := v1.AssetState_value["ASSET_STATE_"+strings.ToUpper(*state)]
		if !ok || v == 0 {
			return fmt.Errorf("--state %q: processing, ready, failed or cancelled", *state)
		}
		req.State = v1.AssetState(v)
	}
	return cf.withConn(func(ctx context.Context, conn grpc.ClientConnInterface) error {
		resp, err := v1.NewCatalogServiceClient(conn).SearchAssets(ctx, req)
		if err != nil {
			return err
		}
		if cf.json {
			return printProto(stdout, resp)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ASSET\tSTATE\tTITLE\tTAGS\tDURATION\tCREATED")
		for _, a := range resp.GetAssets() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1fs\t%s\n", a.GetId(), stateName(a.GetState(), "ASSET_STATE_"), a.GetTitle(),
				strings.Join(a.GetTags(), ","), a.GetSource().GetDurationSeconds(), a.GetCreatedAt().AsTime().Format("2006-01-02 15:04"))
		}
		tw.Flush()
		if t := resp.GetNextPageToken(); t != "" {
			fmt.Fprintf(stdout, "next page: --page-token %s\n", t)
		}
		return nil
	})
}
