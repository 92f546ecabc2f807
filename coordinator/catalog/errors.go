package catalog

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Sentinel errors, wrapped with %w inside the package and mapped to gRPC
// codes once, in toStatus.
var (
	// ErrNotFound: no such asset, preset or destination.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: a request or record is malformed; the message names the field.
	ErrInvalid = errors.New("invalid argument")
	// ErrVersion: SetPreset's expected_version is not the stored one.
	ErrVersion = errors.New("version mismatch")
	// ErrConflict: concurrent writers kept winning a compare-and-swap.
	ErrConflict = errors.New("write conflict")
	// ErrBusy: the asset is in use (its job still runs).
	ErrBusy = errors.New("asset busy")
)

// toStatus maps an error to a gRPC status error.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	code := codes.Internal
	switch {
	case errors.Is(err, ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, ErrInvalid):
		code = codes.InvalidArgument
	case errors.Is(err, ErrVersion), errors.Is(err, ErrBusy):
		code = codes.FailedPrecondition
	case errors.Is(err, ErrConflict):
		code = codes.Aborted
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	return status.Error(code, err.Error())
}
