package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/cache"
	"github.com/bacninh/thuvienso/ratelimit"
)

// cachingFixture is a server with a response cache over memory whose
// version the test sets, and resolvers that count their calls.
type cachingFixture struct {
	*fixture
	version atomic.Value // string
	calls   map[string]*atomic.Int64
}

func newCachingFixture(t *testing.T, mutate ...func(*Options)) *cachingFixture {
	t.Helper()
	cf := &cachingFixture{calls: map[string]*atomic.Int64{}}
	cf.version.Store("v1")
	res := testResolvers()
	for _, name := range []string{"Query.hello", "Query.fail", "Query.me", "Mutation.touch"} {
		inner, n := res[name], &atomic.Int64{}
		cf.calls[name] = n
		res[name] = func(ctx context.Context, args map[string]any) (any, error) {
			n.Add(1)
			return inner(ctx, args)
		}
	}
	ts := newTestSchema(res)
	cf.fixture = newFixture(t, append([]func(*Options){func(o *Options) {
		o.Schema = ts.executable()
		o.ResponseCache = &ResponseCache{
			Store:   cache.NewMemory(100),
			Version: func(context.Context) (string, error) { return cf.version.Load().(string), nil },
			TTL:     time.Minute,
		}
	}}, mutate...)...)
	cf.schema = ts
	return cf
}

func TestResponseCacheAnswersARepeatedAnonymousQueryFromStoredBytes(t *testing.T) {
	f := newCachingFixture(t)
	const q = `{ hello(name: "Lan") }`
	first := f.post(t, q)
	second := f.post(t, q)
	if got := f.calls["Query.hello"].Load(); got != 1 {
		t.Fatalf("resolver ran %d times for two identical anonymous queries, want 1", got)
	}
	if first.status != 200 || !bytes.Equal(first.body, second.body) {
		t.Fatalf("cached answer differs: %d %s / %d %s", first.status, first.body, second.status, second.body)
	}
	if second.header.Get("Content-Type") != first.header.Get("Content-Type") {
		t.Fatalf("content type %q, first was %q", second.header.Get("Content-Type"), first.header.Get("Content-Type"))
	}

	// Compressed once when stored, served as such.
	gz := httptest.NewRecorder()
	f.srv.ServeHTTP(gz, postReq(gqlBody(q), "Accept-Encoding", "gzip"))
	if gz.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", gz.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, first.body) {
		t.Fatalf("gzip body %q (%v), want %q", plain, err, first.body)
	}
	if got := f.calls["Query.hello"].Load(); got != 1 {
		t.Fatalf("resolver ran %d times, want 1", got)
	}

	// Another query, another language or a GET is another response.
	f.post(t, `{ hello(name: "Minh") }`)
	f.post(t, q, "Accept-Language", "en")
	f.get(t, q)
	if got := f.calls["Query.hello"].Load(); got != 4 {
		t.Fatalf("resolver ran %d times, want 4 (each distinct request once)", got)
	}
	if hits, _ := f.srv.opts.ResponseCache.Stats(); hits != 2 {
		t.Fatalf("hits %d, want 2", hits)
	}
}

func TestResponseCacheMissesOnceTheCatalogueChanges(t *testing.T) {
	f := newCachingFixture(t)
	f.post(t, `{ hello }`)
	f.version.Store("v2") // a checkout, an import…
	f.post(t, `{ hello }`)
	f.post(t, `{ hello }`)
	if got := f.calls["Query.hello"].Load(); got != 2 {
		t.Fatalf("resolver ran %d times across a version change, want 2", got)
	}
}

func TestResponseCacheNeverKeepsWhatDependsOnTheCaller(t *testing.T) {
	f := newCachingFixture(t)
	for i := 0; i < 2; i++ {
		f.post(t, `{ me }`, "Authorization", "Bearer good")                          // a reader's own view
		f.post(t, `mutation { touch }`)                                              // not a query
		f.post(t, `{ fail(kind: "domain") }`)                                        // an error
		f.do(t, postReq(`{"query":"{ hello }"`, "Content-Type", "application/json")) // malformed
	}
	for name, want := range map[string]int64{"Query.me": 2, "Mutation.touch": 2, "Query.fail": 2} {
		if got := f.calls[name].Load(); got != want {
			t.Errorf("%s ran %d times, want %d (never answered from the cache)", name, got, want)
		}
	}
	if hits, _ := f.srv.opts.ResponseCache.Stats(); hits != 0 {
		t.Fatalf("hits %d, want 0", hits)
	}
}

func TestResponseCacheHitsCountAgainstTheRateLimit(t *testing.T) {
	f := newCachingFixture(t, func(o *Options) {
		o.RateLimit = &RateLimit{Limiter: ratelimit.NewMemory(100), PerIP: ratelimit.Limit{Burst: 2, Period: time.Hour}}
	})
	req := func() result { return f.do(t, from("192.0.2.7:5000", postReq(gqlBody(`{ hello }`)))) }
	for i := 0; i < 2; i++ {
		if r := req(); len(r.gql.Errors) > 0 {
			t.Fatalf("request %d: %+v", i+1, r.gql.Errors)
		}
	}
	r := req()
	if r.gql.code(0) != "RATE_LIMITED" {
		t.Fatalf("third request from one IP (a cache hit) got %s %s, want RATE_LIMITED", r.header.Get("Content-Type"), r.body)
	}
	if r.header.Get("Retry-After") == "" && r.status == http.StatusTooManyRequests {
		t.Fatal("429 without Retry-After")
	}
}

// testReads is a ViewerReads for the test schema, whose "me" resolver is
// the only one that consults the caller.
type testReads struct{ armed, read atomic.Bool }

