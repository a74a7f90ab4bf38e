package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/klauspost/compress/gzip"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/sync/singleflight"

	"github.com/bacninh/thuvienso/locale"
)

// ResponseCache keeps whole /graphql responses to anonymous queries, so
// that the catalogue pages every visitor opens (a popular search, a work
// page) are answered with stored bytes rather than run again.
//
// Only what cannot differ between callers is shared: operations that are
// queries, answered with status 200 and no error at all, either anonymous
// or, when Viewer is set, computed without ever consulting who asked (a
// reader's search or work page, but not their loans). An anonymous answer
// that consulted the caller (to find there is none) is kept for anonymous
// requests only. The key is the request as sent (method, query
// string, body), its Accept and language, and Version: the catalogue's
// change sequence, so a checkout or an import makes the next request a miss
// rather than waiting for the entry to expire. TTL bounds what Version does
// not see (an e-book's queue, say): an anonymous answer is at most TTL old.
//
// A hit still counts against the caller's rate limit, and is served
// compressed when the client accepts gzip, without compressing again.
type ResponseCache struct {
	// Store keeps the entries: the Redis cache when instances share one.
	Store ResponseStore
	// Version returns the current catalogue version; an error makes the
	// request a plain miss that is not stored.
	Version func(ctx context.Context) (string, error)
	// TTL is how long an entry is served (at most; a new Version ends it
	// sooner).
	TTL time.Duration
	// Viewer, when set, makes authenticated requests eligible: it returns
	// the request's context with a ViewerReads that records whether the
	// operation consulted the caller's identity (auth.WithActorReads).
	// Without it only anonymous requests are cached.
	Viewer func(ctx context.Context) (context.Context, ViewerReads)

	hits, misses atomic.Uint64
	flight       singleflight.Group
}

// ViewerReads records whether a request consulted its caller's identity
// once armed (auth.ActorReads). The server arms it when the operation
// starts executing, after authentication and rate limiting.
type ViewerReads interface {
	Arm()
	Read() bool
}

// ResponseStore is what ResponseCache needs of a cache (cache.Cache has it).
type ResponseStore interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

// Stats returns the hits and misses since start, for /metrics.
func (c *ResponseCache) Stats() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }

// maxCachedRequest bounds the request bodies looked up: a catalogue query
// is a few hundred bytes, and a large body is not worth hashing.
const maxCachedRequest = 16 << 10

// cacheable is what the GraphQL handler tells the response cache about the
// operation it ran (see cacheableMarker).
type cacheable struct {
	ok    bool
	reads ViewerReads // nil without ResponseCache.Viewer
}

type cacheableKey struct{}

// cacheResponses is the response-cache middleware of /graphql; it runs
// after authentication and before the GraphQL handler.
func (s *Server) cacheResponses(next http.Handler) http.Handler {
	c := s.opts.ResponseCache
	if c == nil || c.Store == nil || c.Version == nil || c.TTL <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		anonymous := r.Header.Get("Authorization") == ""
		if (r.Method != http.MethodGet && (r.Method != http.MethodPost || !sendsJSON(r))) || (!anonymous && c.Viewer == nil) || isUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		var body []byte
		if r.Method == http.MethodPost {
			b, err := io.ReadAll(io.LimitReader(r.Body, maxCachedRequest+1))
			if err != nil {
				next.ServeHTTP(w, r)
				return
			}
			// The handler reads the body again, whole: what was read here
			// and what is left.
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
			if len(b) > maxCachedRequest {
				next.ServeHTTP(w, r)
				return
			}
			body = b
		}
		version, err := c.Version(ctx)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		key := responseKey(r, body, locale.From(ctx), version)
		if raw, found, err := c.Store.Get(ctx, key); err == nil && found {
			if e, ok := decodeEntry(raw); ok && (anonymous || e.shared) {
				if refused := s.countCachedHit(ctx); refused == nil {
					c.hits.Add(1)
					e.write(w, r)
					return
				}
				c.misses.Add(1)
				next.ServeHTTP(w, r) // refused: the handler says so, in its words
				return
			}
		}
		// Identical requests that miss together wait for the first one's
		// answer rather than each computing it (an entry that expires
		// under load is recomputed once per instance, not once a client).
		led := false
		v, _, _ := c.flight.Do(key, func() (any, error) {
			led = true
			c.misses.Add(1)
			e := s.computeResponse(w, r, next, anonymous)
			if e != nil { // stored before the followers go: no second flight
				_ = c.Store.Set(ctx, key, e.encode(), c.TTL)
			}
			return e, nil
		})
		if led {
			return
		}
		if e, _ := v.(*entry); e != nil && (anonymous || e.shared) && s.countCachedHit(ctx) == nil {
			c.hits.Add(1)
			e.write(w, r)
			return
		}
		c.misses.Add(1)
		s.computeResponse(w, r, next, anonymous) // the first one's answer is not this caller's to have
	})
}

