package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"time"
)

// serveDebug serves Go's profiler on addr (DEBUG_ADDR) until ctx ends. It
// is a listener of its own, never the API's, so that profiles are reachable
// only where an operator chose to expose them. It also turns on the block
// and mutex profiles (sampled: one event a millisecond of waiting, one
// contention in 100), which show where requests wait rather than run.
func serveDebug(ctx context.Context, addr string, logger *slog.Logger) (net.Addr, error) {
	runtime.SetBlockProfileRate(int(time.Millisecond))
	runtime.SetMutexProfileFraction(100)
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug listener %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("debug listener", "err", err)
		}
	}()
	logger.Info("profiler listening", "addr", ln.Addr().String(), "path", "/debug/pprof/")
	return ln.Addr(), nil
}
