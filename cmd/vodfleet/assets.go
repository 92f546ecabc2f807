package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vodfleet/vodfleet/edge"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// storageFlags are shared by the storage operator commands.
type storageFlags struct {
	addr    string
	json    bool
	timeout time.Duration
	sec     secFlags
}

func (s *storageFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.addr, "storage", "127.0.0.1:7001", "storage nodes: a gRPC address, or id=address,... (every node is asked)")
	fs.BoolVar(&s.json, "json", false, "print JSON")
	fs.DurationVar(&s.timeout, "timeout", 30*time.Second, "deadline for the request")
	s.sec.register(fs, secClient)
}

// eachNode calls f for every storage node in --storage, in order, under
// one deadline, and stops at the first error.
func (s *storageFlags) eachNode(f func(ctx context.Context, n storage.Node, st *storage.Client) error) error {
	nodes, err := storage.ParseNodes(s.addr)
	if err != nil {
		return fmt.Errorf("--storage: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	for _, n := range nodes {
		conn, err := s.sec.dial(n.Address)
		if err != nil {
			return err
		}
		err = f(ctx, n, storage.NewClient(conn))
		conn.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// assetOut is the JSON shape of an asset.
type assetOut struct {
	AssetID   string    `json:"asset_id"`
	Objects   int64     `json:"objects"`
	Bytes     int64     `json:"bytes"`
	UpdatedAt time.Time `json:"updated_at"`
	Node      string    `json:"node"`
}

// runStorageAssets is `vodfleet assets --on-storage`: what every storage
// node in --storage holds.
func runStorageAssets(args []string, stdout io.Writer) error {
	var sf storageFlags
	fs := flag.NewFlagSet("assets --on-storage", flag.ContinueOnError)
	sf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var out []assetOut
	err := sf.eachNode(func(ctx context.Context, n storage.Node, st *storage.Client) error {
		assets, err := st.ListAssets(ctx)
		for _, a := range assets {
			out = append(out, assetOut{AssetID: a.GetAssetId(), Objects: a.GetObjects(), Bytes: a.GetBytes(),
				UpdatedAt: a.GetUpdatedAt().AsTime(), Node: a.GetNode()})
		}
		if err != nil {
			return fmt.Errorf("node %s (%s): %w", n.ID, n.Address, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("assets: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].AssetID < out[j].AssetID })
	if sf.json {
		if out == nil {
			out = []assetOut{}
		}
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ASSET\tOBJECTS\tBYTES\tUPDATED\tNODE")
	for _, a := range out {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", a.AssetID, a.Objects, a.Bytes, a.UpdatedAt.Local().Format(time.DateTime), a.Node)
	}
	return tw.Flush()
}

// runDelete removes an asset's catalog record from the coordinator and
// then its files from every storage node in --storage. The record goes
// first: the coordinator refuses while the asset's job still runs, and
// then no file is touched. Either may be missing (an asset made before
// the catalog, a record whose job never published); only an asset found
// nowhere is an error.
func runDelete(args []string, stdout io.Writer) error {
	var sf storageFlags
	fs := flag.NewFlagSet("delete", flag.ContinueOnError)
	sf.register(fs)
	coord := fs.String("coordinator", "127.0.0.1:7000", "coordinator gRPC address (the catalog record is deleted there)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: vodfleet delete [--storage ADDR|id=ADDR,...] [--coordinator ADDR] ASSET")
	}
	id := fs.Arg(0)
	recorded, err := deleteRecord(*coord, id, &sf)
	if err != nil {
		if status.Code(err) == codes.FailedPrecondition {
			return fmt.Errorf("delete: %s", status.Convert(err).Message())
		}
		return fmt.Errorf("delete: catalog record of %s: %w", id, err)
	}
	if recorded {
		fmt.Fprintf(stdout, "deleted catalog record %s\n", id)
	}
	found := false
	err = sf.eachNode(func(ctx context.Context, node storage.Node, st *storage.Client) error {
		n, err := st.DeleteAsset(ctx, id)
		switch {
		case status.Code(err) == codes.NotFound:
			return nil // another node may hold it
		case err != nil:
			return fmt.Errorf("node %s (%s): %w", node.ID, node.Address, err)
		}
		found = true
		fmt.Fprintf(stdout, "deleted asset %s (%d objects)%s\n", id, n, nodeSuffix(node))
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if !found && !recorded {
		return fmt.Errorf("delete: asset %s: not found on any storage node nor in the catalog", id)
	}
	return nil
}

// deleteRecord deletes an asset's catalog record; false when there is none.
func deleteRecord(addr, id string, sf *storageFlags) (bool, error) {
	conn, err := sf.sec.dial(addr)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), sf.timeout)
	defer cancel()
	_, err = v1.NewCatalogServiceClient(conn).DeleteAsset(ctx, &v1.CatalogServiceDeleteAssetRequest{AssetId: id})
	if status.Code(err) == codes.NotFound {
		return false, nil
	}
	return err == nil, err
}

// nodeSuffix names a node in output when it has an id.
func nodeSuffix(n storage.Node) string {
	if n.ID == "" {
		return ""
	}
	return " on node " + n.ID
}

func runSign(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	keyFile := fs.String("key-file", "", "file holding the edge's signing key")
	ttl := fs.Duration("ttl", time.Hour, "how long the URL stays valid")
	base := fs.String("edge", "http://127.0.0.1:8080", "edge base URL")
	file := fs.String("file", "master.m3u8", "file inside the asset the URL points at")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: vodfleet sign --key-file F [--ttl 1h] [--edge URL] ASSET")
	}
	key, err := readKey(*keyFile)
	if err != nil {
		return err
	}
	if *ttl <= 0 {
		return errors.New("--ttl must be positive")
	}
	fmt.Fprintln(stdout, strings.TrimSuffix(*base, "/")+edge.SignedPath(key, fs.Arg(0), time.Now().Add(*ttl))+*file)
	return nil
}

// readKey reads a signing key file (its whitespace-trimmed content).
func readKey(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("a signing key file is required (--key-file)")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k := []byte(strings.TrimSpace(string(b)))
	if len(k) < 16 {
		return nil, fmt.Errorf("signing key in %s is shorter than 16 bytes", path)
	}
	return k, nil
}
