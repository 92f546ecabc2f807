package coordinator

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Sentinel errors. They are wrapped with %w inside the package and mapped to
// gRPC status codes once, in toStatus, at the service boundary.
var (
	// ErrNotFound: the job or task does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the request is malformed.
	ErrInvalid = errors.New("invalid argument")
	// ErrConflict: a fenced or compare-and-swap write lost; the caller's
	// view (leadership or record revision) is stale.
	ErrConflict = errors.New("write conflict")
	// ErrStaleLease: a progress, completion or failure carried a lease token
	// that is not the task's current one.
	ErrStaleLease = errors.New("stale lease")
	// ErrNotLeader: the request needs the leader and this coordinator is not.
	ErrNotLeader = errors.New("not the leader")
	// ErrTerminal: the job already finished.
	ErrTerminal = errors.New("job already finished")
	// ErrNotRetryable: only failed or cancelled jobs can be retried.
	ErrNotRetryable = errors.New("job cannot be retried")
	// ErrAssetBusy: the asset cannot be changed now (a job of it still
	// runs, or it has no published version to build on).
	ErrAssetBusy = errors.New("asset not ready for a change")
)

// toStatus maps an internal error to a gRPC status error.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err // already a status from a nested gRPC call
	}
	code := codes.Internal
	switch {
	case errors.Is(err, ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, ErrInvalid):
		code = codes.InvalidArgument
	case errors.Is(err, ErrStaleLease), errors.Is(err, ErrTerminal), errors.Is(err, ErrNotRetryable), errors.Is(err, ErrAssetBusy):
		code = codes.FailedPrecondition
	case errors.Is(err, ErrConflict):
		code = codes.Aborted
	case errors.Is(err, ErrNotLeader):
		code = codes.Unavailable
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	return status.Error(code, err.Error())
}
