package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/bacninh/thuvienso"
)

type userKey struct{}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fixture struct {
	srv    *Server
	schema *testSchema
	logs   *syncBuffer
}

var errNotFoundBook = thuvienso.E(thuvienso.CodeNotFound, "book not found", "không tìm thấy sách")

func testResolvers() map[string]resolverFunc {
	return map[string]resolverFunc{
		"Query.hello": func(ctx context.Context, args map[string]any) (any, error) {
			name, _ := args["name"].(string)
			if name == "" {
				name = "world"
			}
			return "hello " + name, nil
		},
		"Query.me": func(ctx context.Context, _ map[string]any) (any, error) {
			u, _ := ctx.Value(userKey{}).(string)
			if u == "" {
				return nil, nil
			}
			return u, nil
		},
		"Query.fail": func(ctx context.Context, args map[string]any) (any, error) {
			switch args["kind"] {
			case "domain":
				return nil, fmt.Errorf("loading book 42: %w", errNotFoundBook)
			case "field":
				return nil, thuvienso.Invalid("input.email", "email is not valid", "email không hợp lệ")
			case "ratelimit":
				e := thuvienso.E(thuvienso.CodeRateLimited, "too many requests", "quá nhiều yêu cầu")
				e.RetryAfterSeconds = 30
				return nil, e
			case "internal":
				return nil, errors.New("mongo: connection refused to 10.0.0.5:27017 (secret-db)")
			case "panic":
				panic("resolver exploded")
			}
			return "ok", nil
		},
		"Query.slow": func(ctx context.Context, _ map[string]any) (any, error) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(5 * time.Second):
				return "done", nil
			}
		},
		"Query.book": func(ctx context.Context, args map[string]any) (any, error) {
			return map[string]any{"id": args["id"]}, nil
		},
		"Query.books": func(ctx context.Context, _ map[string]any) (any, error) {
			return map[string]any{"totalCount": 0, "edges": []any{}}, nil
		},
		"Mutation.touch": func(ctx context.Context, _ map[string]any) (any, error) {
			return "touched", nil
		},
		"Subscription.tick": func(ctx context.Context, _ map[string]any) (any, error) {
			u, _ := ctx.Value(userKey{}).(string)
			return "tick for " + u, nil
		},
	}
}

func testAuthenticate(ctx context.Context, token string) (context.Context, error) {
	switch token {
	case "good":
		return context.WithValue(ctx, userKey{}, "reader-1"), nil
	case "expired":
		return nil, thuvienso.E(thuvienso.CodeUnauthenticated, "your session has expired", "phiên đăng nhập đã hết hạn")
	case "keystore-down":
		return nil, thuvienso.E(thuvienso.CodeServiceUnhealthy, "try again later", "vui lòng thử lại sau")
	}
	return nil, errors.New("jwt: signature is invalid")
}

func newFixture(t *testing.T, mutate ...func(*Options)) *fixture {
	t.Helper()
	logs := &syncBuffer{}
	schema := newTestSchema(testResolvers())
	opts := Options{
		Schema:        schema.executable(),
		Authenticate:  testAuthenticate,
		MaxDepth:      10,
		MaxComplexity: 50,
		Logger:        slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mutate {
		m(&opts)
	}
	return &fixture{srv: New(opts), schema: schema, logs: logs}
}

type gqlResponse struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r gqlResponse) code(i int) string {
	if i >= len(r.Errors) {
		return ""
	}
	c, _ := r.Errors[i].Extensions["code"].(string)
	return c
}

type result struct {
	status int
	header http.Header
	body   []byte
	gql    gqlResponse
}

