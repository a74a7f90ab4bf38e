package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	coderws "github.com/coder/websocket"

	"github.com/bacninh/thuvienso/ratelimit"
)

func TestListsCostTheirPageSize(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxComplexity = DefaultMaxComplexity })
	cases := []struct {
		name    string
		query   string
		vars    map[string]any
		refused bool
	}{
		{"a page of 20 books with 5 copies each", `{ books(first: 20) { totalCount edges { cursor node { id title copies(first: 5) { barcode shelf { name } } } } } }`, nil, false},
		{"default page sizes (20 × 20)", `{ books { edges { node { copies { shelf { name } } } } } }`, nil, false},
		{"100 books × 100 copies", `{ books(first: 100) { edges { node { copies(first: 100) { barcode shelf { name } } } } } }`, nil, true},
		{"100 × 100 through variables", `query($n: Int) { books(first: $n) { edges { node { copies(first: $n) { shelf { name } } } } } }`, map[string]any{"n": 100}, true},
		{"100 × 100 through a fragment", `{ books(first: 100) { edges { node { ...C } } } } fragment C on Book { copies(first: 100) { shelf { name } } }`, nil, true},
		{"a page size beyond the maximum counts as the maximum", `{ books(first: 1000000) { edges { node { id } } } }`, nil, false},
		{"scalars are free: a page of 100 with every scalar", `{ books(first: 100) { totalCount edges { cursor node { id title } } } }`, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"query": tc.query, "variables": tc.vars})
			before := f.schema.execs.Load()
			res := f.do(t, postReq(string(body), "Accept-Language", "en"))
			executed := f.schema.execs.Load() != before
			if tc.refused {
				if res.gql.code(0) != "QUERY_TOO_COMPLEX" || !strings.Contains(res.gql.Errors[0].Message, "limit of 1000") || executed {
					t.Fatalf("want QUERY_TOO_COMPLEX and nothing run, got %d %s (executed %v)", res.status, res.body, executed)
				}
				return
			}
			if len(res.gql.Errors) != 0 || !executed {
				t.Fatalf("want it run, got %d %s", res.status, res.body)
			}
		})
	}
}

func TestListCostArithmetic(t *testing.T) {
	f := newFixture(t)
	c := &listCost{ExecutableSchema: f.schema.executable(), maxPage: 100, fieldCosts: map[string]int{"Book.title": 7}}
	ctx := context.Background()
	cases := []struct {
		typ, field string
		child      int
		args       map[string]any
		want       int
		custom     bool
	}{
		{"Query", "books", 8, map[string]any{"first": int64(20)}, 1 + 20*8, true},
		{"Query", "books", 8, map[string]any{"first": json.Number("5")}, 1 + 5*8, true},
		{"Query", "books", 8, map[string]any{"first": nil}, 1 + DefaultPageSize*8, true},
		{"Query", "books", 8, map[string]any{"first": int64(-3)}, 1, true},
		{"Query", "books", maxCount, map[string]any{"first": int64(100)}, maxCount, true},
		{"Query", "books", int(^uint(0) >> 1), map[string]any{"first": int64(100)}, maxCount, true},
		{"Query", "hello", 0, nil, 1, true},   // root scalar
		{"Book", "title", 0, nil, 7, true},    // FieldCosts
		{"Book", "related", 3, nil, 0, false}, // gqlgen's default
	}
	for _, tc := range cases {
		got, ok := c.Complexity(ctx, tc.typ, tc.field, tc.child, tc.args)
		if ok != tc.custom || (ok && got != tc.want) {
			t.Errorf("%s.%s(child %d, %v) = %d, %v; want %d, %v", tc.typ, tc.field, tc.child, tc.args, got, ok, tc.want, tc.custom)
		}
	}
}

