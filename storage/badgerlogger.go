package storage

import (
	"fmt"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// badgerLogger adapts hclog to badger.Logger. Badger's Info messages are
// routine (compactions, replay progress), so they are logged at Debug to
// keep the storage role's default output readable.
type badgerLogger struct {
	log hclog.Logger
}

// Errorf logs at Error.
func (l badgerLogger) Errorf(format string, args ...any) { l.log.Error(msg(format, args)) }

// Warningf logs at Warn.
func (l badgerLogger) Warningf(format string, args ...any) { l.log.Warn(msg(format, args)) }

// Infof logs at Debug; see the type comment.
func (l badgerLogger) Infof(format string, args ...any) { l.log.Debug(msg(format, args)) }

// Debugf logs at Trace.
func (l badgerLogger) Debugf(format string, args ...any) { l.log.Trace(msg(format, args)) }

// msg formats a Badger message, dropping its trailing newline.
func msg(format string, args []any) string {
	return strings.TrimSpace(fmt.Sprintf(format, args...))
}
