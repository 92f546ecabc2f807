package node

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vodfleet/vodfleet/agent"
)

// Agent is a running agent.
type Agent struct {
	// Registry holds the agent's metrics (labelled agent=<id>); serve it
	// with ServeMetrics.
	Registry *prometheus.Registry

	cancel context.CancelFunc
	done   chan struct{}
}

// StartAgent runs an agent in the background.
func StartAgent(cfg agent.Config, log hclog.Logger) (*Agent, error) {
	a, err := agent.New(cfg, log)
	if err != nil {
		return nil, err
	}
	// A --hwaccel that does not work stops the process here, before it
	// connects, with the probe's error.
	if err := a.Probe(context.Background()); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	reg := prometheus.NewRegistry()
	if err := a.RegisterMetrics(reg); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Agent{Registry: reg, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(n.done)
		_ = a.Run(ctx)
	}()
	return n, nil
}

// Close stops the agent and its tasks.
func (n *Agent) Close() error {
	n.cancel()
	<-n.done
	return nil
}