func TestAliasLimit(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxComplexity = 10_000 })
	aliases := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, " h%d: hello", i)
		}
		return b.String() + " }"
	}
	const frag = `fragment F on Book { a: id b: title }`
	cases := []struct {
		name    string
		query   string
		refused bool
	}{
		{"30 aliases", aliases(30), false},
		{"31 aliases", aliases(31), true},
		{"a field aliased to its own name is no alias", `{ hello: hello book(id: 1) { id: id } }`, false},
		{"aliases in a fragment count where it is spread", `{ ` + strings.Repeat("x: book(id: 1) { ...F } ", 1) +
			`b1: book(id: 1) { ...F } b2: book(id: 2) { ...F } b3: book(id: 3) { ...F } b4: book(id: 4) { ...F } b5: book(id: 5) { ...F }
			 b6: book(id: 6) { ...F } b7: book(id: 7) { ...F } b8: book(id: 8) { ...F } b9: book(id: 9) { ...F } b10: book(id: 10) { ...F } } ` + frag, true},
		{"the same fragment spread a few times", `{ b1: book(id: 1) { ...F } b2: book(id: 2) { ...F } } ` + frag, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := f.post(t, tc.query, "Accept", "application/graphql-response+json")
			if !tc.refused {
				if len(res.gql.Errors) != 0 {
					t.Fatalf("refused: %d %s", res.status, res.body)
				}
				return
			}
			if res.status != http.StatusBadRequest || res.gql.code(0) != "QUERY_TOO_COMPLEX" || res.gql.Data != nil {
				t.Fatalf("want 400 QUERY_TOO_COMPLEX, got %d %s", res.status, res.body)
			}
			if msg := res.gql.Errors[0].Message; !strings.Contains(msg, "bí danh") || !strings.Contains(msg, "giới hạn 30") {
				t.Errorf("message %q does not explain the alias limit in Vietnamese", msg)
			}
		})
	}
	res := f.post(t, aliases(31), "Accept-Language", "en")
	if msg := res.gql.Errors[0].Message; !strings.Contains(msg, "31 aliased fields, more than the limit of 30") {
		t.Errorf("English message %q", msg)
	}
}

func TestBatchedRequestsAreRefusedAsAWhole(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{
		`[{"query":"{ hello }"},{"query":"mutation { touch }"}]`,
		"  \n[{\"query\":\"{ hello }\"}]",
	} {
		before := f.schema.execs.Load()
		res := f.do(t, postReq(body, "Accept-Language", "en"))
		if res.status != http.StatusBadRequest || res.gql.code(0) != "BAD_USER_INPUT" || !strings.Contains(res.gql.Errors[0].Message, "batched requests") {
			t.Fatalf("%q: %d %s", body, res.status, res.body)
		}
		if f.schema.execs.Load() != before {
			t.Errorf("%q: an operation of the batch was run", body)
		}
	}
}

// rateLimitFixture limits anonymous callers to 2 operations per IP and
// readers to 3 per account (a mutation counting 2), per hour: nothing
// refills while a test runs.
func rateLimitFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixture(t, func(o *Options) {
		o.RateLimit = &RateLimit{
			Limiter:      ratelimit.NewMemory(100),
			PerAccount:   ratelimit.Limit{Burst: 3, Period: time.Hour},
			PerIP:        ratelimit.Limit{Burst: 2, Period: time.Hour},
			MutationCost: 2,
			Account: func(ctx context.Context) string {
				u, _ := ctx.Value(userKey{}).(string)
				return u
			},
		}
	})
}

func from(addr string, r *http.Request) *http.Request {
	r.RemoteAddr = addr
	return r
}