func (f *fixture) do(t *testing.T, req *http.Request) result {
	t.Helper()
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	res := result{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if ct := rec.Header().Get("Content-Type"); strings.Contains(ct, "json") && len(res.body) > 0 {
		if err := json.Unmarshal(res.body, &res.gql); err != nil {
			t.Fatalf("response is not JSON (%v): %.300s", err, res.body)
		}
	}
	return res
}

func postReq(body string, headers ...string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

func gqlBody(query string) string {
	b, _ := json.Marshal(map[string]any{"query": query})
	return string(b)
}

func (f *fixture) post(t *testing.T, query string, headers ...string) result {
	t.Helper()
	return f.do(t, postReq(gqlBody(query), headers...))
}

func (f *fixture) get(t *testing.T, query string, headers ...string) result {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(query), nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return f.do(t, req)
}

func TestPostAndGet(t *testing.T) {
	f := newFixture(t)

	res := f.post(t, `query Hello { hello(name: "An") }`)
	if res.status != 200 || res.gql.Data["hello"] != "hello An" || len(res.gql.Errors) != 0 {
		t.Fatalf("POST: %d %s", res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("POST without Accept: Content-Type %q", ct)
	}

	res = f.get(t, `{ hello }`)
	if res.status != 200 || res.gql.Data["hello"] != "hello world" {
		t.Fatalf("GET: %d %s", res.status, res.body)
	}

	res = f.post(t, `{ hello }`, "Accept", "application/graphql-response+json, application/json;q=0.9")
	if ct := res.header.Get("Content-Type"); ct != "application/graphql-response+json; charset=utf-8" {
		t.Errorf("Accept graphql-response+json: Content-Type %q", ct)
	}
	res = f.post(t, `{ hello }`, "Accept", "application/json")
	if ct := res.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Accept json: Content-Type %q", ct)
	}

	// Variables and operationName.
	res = f.do(t, postReq(`{"query":"query A { hello } query B($n: String) { hello(name: $n) }","operationName":"B","variables":{"n":"Bình"}}`))
	if res.gql.Data["hello"] != "hello Bình" {
		t.Fatalf("operationName/variables: %s", res.body)
	}

	res = f.post(t, `mutation { touch }`)
	if res.status != 200 || res.gql.Data["touch"] != "touched" {
		t.Fatalf("mutation over POST: %d %s", res.status, res.body)
	}
}

func TestMutationOverGetRefused(t *testing.T) {
	f := newFixture(t)
	before := f.schema.execs.Load()
	res := f.get(t, `mutation { touch }`)
	if res.status != http.StatusMethodNotAllowed {
		t.Fatalf("status %d, want 405: %s", res.status, res.body)
	}
	if allow := res.header.Get("Allow"); allow != "POST" {
		t.Errorf("Allow %q", allow)
	}
	if res.gql.code(0) != "BAD_USER_INPUT" || res.gql.Data != nil {
		t.Errorf("body %s", res.body)
	}
	if f.schema.execs.Load() != before {
		t.Error("the mutation was executed")
	}
}

func TestMalformedRequests(t *testing.T) {
	f := newFixture(t)
	for name, body := range map[string]string{
		"syntax":        `{"query": "{ hello }"`,
		"not an object": `["a"]`,
		"wrong type":    `{"query": 42}`,
		"empty":         ``,
		"trailing":      `{"query":"{ hello }"} {"x":1}`,
	} {
		t.Run(name, func(t *testing.T) {
			res := f.do(t, postReq(body))
			if res.status != http.StatusBadRequest || res.gql.code(0) != "BAD_USER_INPUT" || res.gql.Errors[0].Message == "" {
				t.Fatalf("%d %s", res.status, res.body)
			}
			if strings.Contains(res.gql.Errors[0].Message, "hello") {
				t.Errorf("the body is echoed back: %s", res.gql.Errors[0].Message)
			}
		})
	}

	res := f.do(t, postReq(`{"query": "{ hello }", "unknownKey": 1}`))
	if res.status != 200 || res.gql.Data["hello"] == nil {
		t.Errorf("unknown top-level key must be ignored: %d %s", res.status, res.body)
	}

	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`query=%7Bhello%7D`))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res = f.do(t, req)
	if res.status != http.StatusUnsupportedMediaType || res.gql.code(0) != "BAD_USER_INPUT" {
		t.Errorf("form POST: %d %s", res.status, res.body)
	}

	res = f.do(t, httptest.NewRequest(http.MethodPut, "/graphql", nil))
	if res.status != http.StatusMethodNotAllowed || res.gql.code(0) != "BAD_USER_INPUT" {
		t.Errorf("PUT: %d %s", res.status, res.body)
	}

	res = f.do(t, httptest.NewRequest(http.MethodGet, "/graphql?query=%7Bhello%7D&variables=%5B1", nil))
	if res.status != http.StatusBadRequest || res.gql.code(0) != "BAD_USER_INPUT" {
		t.Errorf("GET bad variables: %d %s", res.status, res.body)
	}
}

