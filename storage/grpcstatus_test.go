package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

func TestGRPCCorruptDataLoss(t *testing.T) {
	s := smallChunkStore(t)
	c, rpc := startGRPC(t, s)
	ctx := context.Background()
	small := mustPut(t, s, "assets/a/small.m4s", randomBytes(500))
	big := mustPut(t, s, "assets/a/big.m4s", randomBytes(5000))
	flipByte(t, s, small, 10)
	flipByte(t, s, big, 4500)

	_, got, _, err := rawGet(t, rpc, &vodfleetv1.GetRequest{Path: small.Path})
	wantCode(t, err, codes.DataLoss)
	if len(got) != 0 {
		t.Fatalf("corrupt single-chunk object leaked %d bytes", len(got))
	}
	_, got, _, err = rawGet(t, rpc, &vodfleetv1.GetRequest{Path: big.Path})
	wantCode(t, err, codes.DataLoss)
	if len(got) >= int(big.Size) {
		t.Fatal("corrupt object streamed completely")
	}
	_, _, _, err = rawGet(t, rpc, &vodfleetv1.GetRequest{Path: big.Path, Offset: 0, Length: 100})
	wantCode(t, err, codes.DataLoss)

	dst := filepath.Join(t.TempDir(), "big.m4s")
	wantCode(t, c.GetToFile(ctx, big.Path, dst), codes.DataLoss)
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("corrupt download left a file: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dst)); len(entries) != 0 {
		t.Fatalf("temp file left behind: %s", entries[0].Name())
	}
}

func TestToStatus(t *testing.T) {
	cases := map[error]codes.Code{
		nil:                              codes.OK,
		ErrNotFound:                      codes.NotFound,
		ErrInvalidPath:                   codes.InvalidArgument,
		ErrSizeMismatch:                  codes.InvalidArgument,
		errBadRequest:                    codes.InvalidArgument,
		errOutOfRange:                    codes.OutOfRange,
		ErrCorrupt:                       codes.DataLoss,
		ErrClosed:                        codes.Unavailable,
		context.Canceled:                 codes.Canceled,
		errors.New("disk on fire"):       codes.Internal,
		status.Error(codes.Aborted, "x"): codes.Aborted,
	}
	for err, want := range cases {
		wrapped := err
		if err != nil {
			wrapped = errors.Join(errors.New("context"), err)
		}
		if got := status.Code(toStatus(wrapped)); got != want {
			t.Errorf("toStatus(%v) = %s, want %s", err, got, want)
		}
	}
}
