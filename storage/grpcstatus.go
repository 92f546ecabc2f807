package storage

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Errors the gRPC front end raises itself; like the Store's sentinels they
// are mapped to codes only in toStatus.
var (
	// errBadRequest marks a malformed request: a Put stream without a
	// header or with two, an empty message, a negative offset or limit.
	errBadRequest = errors.New("malformed request")
	// errOutOfRange marks a Get offset past the end of the object.
	errOutOfRange = errors.New("offset beyond end of object")
)

// toStatus is the single mapping from storage errors to gRPC status codes.
// It matches sentinels with errors.Is, never message text. Errors that
// already carry a gRPC status (e.g. a failed Recv wrapped by the upload
// pipe) keep their code.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	var code codes.Code
	switch {
	case errors.Is(err, ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, ErrInvalidPath), errors.Is(err, ErrSizeMismatch), errors.Is(err, errBadRequest):
		code = codes.InvalidArgument
	case errors.Is(err, errOutOfRange):
		code = codes.OutOfRange
	case errors.Is(err, ErrCorrupt):
		code = codes.DataLoss
	case errors.Is(err, ErrClosed):
		code = codes.Unavailable
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	default:
		if s, ok := status.FromError(err); ok {
			return s.Err()
		}
		code = codes.Internal
	}
	return status.Error(code, err.Error())
}
