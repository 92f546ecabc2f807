package coordinator

import (
	"sync"
	"time"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// session is one connected agent as the leader sees it. Its fields other
// than out and closed belong to the leader's loop goroutine.
type session struct {
	agentID string
	slots   int
	labels  map[string]string
	// running holds the ids of tasks leased to this agent.
	running map[string]bool
	// draining agents get no new leases.
	draining bool
	// suspectUntil is set when one of the agent's leases expired without a
	// word from it (stalled, or its report was lost): it gets no new leases
	// until then, or until it shows life (any message or report). A stalled
	// agent meanwhile loses its connection to the keepalive.
	suspectUntil time.Time

	out       chan *v1.ConnectResponse
	closed    chan struct{}
	closeOnce sync.Once
}

// sessionQueue bounds the messages waiting for an agent's stream; an agent
// that falls this far behind is disconnected rather than slowing the leader.
const sessionQueue = 256

func newSession(h *v1.AgentHello) *session {
	return &session{
		agentID: h.GetAgentId(),
		slots:   int(h.GetSlots()),
		labels:  withCodecLabels(h.GetLabels()),
		running: map[string]bool{},
		out:     make(chan *v1.ConnectResponse, sessionQueue),
		closed:  make(chan struct{}),
	}
}

// send queues a message for the agent without blocking; it reports false
// (and closes the session) when the queue is full or the session closed.
func (s *session) send(m *v1.ConnectResponse) bool {
	select {
	case <-s.closed:
		return false
	default:
	}
	select {
	case s.out <- m:
		return true
	default:
		s.close()
		return false
	}
}

// close ends the session; the stream handler returns.
func (s *session) close() {
	s.closeOnce.Do(func() { close(s.closed) })
}

// free is the number of slots not holding a lease at now; none while
// draining or suspect.
func (s *session) free(now time.Time) int {
	if s.draining || now.Before(s.suspectUntil) {
		return 0
	}
	return s.slots - len(s.running)
}
