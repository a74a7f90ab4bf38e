package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/config"
	"github.com/bacninh/thuvienso/demo"
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
	cfg, err := config.Load([]string{"-data-dir", t.TempDir(), "-redis-url", rs.URL(), "-demo-catalog=false"}, func(string) string { return "" })
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

	// Ready once its (empty) index is built (TestReadyOnlyWithACompleteIndex).
	waitFor(t, "/readyz ok with Redis up", followDeadline, func() bool {
		code, status := readiness(t, srv.URL)
		return code == 200 && status == "ok"
	})

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

// TestReadyOnlyWithACompleteIndex: an instance building its search index
// from nothing (a new instance, an index of another version) answers
// /readyz 503 until the index is complete, so a load balancer does not send
// it searches that would miss works; then it is ready and finds every work.
func TestReadyOnlyWithACompleteIndex(t *testing.T) {
	dir := t.TempDir()
	open := func() *App {
		t.Helper()
		cfg, err := config.Load([]string{"-data-dir", dir, "-demo", "auto", "-demo-catalog=false"}, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	// A store with a catalog of 3,000 records, made by a first instance.
	first := open()
	libs, err := first.Stores.Libraries.Libraries(t.Context(), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	records, items := demo.Catalog(libs, 1)
	records = records[:3000]
	batches := map[string]*catalog.Batch{}
	kept := map[[2]string]bool{}
	for _, r := range records {
		b := batches[r.LibraryID]
		if b == nil {
			b = &catalog.Batch{LibraryID: r.LibraryID}
			batches[r.LibraryID] = b
		}
		b.Records = append(b.Records, *r)
		kept[[2]string{r.LibraryID, r.SourceID}] = true
	}
	for _, it := range items {
		if kept[[2]string{it.LibraryID, it.RecordSourceID}] {
			batches[it.LibraryID].Items = append(batches[it.LibraryID].Items, *it)
		}
	}
	for _, b := range batches {
		if _, err := first.Catalog.Import(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A new instance with an empty index folder.
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	a := open()
	srv := httptest.NewServer(a.Server)
	t.Cleanup(func() { srv.Close(); _ = a.Close(context.Background()) })
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Status string
		Checks map[string]struct{ Status, Error string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || body.Checks["search"].Status != "fail" || !strings.Contains(body.Checks["search"].Error, "being built") {
		t.Fatalf("/readyz while the index is built: %d %+v", resp.StatusCode, body)
	}

	waitFor(t, "/readyz ok once the index is built", time.Minute, func() bool {
		code, status := readiness(t, srv.URL)
		return code == 200 && status == "ok"
	})
	counts, err := a.Stores.Catalog.Counts(t.Context())
	if err != nil || counts.Works == 0 {
		t.Fatalf("catalog counts: %+v, %v", counts, err)
	}
	c := &client{t: t, url: srv.URL}
	r := c.do(`{ search(query: "", first: 1) { totalCount } }`, nil)
	if got := field(r.Data, "search", "totalCount"); got != float64(counts.Works) {
		t.Errorf("once ready, browsing finds %v works of %d", got, counts.Works)
	}
}