func TestBodyTooLarge(t *testing.T) {
	f := newFixture(t)
	big := `{"query":"{ hello }","variables":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`
	res := f.do(t, postReq(big))
	if res.status != http.StatusRequestEntityTooLarge || res.gql.code(0) != "BAD_USER_INPUT" {
		t.Fatalf("%d %.300s", res.status, res.body)
	}
	if !strings.Contains(res.gql.Errors[0].Message, "1048576") {
		t.Errorf("message %q does not state the limit", res.gql.Errors[0].Message)
	}
	if len(res.body) > 1000 {
		t.Errorf("answer is %d bytes", len(res.body))
	}
	// And a 2 MB query string in the JSON itself.
	res = f.post(t, "{ hello }"+strings.Repeat(" ", 2<<20))
	if res.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MB query: %d", res.status)
	}
}

func nested(levels int) string {
	return "{ book(id: 1) " + strings.Repeat("{ related ", levels-1) + "{ id }" + strings.Repeat(" }", levels-1) + " }"
}

func TestDepthLimit(t *testing.T) {
	f := newFixture(t)

	// book + 8 related + id = depth 10: allowed.
	if res := f.post(t, nested(9)); len(res.gql.Errors) != 0 {
		t.Fatalf("depth 10 refused: %s", res.body)
	}

	before := f.schema.execs.Load()
	res := f.post(t, nested(50))
	if res.status != 200 || res.gql.code(0) != "QUERY_TOO_COMPLEX" || res.gql.Data != nil {
		t.Fatalf("50 levels: %d %s", res.status, res.body)
	}
	if !strings.Contains(res.gql.Errors[0].Message, "giới hạn 10") {
		t.Errorf("message not Vietnamese: %q", res.gql.Errors[0].Message)
	}
	if f.schema.execs.Load() != before {
		t.Error("the deep query was executed")
	}
	res = f.post(t, nested(50), "Accept", "application/graphql-response+json", "Accept-Language", "en")
	if res.status != http.StatusBadRequest || res.gql.code(0) != "QUERY_TOO_COMPLEX" || !strings.Contains(res.gql.Errors[0].Message, "limit of 10") {
		t.Fatalf("50 levels, graphql-response+json: %d %s", res.status, res.body)
	}

	// Depth through fragments, inline fragments and a fragment spread many
	// times (linear walk).
	frag := `query { book(id: 1) { ...F1 } }
	fragment F1 on Book { related { ...F2 } related2: related { ...F2 } }
	fragment F2 on Book { ... on Book { related { ...F3 } } }
	fragment F3 on Book { related { related { related { related { related { related { related { id } } } } } } } }`
	res = f.post(t, frag)
	if res.gql.code(0) != "QUERY_TOO_COMPLEX" {
		t.Fatalf("deep through fragments: %s", res.body)
	}

	// Cyclic fragments are refused by validation, and do not hang the walk.
	res = f.post(t, `query { book(id: 1) { ...A } } fragment A on Book { related { ...B } } fragment B on Book { related { ...A } }`)
	if res.gql.code(0) != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("cyclic fragments: %s", res.body)
	}
	w := depthWalker{memo: map[string]shape{}, onPath: map[string]bool{}}
	a := &ast.FragmentDefinition{Name: "A"}
	a.SelectionSet = ast.SelectionSet{&ast.Field{Name: "related", SelectionSet: ast.SelectionSet{&ast.FragmentSpread{Name: "A", Definition: a}}}}
	if d := w.selectionSet(ast.SelectionSet{&ast.FragmentSpread{Name: "A", Definition: a}}); d != 1 {
		t.Errorf("self-cycle depth %d", d)
	}
}

func TestComplexityLimit(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxAliases = 100 })
	var q strings.Builder
	q.WriteString("{")
	for i := range 60 {
		fmt.Fprintf(&q, " h%d: hello", i)
	}
	q.WriteString(" }")
	res := f.post(t, q.String(), "Accept-Language", "en")
	if res.gql.code(0) != "QUERY_TOO_COMPLEX" || !strings.Contains(res.gql.Errors[0].Message, "complexity 60") {
		t.Fatalf("%d %s", res.status, res.body)
	}
}

