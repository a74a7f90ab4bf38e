package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coderws "github.com/coder/websocket"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/config"
	"github.com/bacninh/thuvienso/redis/redistest"
)

// TestAnonymousCallersAndReadersHaveTheirOwnRateLimits: anonymous requests
// count against their IP address, a reader's against their account, and a
// mutation counts three times; past the limit the answer is RATE_LIMITED
// with a retry delay, 429 for clients that accept graphql-response+json.
// The limits refill at one operation per 1000 s: nothing refills during
// the test.
func TestAnonymousCallersAndReadersHaveTheirOwnRateLimits(t *testing.T) {
	_, srv := testApp(t, t.TempDir(), "auto",
		"-rate-limit-ip", "0.005", "-rate-limit-ip-burst", "5",
		"-rate-limit-reader", "0.008", "-rate-limit-reader-burst", "8", "-rate-limit-mutation-cost", "3")
	anon := &client{t: t, url: srv.URL, lang: "en"}
	// 1 (a query) + 3 (a mutation) of the address's 5.
	reader := &client{t: t, url: srv.URL, lang: "en"}
	reader.token, _, _ = register(t, anon, "nhanh.tay@example.vn", "BN")

	if r := anon.do(`{ libraries(first: 1) { totalCount } }`, nil); len(r.Errors) != 0 {
		t.Fatalf("the address's 5th operation: %+v", r.Errors)
	}
	r := anon.do(`{ libraries(first: 1) { totalCount } }`, nil)
	if r.Status != 429 || r.code() != "RATE_LIMITED" {
		t.Fatalf("the address's 6th operation: %d %+v", r.Status, r.Errors)
	}
	if ra, _ := r.Errors[0].Extensions["retryAfter"].(float64); ra < 1 {
		t.Fatalf("RATE_LIMITED without retryAfter: %+v", r.Errors[0])
	}

	// The reader, on the same address, has their own 8: two mutations
	// (6) and two queries (8), then nothing.
	ops := []struct {
		query   string
		limited bool
	}{
		{`{ me { name } }`, false},
		{`mutation($in: UpdateNotificationPreferencesInput!) { updateNotificationPreferences(input: $in) { preferences { kinds } } }`, false},
		{`mutation($in: UpdateNotificationPreferencesInput!) { updateNotificationPreferences(input: $in) { preferences { kinds } } }`, false},
		{`{ me { name } }`, false},
		{`mutation($in: UpdateNotificationPreferencesInput!) { updateNotificationPreferences(input: $in) { preferences { kinds } } }`, true},
		{`{ me { name } }`, true},
	}
	vars := map[string]any{"in": map[string]any{"kinds": []string{"HOLD_READY"}}}
	for i, op := range ops {
		r := reader.do(op.query, vars)
		if limited := r.code() == "RATE_LIMITED"; limited != op.limited {
			t.Fatalf("reader's operation %d: %d %+v; want limited %v", i+1, r.Status, r.Errors, op.limited)
		}
	}
}

// TestRateLimitsHoldAcrossInstancesThroughRedis: two instances on one Redis
// share one allowance per address.
func TestRateLimitsHoldAcrossInstancesThroughRedis(t *testing.T) {
	rs := redistest.Start(t)
	limits := []string{"-redis-url", rs.URL(), "-rate-limit-ip", "0.003", "-rate-limit-ip-burst", "3"}
	_, one := testApp(t, t.TempDir(), "never", limits...)
	_, two := testApp(t, t.TempDir(), "never", limits...)
	const q = `{ libraries(first: 1) { totalCount } }`
	for i, url := range []string{one.URL, two.URL, one.URL, two.URL} {
		r := (&client{t: t, url: url}).do(q, nil)
		if limited := r.code() == "RATE_LIMITED"; limited != (i == 3) {
			t.Fatalf("operation %d, alternating instances: %d %+v", i+1, r.Status, r.Errors)
		}
	}
}

// TestOperationCostsFollowPageSizes: the same search page costs by how many
// works it asks for: 50 works with their records, holdings and copies pass
// the default limit of 1000, 100 do not.
func TestOperationCostsFollowPageSizes(t *testing.T) {
	_, srv := testApp(t, t.TempDir(), "never")
	c := &client{t: t, url: srv.URL, lang: "en"}
	const page = `query($first: Int) { search(query: "truyện", first: $first) { totalCount edges { node {
	  id title records { library { parent { name } } }
	  holdings { library { parent { name } } items { library { name } work { title } } }
	  availability { total available } } } } }`
	if r := c.do(page, map[string]any{"first": 50}); len(r.Errors) != 0 {
		t.Fatalf("a page of 50: %+v", r.Errors)
	}
	r := c.do(page, map[string]any{"first": 100})
	if r.Status != 400 || r.code() != "QUERY_TOO_COMPLEX" || !strings.Contains(r.Errors[0].Message, "limit of 1000") {
		t.Fatalf("a page of 100: %d %+v", r.Status, r.Errors)
	}
}