func TestRateLimitPerIPForAnonymousCallers(t *testing.T) {
	f := rateLimitFixture(t)
	const hello = `{"query":"{ hello }"}`
	for i := range 2 {
		if res := f.do(t, from("203.0.113.7:5000", postReq(hello))); len(res.gql.Errors) != 0 {
			t.Fatalf("request %d within the limit: %s", i+1, res.body)
		}
	}
	before := f.schema.execs.Load()

	// Over the limit, application/json: 200 as GraphQL-over-HTTP asks, the
	// delay in extensions.retryAfter and in Retry-After.
	res := f.do(t, from("203.0.113.7:5001", postReq(hello, "Accept-Language", "en")))
	if res.status != http.StatusOK || res.gql.code(0) != "RATE_LIMITED" || res.gql.Data != nil {
		t.Fatalf("over the limit, application/json: %d %s", res.status, res.body)
	}
	ra, _ := res.gql.Errors[0].Extensions["retryAfter"].(float64)
	if ra < 1 || ra > 3600 || res.header.Get("Retry-After") != fmt.Sprint(ra) {
		t.Errorf("retryAfter %v, Retry-After %q", res.gql.Errors[0].Extensions["retryAfter"], res.header.Get("Retry-After"))
	}
	if !strings.Contains(res.gql.Errors[0].Message, "too many requests") {
		t.Errorf("message %q", res.gql.Errors[0].Message)
	}

	// application/graphql-response+json: 429, in Vietnamese by default.
	res = f.do(t, from("203.0.113.7:5002", postReq(hello, "Accept", "application/graphql-response+json")))
	if res.status != http.StatusTooManyRequests || res.gql.code(0) != "RATE_LIMITED" || res.header.Get("Retry-After") == "" {
		t.Fatalf("over the limit, graphql-response+json: %d %v %s", res.status, res.header, res.body)
	}
	if !strings.Contains(res.gql.Errors[0].Message, "Quá nhiều yêu cầu") {
		t.Errorf("message %q", res.gql.Errors[0].Message)
	}
	// GET counts the same.
	req := from("203.0.113.7:5003", httptest.NewRequest(http.MethodGet, "/graphql?query=%7Bhello%7D", nil))
	if res := f.do(t, req); res.gql.code(0) != "RATE_LIMITED" {
		t.Fatalf("GET over the limit: %s", res.body)
	}
	if f.schema.execs.Load() != before {
		t.Error("a refused operation was run")
	}
	// Operators see the refusals in /metrics.
	metrics := f.do(t, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !strings.Contains(string(metrics.body), `thuvienso_graphql_errors_total{code="RATE_LIMITED"} 3`) {
		t.Errorf("/metrics does not count the 3 refusals:\n%s", metrics.body)
	}

	// Other addresses have their own allowance; an IPv6 /64 is one.
	if res := f.do(t, from("198.51.100.1:5000", postReq(hello))); len(res.gql.Errors) != 0 {
		t.Fatalf("another IP refused: %s", res.body)
	}
	for i, addr := range []string{"[2001:db8:1:2::1]:1", "[2001:db8:1:2:ffff::9]:2", "[2001:db8:1:2::abcd]:3"} {
		res := f.do(t, from(addr, postReq(hello)))
		if limited := res.gql.code(0) == "RATE_LIMITED"; limited != (i == 2) {
			t.Fatalf("IPv6 request %d from one /64: %s", i+1, res.body)
		}
	}
}

func TestRateLimitPerReaderWhateverTheirAddress(t *testing.T) {
	f := rateLimitFixture(t)
	const hello = `{"query":"{ hello }"}`
	const touch = `{"query":"mutation { touch }"}`
	// The IP is spent by anonymous requests…
	for range 3 {
		f.do(t, from("203.0.113.9:1", postReq(hello)))
	}
	// …but a logged-in reader on it counts against their account: a
	// mutation costs 2 of its 3.
	if res := f.do(t, from("203.0.113.9:2", postReq(touch, "Authorization", "Bearer good"))); len(res.gql.Errors) != 0 {
		t.Fatalf("reader's first mutation: %s", res.body)
	}
	res := f.do(t, from("198.51.100.4:1", postReq(touch, "Authorization", "Bearer good", "Accept", "application/graphql-response+json")))
	if res.status != http.StatusTooManyRequests || res.gql.code(0) != "RATE_LIMITED" {
		t.Fatalf("second mutation (2 + 2 > 3), from another address: %d %s", res.status, res.body)
	}
	if res := f.do(t, from("198.51.100.4:2", postReq(hello, "Authorization", "Bearer good"))); len(res.gql.Errors) != 0 {
		t.Fatalf("a query still fits the last unit: %s", res.body)
	}
	if res := f.do(t, from("198.51.100.4:3", postReq(hello, "Authorization", "Bearer good"))); res.gql.code(0) != "RATE_LIMITED" {
		t.Fatalf("reader over the limit: %s", res.body)
	}
}

func TestRateLimitCountsWebSocketOperations(t *testing.T) {
	f := rateLimitFixture(t)
	srv := httptest.NewServer(f.srv)
	defer srv.Close()
	c := dialWS(t, srv.URL, map[string]any{})
	defer c.CloseNow()
	expectWS(t, c, "connection_ack")
	for i := range 2 {
		writeWS(t, c, map[string]any{"id": fmt.Sprint(i), "type": "subscribe", "payload": map[string]any{"query": "{ hello }"}})
		expectWS(t, c, "next")
	}
	writeWS(t, c, map[string]any{"id": "3", "type": "subscribe", "payload": map[string]any{"query": "subscription { tick }"}})
	for {
		var m map[string]any
		if err := readWS(c, &m); err != nil {
			t.Fatal(err)
		}
		if m["id"] != "3" || m["type"] == "complete" {
			continue
		}
		// An "error" message, through the error presenter: in the
		// request's language, with the delay.
		if s := mustJSON(m["payload"]); m["type"] != "error" || !strings.Contains(s, "RATE_LIMITED") ||
			!strings.Contains(s, `"retryAfter":`) || !strings.Contains(s, "Quá nhiều yêu cầu") {
			t.Fatalf("third operation on the socket: %v", m)
		}
		return
	}
}

func dialWS(t *testing.T, httpURL string, initPayload map[string]any) *coderws.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(httpURL, "http")+"/graphql", &coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	writeWS(t, c, map[string]any{"type": "connection_init", "payload": initPayload})
	return c
}