func TestValidationAndParseErrors(t *testing.T) {
	f := newFixture(t)
	res := f.post(t, `{ nope }`)
	if res.status != 200 || res.gql.code(0) != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(res.gql.Errors[0].Message, "nope") {
		t.Fatalf("unknown field: %d %s", res.status, res.body)
	}
	if strings.Contains(string(res.body), `"data"`) {
		t.Errorf("a request error has a data entry: %s", res.body)
	}
	res = f.post(t, `{ nope }`, "Accept", "application/graphql-response+json")
	if res.status != http.StatusBadRequest || res.gql.code(0) != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("unknown field, graphql-response+json: %d %s", res.status, res.body)
	}
	res = f.post(t, `{ hello(`)
	if res.gql.code(0) != "GRAPHQL_PARSE_FAILED" {
		t.Fatalf("parse error: %s", res.body)
	}
	res = f.do(t, postReq(`{"query":"query($n: String!) { hello(name: $n) }"}`))
	if res.gql.code(0) != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("missing variable: %s", res.body)
	}
	// Introspection is off by default, with a proper code, and the
	// validation messages suggest no field names.
	res = f.post(t, `{ __schema { types { name } } }`)
	if res.gql.code(0) != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(res.gql.Errors[0].Message, "introspection") {
		t.Fatalf("introspection off: %s", res.body)
	}
	res = f.post(t, `{ helo }`)
	if strings.Contains(string(res.body), "Did you mean") {
		t.Errorf("suggestions leak the schema: %s", res.body)
	}
	// __typename is not introspection.
	res = f.post(t, `{ __typename }`)
	if len(res.gql.Errors) != 0 || res.gql.Data["__typename"] != "Query" {
		t.Fatalf("__typename: %s", res.body)
	}
}

func TestDomainErrors(t *testing.T) {
	f := newFixture(t)
	res := f.post(t, `{ fail(kind: "domain") }`)
	if res.status != 200 || res.gql.code(0) != "NOT_FOUND" || res.gql.Errors[0].Message != "không tìm thấy sách" {
		t.Fatalf("vi: %s", res.body)
	}
	if len(res.gql.Errors[0].Path) != 1 || res.gql.Errors[0].Path[0] != "fail" {
		t.Errorf("path: %v", res.gql.Errors[0].Path)
	}
	if _, ok := res.gql.Data["fail"]; !ok {
		t.Errorf("data.fail missing: %s", res.body)
	}
	res = f.post(t, `{ fail(kind: "domain") }`, "Accept-Language", "en-US,en;q=0.9")
	if res.gql.code(0) != "NOT_FOUND" || res.gql.Errors[0].Message != "book not found" {
		t.Fatalf("en: %s", res.body)
	}
	res = f.post(t, `{ fail(kind: "field") }`)
	if res.gql.code(0) != "BAD_USER_INPUT" || res.gql.Errors[0].Extensions["field"] != "input.email" {
		t.Fatalf("field: %s", res.body)
	}
	res = f.post(t, `{ fail(kind: "ratelimit") }`)
	if res.gql.code(0) != "RATE_LIMITED" || res.gql.Errors[0].Extensions["retryAfter"] != float64(30) {
		t.Fatalf("retryAfter: %s", res.body)
	}
	if res.header.Get("Retry-After") != "30" {
		t.Errorf("Retry-After header %q", res.header.Get("Retry-After"))
	}
	if strings.Contains(f.logs.String(), "không tìm thấy") || strings.Contains(f.logs.String(), "internal error") {
		t.Errorf("domain errors must not be logged as internal: %s", f.logs.String())
	}
}

func TestInternalErrorsAndPanics(t *testing.T) {
	f := newFixture(t)
	req := postReq(gqlBody(`{ fail(kind: "internal") ok: hello }`), "X-Request-ID", "req-internal-1")
	res := f.do(t, req)
	if res.gql.code(0) != "INTERNAL" || res.gql.Errors[0].Message != thuvienso.ErrInternal.VI {
		t.Fatalf("internal: %s", res.body)
	}
	if strings.Contains(string(res.body), "secret-db") || strings.Contains(string(res.body), "mongo") {
		t.Fatalf("internal details leaked: %s", res.body)
	}
	if res.gql.Data["ok"] != "hello world" {
		t.Errorf("sibling field lost: %s", res.body)
	}
	logs := f.logs.String()
	if n := strings.Count(logs, "secret-db"); n != 1 {
		t.Errorf("internal error logged %d times: %s", n, logs)
	}
	if !regexp.MustCompile(`"graphql: internal error".*"request_id":"req-internal-1"`).MatchString(logs) {
		t.Errorf("internal error not logged with the request id: %s", logs)
	}

	res = f.post(t, `{ fail(kind: "panic") }`, "Accept-Language", "en")
	if res.status != 200 || res.gql.code(0) != "INTERNAL" || res.gql.Errors[0].Message != thuvienso.ErrInternal.EN {
		t.Fatalf("panic: %d %s", res.status, res.body)
	}
	logs = f.logs.String()
	if n := strings.Count(logs, "resolver exploded"); n != 1 {
		t.Errorf("panic logged %d times", n)
	}
	if !strings.Contains(logs, "goroutine") || !strings.Contains(logs, "runtime/debug.Stack") {
		t.Errorf("panic logged without stack")
	}
	// Still serving.
	if res := f.post(t, `{ hello }`); res.gql.Data["hello"] != "hello world" {
		t.Fatalf("after panic: %s", res.body)
	}
}