// TestAliasAndBatchAbuseIsRefusedBeforeAnythingRuns: a request that tries
// many passwords at once, by aliases or as a batch, runs none of them.
func TestAliasAndBatchAbuseIsRefusedBeforeAnythingRuns(t *testing.T) {
	_, srv := testApp(t, t.TempDir(), "auto")
	c := &client{t: t, url: srv.URL, lang: "en"}
	register(t, c, "nhieu.ten@example.vn", "BN")
	var aliased strings.Builder
	aliased.WriteString("mutation {")
	for i := range 40 {
		fmt.Fprintf(&aliased, ` a%d: login(input: {login: "nhieu.ten@example.vn", password: "guess-%d"}) { accessToken }`, i, i)
	}
	aliased.WriteString(" }")
	r := c.do(aliased.String(), nil)
	if r.code() != "QUERY_TOO_COMPLEX" || !strings.Contains(r.Errors[0].Message, "aliased fields") {
		t.Fatalf("40 aliased logins: %d %+v", r.Status, r.Errors)
	}
	batch, _ := json.Marshal([]map[string]any{
		{"query": loginMutation, "variables": map[string]any{"login": "nhieu.ten@example.vn", "pw": "guess-a"}},
		{"query": loginMutation, "variables": map[string]any{"login": "nhieu.ten@example.vn", "pw": "guess-b"}},
	})
	r = c.raw("application/json", batch)
	if r.Status != 400 || r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "batched") {
		t.Fatalf("a batch of logins: %d %+v", r.Status, r.Errors)
	}
	// None counted as a failed login: five real failures are still allowed
	// before the login limit trips.
	for i := range 5 {
		if r := c.do(loginMutation, map[string]any{"login": "nhieu.ten@example.vn", "pw": fmt.Sprint("wrong-", i)}); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("failed login %d: %+v", i+1, r.Errors)
		}
	}
}

// TestOnlyRegisteredOperationsRunInAllowListMode: with
// PERSISTED_OPERATIONS_ONLY the server runs what the apps' manifest lists,
// by text or by hash, and refuses anything else.
func TestOnlyRegisteredOperationsRunInAllowListMode(t *testing.T) {
	const listed = `query Libraries { libraries(first: 2) { totalCount } }`
	sum := sha256.Sum256([]byte(listed))
	hash := hex.EncodeToString(sum[:])
	manifest := filepath.Join(t.TempDir(), "persisted-documents.json")
	b, _ := json.Marshal(map[string]string{hash: listed})
	if err := os.WriteFile(manifest, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, srv := testApp(t, t.TempDir(), "auto", "-persisted-operations-only=true", "-persisted-operations-file", manifest)
	c := &client{t: t, url: srv.URL, lang: "en"}
	if r := c.do(listed, nil); len(r.Errors) != 0 || field(r.Data, "libraries", "totalCount") == nil {
		t.Fatalf("the listed operation: %+v", r)
	}
	byHash, _ := json.Marshal(map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}})
	if r := c.raw("application/json", byHash); len(r.Errors) != 0 || field(r.Data, "libraries", "totalCount") == nil {
		t.Fatalf("the listed operation by its hash: %+v", r)
	}
	r := c.do(`{ libraries(first: 100) { totalCount } }`, nil)
	if r.Status != 403 || r.code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "registered") {
		t.Fatalf("an unlisted operation: %d %+v", r.Status, r.Errors)
	}

	// A missing list stops the server at start, with the reason.
	cfg, err := config.Load([]string{"-data-dir", t.TempDir(), "-demo", "never", "-persisted-operations-only=true",
		"-persisted-operations-file", filepath.Join(t.TempDir(), "missing.json")}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "missing.json") {
		if a != nil {
			_ = a.Close(context.Background())
		}
		t.Fatalf("New with a missing allow-list: %v", err)
	}
}

// TestSubscriptionsCloseWhenTheAccessTokenExpires: the server closes a
// WebSocket when the access token it was opened with expires, with the
// graphql-transport-ws code 4403 on which graphql-ws clients reconnect
// with a fresh token. The auth clock runs AccessTokenTTL − 3 s behind while
// the reader registers, and on time after: the token expires 3 s later.
func TestSubscriptionsCloseWhenTheAccessTokenExpires(t *testing.T) {
	cfg, err := config.Load([]string{"-data-dir", t.TempDir(), "-demo", "auto", "-demo-catalog=false"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var behind atomic.Bool
	behind.Store(true)
	a.Auth.Now = func() time.Time {
		if behind.Load() {
			return time.Now().Add(-auth.AccessTokenTTL + 3*time.Second)
		}
		return time.Now()
	}
	srv := httptest.NewServer(a.Server)
	t.Cleanup(func() {
		srv.Close()
		_ = a.Close(context.Background())
	})
	c := &client{t: t, url: srv.URL, lang: "en"}
	token, _, _ := register(t, c, "het.han@example.vn", "BN")
	behind.Store(false)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql", &coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := ws.Write(ctx, coderws.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"authToken": token}})
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "subscription { notificationReceived { id } }"}})
	acked := false
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			var ce coderws.CloseError
			if !errors.As(err, &ce) || ce.Code != 4403 || ce.Reason != "Forbidden: access token expired" || !acked {
				t.Fatalf("the connection ended with %v (acknowledged: %v); want 4403 for the expired token", err, acked)
			}
			return
		}
		var m struct{ Type string }
		_ = json.Unmarshal(b, &m)
		switch m.Type {
		case "connection_ack":
			acked = true
		case "error", "complete":
			t.Fatalf("the subscription ended before the token expired: %s", b)
		}
	}
}
