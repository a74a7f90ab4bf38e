package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/config"
	"github.com/bacninh/thuvienso/redis/redistest"
)

func readiness(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Status string }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Status
}

// TestRedisOutageDegradesButDoesNotStopTheAPI kills Redis under a running
// server: logins (and their rate limits) keep working, /readyz says
// "degraded" with 200 so a load balancer keeps the instance, and everything
// recovers when Redis returns, without a restart.
func TestRedisOutageDegradesButDoesNotStopTheAPI(t *testing.T) {
	rs := redistest.Start(t)
	cfg, err := config.Load([]string{"-data-dir", t.TempDir(), "-redis-url", rs.URL()}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Server)
	t.Cleanup(func() { srv.Close(); _ = a.Close(context.Background()) })
	c := &client{t: t, url: srv.URL}
	register(t, c, "redis@example.vn", "BN")

	if code, status := readiness(t, srv.URL); code != 200 || status != "ok" {
		t.Fatalf("/readyz with Redis up: %d %q", code, status)
	}

	rs.Stop()
	if code, status := readiness(t, srv.URL); code != 200 || status != "degraded" {
		t.Fatalf("/readyz with Redis down: %d %q, want 200 degraded", code, status)
	}
	start := time.Now()
	r := c.do(loginMutation, map[string]any{"login": "redis@example.vn", "pw": "mật-khẩu-dài"})
	if len(r.Errors) > 0 {
		t.Fatalf("login with Redis down: %+v", r.Errors)
	}
	t.Logf("login with Redis down took %v", time.Since(start))
	var last gqlResponse
	for i := 0; i < 6; i++ {
		last = c.do(loginMutation, map[string]any{"login": "redis@example.vn", "pw": "wrong-guess"})
	}
	if last.code() != "RATE_LIMITED" {
		t.Fatalf("failed logins with Redis down are not limited: %+v", last.Errors)
	}

	rs.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, status := readiness(t, srv.URL)
		if code == 200 && status == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after Redis returned: %d %q", code, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