func TestTimeout(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.RequestTimeout = 50 * time.Millisecond })
	start := time.Now()
	res := f.post(t, `{ slow }`)
	if time.Since(start) > 2*time.Second {
		t.Fatal("timeout not applied")
	}
	if res.gql.code(0) != "INTERNAL" {
		t.Fatalf("%s", res.body)
	}
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	res := f.post(t, `{ me }`)
	if res.status != 200 || res.gql.Data["me"] != nil || len(res.gql.Errors) != 0 {
		t.Fatalf("anonymous: %d %s", res.status, res.body)
	}
	res = f.post(t, `{ me }`, "Authorization", "Bearer good")
	if res.gql.Data["me"] != "reader-1" {
		t.Fatalf("good token: %s", res.body)
	}
	before := f.schema.execs.Load()
	for name, tc := range map[string]struct {
		header, code, msg string
		status            int
	}{
		"invalid":   {"Bearer forged", "UNAUTHENTICATED", thuvienso.ErrUnauthenticated.VI, 401},
		"expired":   {"Bearer expired", "UNAUTHENTICATED", "phiên đăng nhập đã hết hạn", 401},
		"scheme":    {"Basic dXNlcjpwYXNz", "UNAUTHENTICATED", "", 401},
		"empty":     {"Bearer ", "UNAUTHENTICATED", "", 401},
		"keystore":  {"Bearer keystore-down", "SERVICE_UNAVAILABLE", "vui lòng thử lại sau", 503},
		"lowercase": {"bearer forged", "UNAUTHENTICATED", "", 401},
	} {
		t.Run(name, func(t *testing.T) {
			res := f.post(t, `{ me }`, "Authorization", tc.header)
			if res.status != tc.status || res.gql.code(0) != tc.code {
				t.Fatalf("%d %s", res.status, res.body)
			}
			if tc.msg != "" && res.gql.Errors[0].Message != tc.msg {
				t.Errorf("message %q", res.gql.Errors[0].Message)
			}
			if tc.status == 401 && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", res.header.Get("WWW-Authenticate"))
			}
		})
	}
	if f.schema.execs.Load() != before {
		t.Error("refused requests were executed")
	}
}