func TestSubscriptionsEndWhenTheAccessTokenExpires(t *testing.T) {
	auth := func(ctx context.Context, token string) (context.Context, error) {
		switch token {
		case "short":
			return WithCredentialsExpiry(context.WithValue(ctx, userKey{}, "reader-1"), time.Now().Add(300*time.Millisecond)), nil
		case "stale":
			return WithCredentialsExpiry(context.WithValue(ctx, userKey{}, "reader-1"), time.Now().Add(-time.Second)), nil
		}
		return testAuthenticate(ctx, token)
	}
	f := newFixture(t, func(o *Options) { o.Authenticate = auth })
	srv := httptest.NewServer(f.srv)
	defer srv.Close()

	c := dialWS(t, srv.URL, map[string]any{"authToken": "short"})
	defer c.CloseNow()
	expectWS(t, c, "connection_ack")
	writeWS(t, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "subscription { wait }"}})
	for {
		var m map[string]any
		err := readWS(c, &m)
		if err == nil {
			continue // pings
		}
		var ce coderws.CloseError
		if !errors.As(err, &ce) || ce.Code != closeTokenExpired || ce.Reason != closeTokenExpiredReason {
			t.Fatalf("connection ended with %v; want close %d %q", err, closeTokenExpired, closeTokenExpiredReason)
		}
		break
	}
	select {
	case <-f.schema.waitsEnded:
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription kept running on the server after its connection closed")
	}

	// A token that has already expired is refused at connection_init.
	stale := dialWS(t, srv.URL, map[string]any{"authToken": "stale"})
	defer stale.CloseNow()
	for {
		var m map[string]any
		if err := readWS(stale, &m); err != nil {
			if coderws.CloseStatus(err) != 4403 {
				t.Fatalf("expired token: closed with %v", err)
			}
			break
		}
		if m["type"] == "connection_ack" {
			t.Fatal("expired token acknowledged")
		}
	}

	// Credentials without an expiry keep the connection open.
	ok := dialWS(t, srv.URL, map[string]any{"authToken": "good"})
	defer ok.CloseNow()
	expectWS(t, ok, "connection_ack")
	writeWS(t, ok, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "subscription { tick }"}})
	expectWS(t, ok, "next")
}