// computeResponse runs the request and returns the entry the cache may keep
// of its answer, nil when it may keep none.
func (s *Server) computeResponse(w http.ResponseWriter, r *http.Request, next http.Handler, anonymous bool) *entry {
	c := s.opts.ResponseCache
	ctx := r.Context()
	mark := &cacheable{}
	if c.Viewer != nil {
		ctx, mark.reads = c.Viewer(ctx)
	}
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	next.ServeHTTP(rec, r.WithContext(context.WithValue(ctx, cacheableKey{}, mark)))
	if !mark.ok || rec.status != http.StatusOK || rec.overflow {
		return nil
	}
	shared := mark.reads != nil && !mark.reads.Read()
	if !anonymous && !shared {
		return nil // this caller's own answer
	}
	e := &entry{contentType: rec.Header().Get("Content-Type"), body: rec.buf.Bytes(), shared: shared}
	e.compress()
	return e
}

// countCachedHit counts a cached answer against the caller's rate limit as
// the operation would have counted; it returns the refusal when the limit
// is reached, and the request then goes to the handler, which refuses it
// with the usual error (counting it once more, as a refused operation).
func (s *Server) countCachedHit(ctx context.Context) error {
	if s.limiter == nil {
		return nil
	}
	if refused := s.limiter.allow(ctx, 1); refused != nil {
		return refused
	}
	return nil
}

// responseKey identifies a response: the request as sent, what it accepts,
// its language and the catalogue version.
func responseKey(r *http.Request, body []byte, lang, version string) string {
	h := sha256.New()
	for _, part := range []string{r.Method, r.URL.RawQuery, r.Header.Get("Accept"), lang, version} {
		_, _ = io.WriteString(h, part)
		_, _ = h.Write([]byte{0})
	}
	_, _ = h.Write(body)
	return "resp:" + hex.EncodeToString(h.Sum(nil))
}

// cacheableMarker is the GraphQL handler extension that marks a response
// the cache may keep: a query answered without errors.
type cacheableMarker struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = cacheableMarker{}

// ExtensionName implements graphql.HandlerExtension.
func (cacheableMarker) ExtensionName() string { return "ThuvienSoResponseCache" }

// Validate implements graphql.HandlerExtension.
func (cacheableMarker) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse implements graphql.ResponseInterceptor.
func (cacheableMarker) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	mark, _ := ctx.Value(cacheableKey{}).(*cacheable)
	if mark != nil && mark.reads != nil {
		mark.reads.Arm()
	}
	resp := next(ctx)
	if mark == nil || resp == nil {
		return resp
	}
	if !graphql.HasOperationContext(ctx) { // a request refused before it was an operation
		return resp
	}
	op := graphql.GetOperationContext(ctx)
	mark.ok = op.Operation != nil && op.Operation.Operation == ast.Query &&
		len(resp.Errors) == 0 && len(graphql.GetErrors(ctx)) == 0
	return resp
}

// recorder passes a response through and keeps a copy of its body.
type recorder struct {
	http.ResponseWriter
	status   int
	buf      bytes.Buffer
	overflow bool
}

// maxCachedResponse bounds the responses kept.
const maxCachedResponse = 1 << 20

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if !r.overflow {
		if r.buf.Len()+len(p) > maxCachedResponse {
			r.overflow = true
			r.buf = bytes.Buffer{}
		} else {
			r.buf.Write(p)
		}
	}
	return r.ResponseWriter.Write(p)
}

// Flush passes a flush on when the writer underneath can.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// entry is a stored response: its content type, its body, the body
// compressed with gzip (made once, when stored), and whether any caller may
// have it (shared) or only anonymous ones.
type entry struct {
	contentType string
	body, gz    []byte
	shared      bool
}

// compress makes the gzip body, once, when the entry is made. Most entries
// are never read again (a work page nobody else opens within the TTL), so
// it favours speed over size: BestSpeed is several times faster than the
// default level and only a little larger on JSON.
func (e *entry) compress() {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed) // a valid level: no error
	_, _ = zw.Write(e.body)
	_ = zw.Close()
	e.gz = gz.Bytes()
}

func (e *entry) encode() []byte {
	out := make([]byte, 1, 1+3*binary.MaxVarintLen32+len(e.contentType)+len(e.body)+len(e.gz))
	if e.shared {
		out[0] = 1
	}
	for _, part := range [][]byte{[]byte(e.contentType), e.body, e.gz} {
		out = binary.AppendUvarint(out, uint64(len(part)))
		out = append(out, part...)
	}
	return out
}

func decodeEntry(raw []byte) (entry, bool) {
	if len(raw) == 0 {
		return entry{}, false
	}
	shared := raw[0] == 1
	raw = raw[1:]
	var parts [3][]byte
	for i := range parts {
		n, k := binary.Uvarint(raw)
		if k <= 0 || uint64(len(raw)-k) < n {
			return entry{}, false
		}
		parts[i], raw = raw[k:k+int(n)], raw[k+int(n):]
	}
	return entry{contentType: string(parts[0]), body: parts[1], gz: parts[2], shared: shared}, true
}

// write serves the entry, compressed when the client accepts gzip.
func (e entry) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", e.contentType)
	body := e.body
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = e.gz
	}
	h.Add("Vary", "Accept-Encoding")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip
// (listed, and not with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
		return err == nil && v > 0
	}
	return false
}