func TestReadiness(t *testing.T) {
	storeErr := errors.New("store down")
	redisErr := errors.New("redis down")
	var storeFail, redisFail bool
	var mu sync.Mutex
	f := newFixture(t, func(o *Options) {
		o.ReadinessTimeout = 200 * time.Millisecond
		o.ReadinessChecks = []Check{
			{Name: "store", Critical: true, Check: func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				if storeFail {
					return storeErr
				}
				return nil
			}},
			{Name: "redis", Check: func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				if redisFail {
					return redisErr
				}
				return nil
			}},
		}
	})
	type report struct {
		Status string `json:"status"`
		Checks map[string]struct {
			Status   string `json:"status"`
			Critical bool   `json:"critical"`
			Error    string `json:"error"`
		} `json:"checks"`
	}
	check := func(wantStatus int, want string) report {
		t.Helper()
		res := f.do(t, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var r report
		if err := json.Unmarshal(res.body, &r); err != nil {
			t.Fatalf("readyz body %s", res.body)
		}
		if res.status != wantStatus || r.Status != want {
			t.Fatalf("readyz: %d %s, want %d %s", res.status, res.body, wantStatus, want)
		}
		return r
	}
	r := check(200, "ok")
	if r.Checks["store"].Status != "ok" || !r.Checks["store"].Critical || r.Checks["redis"].Critical {
		t.Errorf("%+v", r)
	}
	mu.Lock()
	redisFail = true
	mu.Unlock()
	r = check(200, "degraded")
	if r.Checks["redis"].Status != "fail" || r.Checks["redis"].Error != "redis down" {
		t.Errorf("%+v", r)
	}
	mu.Lock()
	storeFail = true
	mu.Unlock()
	check(503, "unavailable")

	// A hanging check answers within the timeout.
	f2 := newFixture(t, func(o *Options) {
		o.ReadinessTimeout = 50 * time.Millisecond
		o.ReadinessChecks = []Check{{Name: "store", Critical: true, Check: func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(20 * time.Millisecond)
			return ctx.Err()
		}}}
	})
	res := f2.do(t, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if res.status != 503 {
		t.Fatalf("hanging check: %d %s", res.status, res.body)
	}

	res = f.do(t, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if res.status != 200 || !strings.Contains(string(res.body), `"ok"`) {
		t.Fatalf("healthz: %d %s", res.status, res.body)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	f.post(t, `query Hello { hello }`)
	f.post(t, `query Hello { hello }`)
	f.post(t, `{ nope }`)
	f.post(t, `mutation Touch { touch }`)
	f.post(t, `{ me }`, "Authorization", "Bearer forged")
	res := f.do(t, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := string(res.body)
	for _, want := range []string{
		`thuvienso_graphql_requests_total{operation="Hello",type="query"} 2`,
		`thuvienso_graphql_requests_total{operation="Touch",type="mutation"} 1`,
		`thuvienso_graphql_request_duration_seconds_count{operation="Hello",type="query"} 2`,
		`thuvienso_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"} 1`,
		`thuvienso_graphql_errors_total{code="UNAUTHENTICATED"} 1`,
		`thuvienso_http_requests_in_flight 1`,
		`thuvienso_http_requests_total{code="401",route="graphql"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
	// Other packages can register collectors.
	if f.srv.Registry() == nil {
		t.Fatal("no registry")
	}
}

func TestOperationNameLabelsAreBounded(t *testing.T) {
	var o operationNames
	o.seen = map[string]struct{}{}
	for i := range maxOperationNames + 10 {
		o.label(fmt.Sprintf("Op%d", i))
	}
	if got := o.label("OneMore"); got != "other" {
		t.Errorf("label past the bound = %q", got)
	}
	if got := o.label("Op1"); got != "Op1" {
		t.Errorf("known label = %q", got)
	}
	if got := o.label(`bad"name`); got != "other" {
		t.Errorf("odd label = %q", got)
	}
	if got := o.label(""); got != "anonymous" {
		t.Errorf("empty = %q", got)
	}
}

func TestCommonHeaders(t *testing.T) {
	f := newFixture(t)
	res := f.do(t, postReq(gqlBody(`{ hello }`), "X-Request-ID", "abc-123"))
	if got := res.header.Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("X-Request-ID echoed as %q", got)
	}
	res = f.do(t, postReq(gqlBody(`{ hello }`), "X-Request-ID", "bad id\x01"))
	if got := res.header.Get("X-Request-ID"); got == "" || strings.Contains(got, "bad") {
		t.Errorf("invalid X-Request-ID replaced by %q", got)
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := res.header.Get(h); got != want {
			t.Errorf("%s = %q", h, got)
		}
	}
	if !strings.Contains(res.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("CSP %q", res.header.Get("Content-Security-Policy"))
	}

	// Access log line.
	if !regexp.MustCompile(`"msg":"http request","method":"POST","path":"/graphql","status":200,.*"request_id":"abc-123","operation":"","operation_type":"query"`).MatchString(f.logs.String()) {
		t.Errorf("access log: %s", f.logs.String())
	}

	// gzip.
	req := httptest.NewRequest(http.MethodGet, "/graphiql/assets/graphiql.min.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res = f.do(t, req)
	if res.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("not gzipped: %v", res.header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.HasPrefix(plain, []byte("!function")) {
		t.Errorf("gunzipped asset starts %q", plain[:20])
	}

	// A panic in a non-GraphQL handler.
	f.srv.Handle("GET /boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("handler exploded") }))
	res = f.do(t, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if res.status != 500 || res.gql.code(0) != "INTERNAL" {
		t.Fatalf("panic in handler: %d %s", res.status, res.body)
	}
	if !strings.Contains(f.logs.String(), "handler exploded") {
		t.Error("handler panic not logged")
	}
}

func TestCORS(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.CORSOrigins = []string{"https://thuvien.bacninh.gov.vn"} })
	req := httptest.NewRequest(http.MethodOptions, "/graphql", nil)
	req.Header.Set("Origin", "https://thuvien.bacninh.gov.vn")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	res := f.do(t, req)
	if res.status/100 != 2 || res.header.Get("Access-Control-Allow-Origin") != "https://thuvien.bacninh.gov.vn" {
		t.Fatalf("preflight: %d %v", res.status, res.header)
	}
	req = postReq(gqlBody(`{ hello }`), "Origin", "https://evil.example")
	res = f.do(t, req)
	if res.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign origin allowed")
	}
}
