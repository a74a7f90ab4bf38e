package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzhttp"

	"github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/locale"
)

type requestIDKey struct{}

// RequestID returns the id of the request ctx belongs to: the client's
// X-Request-ID when it sent a usable one, a random one otherwise. Every
// response carries it back in X-Request-ID, and every log line about the
// request names it. "" outside a request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// withRequestID reads or makes the request id, puts it in the context and
// in the response headers.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = rand.Text()
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// validRequestID accepts up to 128 visible ASCII characters, so that a
// client's id cannot forge log lines or headers.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// withLocale stores the Accept-Language choice ("vi" or "en") in the context.
func withLocale(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := locale.With(r.Context(), locale.Parse(r.Header.Get("Accept-Language")))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// apiCSP is the Content-Security-Policy of everything but the GraphiQL page
// (see graphiqlCSP): JSON needs no sources at all.
const apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// securityHeaders sets the headers every response carries. Handlers may
// replace the CSP (the GraphiQL page does).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", apiCSP)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// gzipUnlessUpgrade compresses responses for clients that accept gzip,
// leaving WebSocket upgrades alone.
func gzipUnlessUpgrade(next http.Handler) http.Handler {
	gz := gzhttp.GzipHandler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		gz.ServeHTTP(w, r)
	})
}

// recoverHTTP turns a panic in a non-GraphQL handler into a 500 with a
// GraphQL-shaped INTERNAL error (when nothing was written yet), logged once
// with its stack. gqlgen recovers panics of /graphql itself.
func (s *Server) recoverHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			ctx := r.Context()
			s.log.ErrorContext(ctx, "http: panic recovered",
				"request_id", RequestID(ctx),
				"method", r.Method,
				"path", r.URL.Path,
				"panic", fmt.Sprint(v),
				"stack", string(debug.Stack()),
			)
			s.metrics.panics.Inc()
			if rec, ok := w.(interface{ written() bool }); ok && rec.written() {
				return
			}
			s.writeDomainError(w, r, http.StatusInternalServerError, thuvienso.ErrInternal)
		}()
		next.ServeHTTP(w, r)
	})
}

// writeDomainError answers a request outside gqlgen with one GraphQL error,
// presented like all others.
func (s *Server) writeDomainError(w http.ResponseWriter, r *http.Request, status int, err error) {
	gerr := s.presentError(r.Context(), err)
	if code, ok := gerr.Extensions["code"].(string); ok {
		s.metrics.countError(thuvienso.Code(code))
	}
	gerr.Err = nil
	writeResponse(w, responseMediaType(r), status, graphqlErrors(gerr))
}

// authenticate calls Options.Authenticate for a request with an
// Authorization header. Without the header the request is anonymous.
//
// A refused token answers 401 UNAUTHENTICATED (with WWW-Authenticate), with
// the hook's message when it returned a *thuvienso.Error; the hook may
// instead return FORBIDDEN (403, e.g. a blocked account), RATE_LIMITED (429),
// SERVICE_UNAVAILABLE (503) or INTERNAL (500), which are kept, so that an
// outage of the key store does not make clients throw their tokens away.
// Any other error counts as an invalid token.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Language, Authorization")
		header := r.Header.Get("Authorization")
		if header == "" || s.opts.Authenticate == nil {
			next.ServeHTTP(w, r)
			return
		}
		token, ok := bearerToken(header)
		if !ok {
			s.refuse(w, r, thuvienso.E(thuvienso.CodeUnauthenticated,
				`the Authorization header must be "Bearer <access token>"`,
				`header Authorization phải có dạng "Bearer <access token>"`))
			return
		}
		ctx, err := s.opts.Authenticate(r.Context(), token)
		if err != nil {
			s.refuse(w, r, err)
			return
		}
		if ctx == nil {
			ctx = r.Context()
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	shown := unauthenticatedError(err)
	status := http.StatusUnauthorized
	switch shown.Code {
	case thuvienso.CodeForbidden:
		status = http.StatusForbidden
	case thuvienso.CodeRateLimited:
		status = http.StatusTooManyRequests
	case thuvienso.CodeServiceUnhealthy:
		status = http.StatusServiceUnavailable
	case thuvienso.CodeInternal:
		status = http.StatusInternalServerError
	default:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "authentication refused",
		"request_id", RequestID(r.Context()), "status", status, "err", err.Error())
	s.writeDomainError(w, r, status, shown)
}

// unauthenticatedError is the error a client sees for a refused token.
func unauthenticatedError(err error) *thuvienso.Error {
	if de, ok := errors.AsType[*thuvienso.Error](err); ok {
		switch de.Code {
		case thuvienso.CodeUnauthenticated, thuvienso.CodeForbidden, thuvienso.CodeRateLimited,
			thuvienso.CodeServiceUnhealthy, thuvienso.CodeInternal:
			return de
		}
	}
	return thuvienso.ErrUnauthenticated
}

// bearerToken extracts the token of "Bearer <token>" (scheme case-insensitive).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// requestInfo is filled in while a request is served, for its access log line.
type requestInfo struct {
	mu            sync.Mutex
	operation     string
	operationType string
}

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return ri
}

// setOperation records the first operation of the request (a WebSocket
// runs many; its log line names the first).
func (ri *requestInfo) setOperation(name, typ string) {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	if ri.operationType == "" {
		ri.operation, ri.operationType = name, typ
	}
}

func (ri *requestInfo) get() (string, string) {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	return ri.operation, ri.operationType
}

// accessLog writes one structured line per request and keeps the HTTP
// metrics. Probes, metrics scrapes and static assets are logged at Debug.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{}
		ctx := context.WithValue(r.Context(), requestInfoKey{}, ri)
		rec := &statusRecorder{ResponseWriter: w}

		s.metrics.httpInFlight.Inc()
		defer s.metrics.httpInFlight.Dec()
		next.ServeHTTP(rec, r.WithContext(ctx))

		elapsed := time.Since(start)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		route := routeLabel(r.URL.Path)
		s.metrics.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		if status != http.StatusSwitchingProtocols {
			s.metrics.httpDuration.WithLabelValues(route).Observe(elapsed.Seconds())
		}

		level := slog.LevelInfo
		switch route {
		case "healthz", "readyz", "metrics", "graphiql_assets":
			level = slog.LevelDebug
		}
		if !s.log.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.Int64("bytes", rec.bytes),
			slog.String("request_id", RequestID(r.Context())),
		}
		if op, typ := ri.get(); typ != "" {
			attrs = append(attrs, slog.String("operation", op), slog.String("operation_type", typ))
		}
		s.log.LogAttrs(ctx, level, "http request", attrs...)
	})
}

// statusRecorder remembers the status and size of a response. It unwraps
// (for http.ResponseController and coder/websocket) and hijacks.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *statusRecorder) written() bool { return r.status != 0 }

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush implements http.Flusher.
func (r *statusRecorder) Flush() {
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker (WebSocket upgrades).
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil && r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}
