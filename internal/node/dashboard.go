package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/coordinator/dashboard"
)

// Dashboard is a running web dashboard listener of a coordinator.
type Dashboard struct {
	// Addr is the bound HTTP address.
	Addr string

	srv  *http.Server
	done chan struct{}
}

// URL is the dashboard's address for a browser.
func (d *Dashboard) URL() string { return "http://" + d.Addr + "/" }

// StartDashboard serves the dashboard of src on addr.
func StartDashboard(src dashboard.Source, cfg dashboard.Config, addr string, log hclog.Logger) (*Dashboard, error) {
	h, err := dashboard.New(src, cfg, log)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	d := &Dashboard{
		Addr: l.Addr().String(),
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(d.done)
		if err := d.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("dashboard http server stopped", "error", err)
		}
	}()
	log.Named("dashboard").Info("dashboard listening", "url", d.URL())
	return d, nil
}

// Close stops the listener, giving requests in flight a few seconds.
func (d *Dashboard) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := d.srv.Shutdown(ctx)
	<-d.done
	return err
}
