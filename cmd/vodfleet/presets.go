package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// loadPreset reads a preset file: JSON or YAML in the shape of the Preset
// message (name, description, ladder, encode, segment_seconds).
func loadPreset(path string) (*v1.Preset, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("preset file: %w", err)
	}
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		if data, err = yaml.YAMLToJSON(data); err != nil {
			return nil, fmt.Errorf("preset file %s: %w", path, err)
		}
	}
	p := &v1.Preset{}
	if err := protojson.Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("preset file %s: %w", path, err)
	}
	return p, nil
}

func runPreset(args []string, stdout io.Writer) error {
	var cf clientFlags
	fs := flag.NewFlagSet("preset", flag.ContinueOnError)
	cf.register(fs)
	name := fs.String("name", "", "set: preset name (overrides the file's)")
	expect := fs.Int64("expect-version", 0, "set: write only if the stored version is this one (0: unconditional)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	usage := errors.New("usage: vodfleet preset list | show NAME | set FILE [--name NAME] [--expect-version N] | delete NAME")
	if fs.NArg() == 0 {
		return usage
	}
	sub, rest := fs.Arg(0), fs.Args()[1:]
	if (sub == "list") != (len(rest) == 0) || len(rest) > 1 {
		return usage
	}
	return cf.withConn(func(ctx context.Context, conn grpc.ClientConnInterface) error {
		ps := v1.NewPresetServiceClient(conn)
		switch sub {
		case "list":
			resp, err := ps.ListPresets(ctx, &v1.ListPresetsRequest{})
			if err != nil {
				return err
			}
			if cf.json {
				return printProto(stdout, resp)
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PRESET\tVERSION\tLADDER\tRENDITIONS\tDESCRIPTION")
			for _, p := range resp.GetPresets() {
				var rs []string
				for _, r := range p.GetEncode().GetRenditions() {
					rs = append(rs, fmt.Sprintf("%dp", r.GetHeight()))
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", p.GetName(), p.GetVersion(), p.GetLadder(), strings.Join(rs, ","), p.GetDescription())
			}
			return tw.Flush()
		case "show":
			resp, err := ps.GetPreset(ctx, &v1.GetPresetRequest{Name: rest[0]})
			if err != nil {
				return err
			}
			return printProto(stdout, resp.GetPreset())
		case "set":
			p, err := loadPreset(rest[0])
			if err != nil {
				return err
			}
			if *name != "" {
				p.Name = *name
			}
			resp, err := ps.SetPreset(ctx, &v1.SetPresetRequest{Preset: p, ExpectedVersion: *expect})
			if err != nil {
				return err
			}
			if cf.json {
				return printProto(stdout, resp.GetPreset())
			}
			fmt.Fprintf(stdout, "preset %s stored as version %d\n", resp.GetPreset().GetName(), resp.GetPreset().GetVersion())
			return nil
		case "delete":
			if _, err := ps.DeletePreset(ctx, &v1.DeletePresetRequest{Name: rest[0]}); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "preset %s deleted\n", rest[0])
			return nil
		}
		return usage
	})
}

func runDest(args []string, stdout io.Writer) error {
	var cf clientFlags
	fs := flag.NewFlagSet("dest", flag.ContinueOnError)
	cf.register(fs)
	var opts labelFlag
	fs.Var(&opts, "option", "add: non-secret option KEY=VALUE (repeatable)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	usage := errors.New("usage: vodfleet dest list | add NAME URL [--option K=V]... | delete NAME")
	if fs.NArg() == 0 {
		return usage
	}
	sub, rest := fs.Arg(0), fs.Args()[1:]
	want := map[string]int{"list": 0, "add": 2, "delete": 1}
	if n, ok := want[sub]; !ok || n != len(rest) {
		return usage
	}
	return cf.withConn(func(ctx context.Context, conn grpc.ClientConnInterface) error {
		ds := v1.NewDestinationServiceClient(conn)
		switch sub {
		case "list":
			resp, err := ds.ListDestinations(ctx, &v1.ListDestinationsRequest{})
			if err != nil {
				return err
			}
			if cf.json {
				return printProto(stdout, resp)
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DESTINATION\tURL\tOPTIONS")
			for _, d := range resp.GetDestinations() {
				var o []string
				for _, k := range sortedKeys(d.GetOptions()) {
					o = append(o, k+"="+d.GetOptions()[k])
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", d.GetName(), d.GetUrl(), strings.Join(o, ","))
			}
			return tw.Flush()
		case "add":
			resp, err := ds.AddDestination(ctx, &v1.AddDestinationRequest{Destination: &v1.Destination{Name: rest[0], Url: rest[1], Options: opts.m}})
			if err != nil {
				return err
			}
			if cf.json {
				return printProto(stdout, resp.GetDestination())
			}
			fmt.Fprintf(stdout, "destination %s stored\n", rest[0])
			return nil
		default:
			if _, err := ds.DeleteDestination(ctx, &v1.DeleteDestinationRequest{Name: rest[0]}); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "destination %s deleted\n", rest[0])
			return nil
		}
	})
}