func TestPersistedOperationsOnly(t *testing.T) {
	const listed = `query Hello { hello }`
	const hashOnly = `query Me { me }`
	ops, err := NewPersistedOperations([]string{listed, "subscription { tick }"}, []string{strings.ToUpper(queryHash(hashOnly))})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(o *Options) {
		o.PersistedOperations = ops
		o.APQCache = lru.New[string](100)
	})
	apq := func(hash string) map[string]any {
		return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
	}
	send := func(query string, ext map[string]any, headers ...string) result {
		body, _ := json.Marshal(map[string]any{"query": query, "extensions": ext})
		return f.do(t, postReq(string(body), headers...))
	}

	cases := []struct {
		name   string
		query  string
		ext    map[string]any
		code   string // "" when run
		status int    // with application/graphql-response+json
	}{
		{"a listed document", listed, nil, "", 200},
		{"a listed document by its hash alone", "", apq(queryHash(listed)), "", 200},
		{"any other document", `{ hello(name: "x") }`, nil, "FORBIDDEN", 403},
		{"a listed document with one more space", listed + " ", nil, "FORBIDDEN", 403},
		{"an unknown hash", "", apq(queryHash(`{ slow }`)), "FORBIDDEN", 403},
		{"APQ cannot register an unlisted document", `{ slow }`, apq(queryHash(`{ slow }`)), "FORBIDDEN", 403},
		{"a listed hash whose text is not known yet", "", apq(queryHash(hashOnly)), CodePersistedQueryNotFound, 400},
		{"then its text with the hash (registered through APQ)", hashOnly, apq(queryHash(hashOnly)), "", 200},
		{"then the hash alone", "", apq(queryHash(hashOnly)), "", 200},
	}
	for _, tc := range cases {
		before := f.schema.execs.Load()
		res := send(tc.query, tc.ext, "Accept", "application/graphql-response+json")
		ran := f.schema.execs.Load() != before
		if res.status != tc.status || res.gql.code(0) != tc.code || ran != (tc.code == "") {
			t.Errorf("%s: %d %s (ran %v); want %d %q", tc.name, res.status, res.body, ran, tc.status, tc.code)
		}
	}
	// With application/json a refusal is a 200, and it explains itself.
	res := send(`{ hello }`, nil, "Accept-Language", "en")
	if res.status != 200 || res.gql.code(0) != "FORBIDDEN" || !strings.Contains(res.gql.Errors[0].Message, "only registered operations") {
		t.Errorf("unlisted, application/json: %d %s", res.status, res.body)
	}

	// WebSocket operations are held to the list too.
	srv := httptest.NewServer(f.srv)
	defer srv.Close()
	c := dialWS(t, srv.URL, map[string]any{})
	defer c.CloseNow()
	expectWS(t, c, "connection_ack")
	writeWS(t, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "subscription { tick }"}})
	expectWS(t, c, "next")
	writeWS(t, c, map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": "subscription { wait }"}})
	for {
		var m map[string]any
		if err := readWS(c, &m); err != nil {
			t.Fatal(err)
		}
		if m["id"] == "2" && m["type"] != "complete" {
			if !strings.Contains(mustJSON(m["payload"]), "FORBIDDEN") {
				t.Fatalf("unlisted subscription: %v", m)
			}
			break
		}
	}
}

func TestPersistedOperationFiles(t *testing.T) {
	const doc = `query Me { me }`
	h := queryHash(doc)
	cases := []struct {
		name, content string
		wantLen       int // 0: an error
	}{
		{"GraphQL Code Generator's persisted-documents.json", fmt.Sprintf(`{%q: %q}`, h, doc), 1},
		{"an Apollo manifest", fmt.Sprintf(`{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": %q, "body": %q, "name": "Me", "type": "query"}]}`, h, doc), 1},
		{"a list of hashes", "# the mobile app 2.3\n" + h + "\n\n" + queryHash("{ hello }") + "\n", 2},
		{"a key that is not the sha256 of its document", fmt.Sprintf(`{"0cc175b9c0f1b6a831c399e269772661": %q}`, doc), 0},
		{"an unknown manifest format", `{"format": "relay", "operations": []}`, 0},
		{"a line that is not a hash", "not-a-hash\n", 0},
		{"an empty file", "\n", 0},
	}
	dir := t.TempDir()
	for i, tc := range cases {
		path := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		ops, err := LoadPersistedOperations(path)
		switch {
		case tc.wantLen == 0 && err == nil:
			t.Errorf("%s: loaded; want an error", tc.name)
		case tc.wantLen != 0 && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantLen != 0 && ops.Len() != tc.wantLen:
			t.Errorf("%s: %d operations; want %d", tc.name, ops.Len(), tc.wantLen)
		}
	}
	if _, err := LoadPersistedOperations(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file loaded")
	}
}