func (r *testReads) Arm()       { r.armed.Store(true) }
func (r *testReads) Read() bool { return r.read.Load() }

type testReadsKey struct{}

func TestResponseCacheSharesWithReadersOnlyWhatDoesNotDependOnThem(t *testing.T) {
	f := newCachingFixture(t, func(o *Options) {
		o.Authenticate = func(ctx context.Context, token string) (context.Context, error) {
			return context.WithValue(ctx, userKey{}, "reader-"+token), nil
		}
		o.ResponseCache.Viewer = func(ctx context.Context) (context.Context, ViewerReads) {
			r := &testReads{}
			return context.WithValue(ctx, testReadsKey{}, r), r
		}
	})
	me := f.schema.resolvers["Query.me"]
	f.schema.resolvers["Query.me"] = func(ctx context.Context, args map[string]any) (any, error) {
		if r, _ := ctx.Value(testReadsKey{}).(*testReads); r != nil && r.armed.Load() {
			r.read.Store(true)
		}
		return me(ctx, args)
	}

	// The same page for two readers and a visitor: computed once.
	a := f.post(t, `{ hello }`, "Authorization", "Bearer a")
	b := f.post(t, `{ hello }`, "Authorization", "Bearer b")
	anon := f.post(t, `{ hello }`)
	if got := f.calls["Query.hello"].Load(); got != 1 {
		t.Fatalf("a page that does not depend on the reader ran %d times for three callers, want 1", got)
	}
	if !bytes.Equal(a.body, b.body) || !bytes.Equal(a.body, anon.body) {
		t.Fatalf("answers differ: %s / %s / %s", a.body, b.body, anon.body)
	}

	// A reader's own data: each gets theirs, never another's.
	for _, who := range []string{"a", "b", "a"} {
		r := f.post(t, `{ me }`, "Authorization", "Bearer "+who)
		if got := r.gql.Data["me"]; got != "reader-"+who {
			t.Fatalf("reader %s was answered me = %v", who, got)
		}
	}
	if got := f.calls["Query.me"].Load(); got != 3 {
		t.Fatalf("me ran %d times for three requests, want 3", got)
	}
	// An anonymous answer that consulted the caller stays anonymous.
	f.post(t, `{ me }`)
	f.post(t, `{ me }`)
	if r := f.post(t, `{ me }`, "Authorization", "Bearer b"); r.gql.Data["me"] != "reader-b" {
		t.Fatalf("reader b got the anonymous answer: %s", r.body)
	}
	if got := f.calls["Query.me"].Load(); got != 5 {
		t.Fatalf("me ran %d times, want 5 (the second anonymous one from the cache)", got)
	}
}

// Many identical requests arriving while the first is computed wait for its
// answer: an entry that expires under load is recomputed once.
func TestResponseCacheComputesConcurrentIdenticalRequestsOnce(t *testing.T) {
	f := newCachingFixture(t)
	hello := f.schema.resolvers["Query.hello"]
	f.schema.resolvers["Query.hello"] = func(ctx context.Context, args map[string]any) (any, error) {
		time.Sleep(50 * time.Millisecond) // long enough for the others to arrive
		return hello(ctx, args)
	}
	const n = 20
	bodies := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			f.srv.ServeHTTP(rec, postReq(gqlBody(`{ hello(name: "Hà") }`)))
			bodies[i] = rec.Body.Bytes()
		})
	}
	wg.Wait()
	if got := f.calls["Query.hello"].Load(); got != 1 {
		t.Fatalf("%d identical concurrent requests ran the resolver %d times, want 1", n, got)
	}
	for i := range bodies {
		if !bytes.Equal(bodies[i], bodies[0]) || len(bodies[i]) == 0 {
			t.Fatalf("answer %d %q differs from %q", i, bodies[i], bodies[0])
		}
	}
	if hits, misses := f.srv.opts.ResponseCache.Stats(); hits != n-1 || misses != 1 {
		t.Fatalf("hits %d misses %d, want %d and 1", hits, misses, n-1)
	}
}

// BenchmarkResponseEntryCompress measures what storing a work page's
// answer (about 56 KB of JSON) costs the request that computed it.
func BenchmarkResponseEntryCompress(b *testing.B) {
	var body bytes.Buffer
	body.WriteString(`{"data":{"work":{"holdings":[`)
	for i := 0; body.Len() < 56<<10; i++ {
		fmt.Fprintf(&body, `{"library":{"id":"01a229a7-%04d-7c88-ac46-22a4c08de6aa","name":"Thư viện xã %d, huyện Gia Bình","district":"Gia Bình"},"total":3,"available":1,"items":[{"barcode":"BN%07d","status":"AVAILABLE","callNumber":"895.922 NG-D","location":"Kho mở"}]},`, i, i, i)
	}
	body.WriteString(`{}]}}}`)
	b.SetBytes(int64(body.Len()))
	for b.Loop() {
		e := entry{contentType: "application/json", body: body.Bytes()}
		e.compress()
	}
}

// A request the transport refuses is refused even when a cached answer
// has the same body: the cache only answers what the transport would read.
func TestResponseCacheLeavesRefusalsToTheTransport(t *testing.T) {
	f := newCachingFixture(t)
	if r := f.post(t, `{ hello }`); r.status != http.StatusOK {
		t.Fatalf("first request: %d %s", r.status, r.body)
	}
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(gqlBody(`{ hello }`)))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		if rec.Code < 400 || rec.Code > 499 {
			t.Errorf("POST with Content-Type %q: status %d, want 4xx", ct, rec.Code)
		}
	}
}
