package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// An operator who sets DEBUG_ADDR can take a CPU profile of a running
// server from that address, and only from it.
func TestDebugListenerServesTheProfiler(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := serveDebug(ctx, "127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/block", "/debug/pprof/profile?seconds=1"} {
		res, err := http.Get("http://" + addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %d, %d bytes", path, res.StatusCode, len(body))
		}
	}
	if _, err := serveDebug(ctx, addr.String(), slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "debug listener") {
		t.Errorf("a second listener on the same address: %v, want a clear error", err)
	}
	cancel()
}
