package edge

import (
	"net/http"
	"time"
)

// NewHTTPServer returns an http.Server for h on addr with edge-appropriate
// timeouts: headers must arrive within 10s (slowloris), idle keep-alive
// connections are closed after 120s, and there is no write timeout because
// a large segment or progressive download to a slow player can legitimately
// take minutes.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		WriteTimeout:      0,
		MaxHeaderBytes:    64 << 10,
	}
}
