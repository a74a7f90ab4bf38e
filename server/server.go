// Package server owns the HTTP side of the Thư viện số API, generic over the
// GraphQL executable schema that gqlgen generates into graph/.
//
// It serves:
//
//   - /graphql: queries and mutations over POST and GET (GET: queries only),
//     subscriptions over WebSocket (graphql-transport-ws), with the limits a
//     public API needs (body size, parser tokens, depth, aliases, complexity
//     with lists costing their page size, time, one operation per request,
//     rate limits per account and per IP, an optional allow-list of
//     operations; WebSockets end when their access token expires) and the
//     ONE error presenter that turns any error into a GraphQL error with
//     extensions.code, extensions.field, extensions.retryAfter and a message in
//     the request's language;
//   - / and /graphiql: GraphiQL, with every asset embedded in the binary;
//   - /healthz, /readyz and /metrics (Prometheus, on the server's own registry).
//
// Every route goes through the same middleware: request id (X-Request-ID),
// Accept-Language → locale, security headers, gzip, panic recovery and a
// structured access log. /graphql adds CORS, the per-request timeout and
// bearer-token authentication through Options.Authenticate.
//
// Wiring, in cmd:
//
//	srv := server.New(server.Options{
//		Schema:          graph.NewExecutableSchema(graph.Config{Resolvers: r}),
//		Authenticate:    authn.Authenticate, // func(ctx, token) (ctx, error)
//		ReadinessChecks: []server.Check{{Name: "store", Critical: true, Check: st.Ping}},
//		Introspection:   true,
//	})
//	err := srv.ListenAndServe(ctx, ":8080") // returns when ctx ends, after a graceful shutdown
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for the zero values of Options.
const (
	DefaultMaxBodyBytes         int64 = 1 << 20 // 1 MiB
	DefaultMaxDepth                   = 12
	DefaultMaxComplexity              = 1000
	DefaultMaxAliases                 = 30
	DefaultMaxPageSize                = 100
	DefaultParserTokenLimit           = 15000
	DefaultRequestTimeout             = 30 * time.Second
	DefaultQueryCacheSize             = 1000
	DefaultShutdownTimeout            = 15 * time.Second
	DefaultReadinessTimeout           = 3 * time.Second
	DefaultWebsocketKeepAlive         = 10 * time.Second
	DefaultWebsocketInitTimeout       = 10 * time.Second
)

// AuthenticateFunc checks a bearer token and returns the context the request
// then runs in (typically carrying the authenticated user). It is called for
// every HTTP request with an "Authorization: Bearer …" header and for every
// WebSocket connection whose connection_init payload carries "authToken" or
// "Authorization". Returning an error refuses the request: HTTP answers 401
// with a GraphQL error of code UNAUTHENTICATED (see Server docs for the
// exceptions), WebSocket closes with 4403.
type AuthenticateFunc func(ctx context.Context, bearerToken string) (context.Context, error)

// Check is one readiness check of /readyz.
type Check struct {
	// Name is the key of the check in the /readyz answer, e.g. "store".
	Name string
	// Critical checks make /readyz answer 503 when they fail (the store);
	// a failing non-critical check (Redis) makes it answer 200 "degraded".
	Critical bool
	// Check returns nil when the dependency is usable. It gets a context
	// bounded by Options.ReadinessTimeout.
	Check func(ctx context.Context) error
}

// Options configures a Server. Only Schema is required; every zero value
// has a safe default.
type Options struct {
	// Schema is the executable schema, e.g.
	// graph.NewExecutableSchema(graph.Config{Resolvers: …}).
	Schema graphql.ExecutableSchema

	// Authenticate checks bearer tokens; nil means every request is anonymous
	// and Authorization headers are ignored.
	Authenticate AuthenticateFunc

	// ReadinessChecks are run, concurrently, by every GET /readyz.
	ReadinessChecks []Check

	// CORSOrigins lists the origins (e.g. "https://thuvien.bacninh.gov.vn",
	// wildcards like "https://*.bacninh.gov.vn" allowed) that browsers may
	// call /graphql from, and open a WebSocket from. Empty: same origin only.
	CORSOrigins []string

	// Introspection enables __schema and __type queries (and the field
	// suggestions of validation errors). Off by default: turn it on for
	// development and wherever GraphiQL should show the schema.
	Introspection bool

	// DisableGraphiQL removes the GraphiQL page and its assets.
	DisableGraphiQL bool

	// MaxBodyBytes limits a POST body (default 1 MiB); it is also the
	// WebSocket message size limit.
	MaxBodyBytes int64
	// MaxDepth limits the nesting depth of an operation's selections,
	// fragments included, introspection excluded (default 12).
	MaxDepth int
	// MaxComplexity limits the cost of an operation (default 1000): a field
	// with a `first` argument costs its page size times its selections, an
	// object 1, a scalar nothing (see listCost).
	MaxComplexity int
	// MaxAliases limits the aliased fields of an operation (default 30).
	MaxAliases int
	// MaxPageSize is the largest `first` the complexity limit multiplies by
	// (default 100, the schema's page size limit).
	MaxPageSize int
	// FieldCosts sets the base cost of chosen fields, by "Type.field"
	// (e.g. "SearchConnection.facets": 20), instead of 1.
	FieldCosts map[string]int
	// ParserTokenLimit limits the number of tokens of a query document
	// (default 15000).
	ParserTokenLimit int
	// RequestTimeout bounds one HTTP request to /graphql: the context of its
	// resolvers and the reading of its body (default 30 s). WebSocket
	// connections are not bounded by it.
	RequestTimeout time.Duration
	// QueryCacheSize is the number of parsed and validated query documents
	// kept in the LRU cache (default 1000).
	QueryCacheSize int
	// APQCache, when set, enables automatic persisted queries (the client
	// may send only the sha256 of a query it sent before) with that cache —
	// e.g. the Redis one when several instances run.
	APQCache graphql.Cache[string]

	// MaxConcurrentOperations bounds the GraphQL operations over HTTP that
	// run at once; the others wait in arrival order (see admission). 0: no
	// bound.
	MaxConcurrentOperations int

	// RateLimit, when set, limits the operations per account and per IP.
	RateLimit *RateLimit
	// ResponseCache, when set, answers repeated anonymous queries with the
	// response stored the first time (see ResponseCache).
	ResponseCache *ResponseCache
	// PersistedOperations, when set, is the allow-list of the operations
	// the server runs (production mode); every other one is refused.
	PersistedOperations *PersistedOperations

	// Extensions are added to the gqlgen handler after the server's own
	// (limits, metrics): dataloaders, rate limits, tracing, …
	Extensions []graphql.HandlerExtension
	// Middleware wraps the /graphql handler, inside authentication (so the
	// context already holds the user) and the timeout. Applied in order: the
	// first one is the outermost.
	Middleware []func(http.Handler) http.Handler
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (see realClient); none: the TCP peer is the client.
	TrustedProxies []netip.Prefix

	// Logger receives the access log and error reports; slog.Default() when nil.
	Logger *slog.Logger
	// Registry is the Prometheus registry /metrics serves; a new one (with
	// the Go and process collectors) when nil. See Server.Registry.
	Registry *prometheus.Registry

	// ShutdownTimeout bounds the graceful shutdown of ListenAndServe
	// (default 15 s).
	ShutdownTimeout time.Duration
	// ReadinessTimeout bounds each readiness check (default 3 s).
	ReadinessTimeout time.Duration
	// WebsocketKeepAlive is the interval of graphql-transport-ws keep-alive
	// pings (default 10 s).
	WebsocketKeepAlive time.Duration
	// WebsocketInitTimeout is how long a new WebSocket may take to send
	// connection_init (default 10 s).
	WebsocketInitTimeout time.Duration
}

func (o *Options) setDefaults() {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxComplexity <= 0 {
		o.MaxComplexity = DefaultMaxComplexity
	}
	if o.MaxAliases <= 0 {
		o.MaxAliases = DefaultMaxAliases
	}
	if o.MaxPageSize <= 0 {
		o.MaxPageSize = DefaultMaxPageSize
	}
	if o.ParserTokenLimit <= 0 {
		o.ParserTokenLimit = DefaultParserTokenLimit
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.QueryCacheSize <= 0 {
		o.QueryCacheSize = DefaultQueryCacheSize
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.ReadinessTimeout <= 0 {
		o.ReadinessTimeout = DefaultReadinessTimeout
	}
	if o.WebsocketKeepAlive <= 0 {
		o.WebsocketKeepAlive = DefaultWebsocketKeepAlive
	}
	if o.WebsocketInitTimeout <= 0 {
		o.WebsocketInitTimeout = DefaultWebsocketInitTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Server is the HTTP handler of the API. Build it with New; serve it with
// ListenAndServe or Serve, or mount it anywhere as an http.Handler.
type Server struct {
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	handler http.Handler
	gql     *handler.Server
	metrics *metrics
	// admission is nil when operations are not bounded.
	admission *admission

	// closing ends when a graceful shutdown starts; WebSocket connections
	// end then, since http.Server.Shutdown does not wait for (or close)
	// hijacked connections.
	closing      context.Context
	startClosing context.CancelFunc

	// limiter applies Options.RateLimit (nil without one), to operations
	// and to the response cache's hits alike.
	limiter *rateLimiter

	mu        sync.Mutex
	addr      net.Addr
	listening chan struct{}
}

// New builds a Server. It panics when opts.Schema is nil, since nothing can
// be served without one.
func New(opts Options) *Server {
	if opts.Schema == nil {
		panic("server.New: Options.Schema is nil")
	}
	opts.setDefaults()
	s := &Server{
		opts:      opts,
		log:       opts.Logger,
		mux:       http.NewServeMux(),
		listening: make(chan struct{}),
	}
	s.closing, s.startClosing = context.WithCancel(context.Background())
	s.metrics = newMetrics(opts.Registry)
	if s.admission = newAdmission(opts.MaxConcurrentOperations); s.admission != nil {
		s.metrics.watchAdmission(s.admission)
	}
	if opts.RateLimit != nil {
		s.limiter = &rateLimiter{cfg: *opts.RateLimit, log: s.log}
	}
	s.gql = s.newGraphQLHandler()

	s.mux.Handle("/graphql", s.graphqlRoute())
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", s.metrics.handler())
	if !opts.DisableGraphiQL {
		s.mountGraphiQL()
	}

	var h http.Handler = s.mux
	h = gzipUnlessUpgrade(h)
	h = securityHeaders(h)
	h = s.recoverHTTP(h)
	h = withLocale(h)
	h = s.accessLog(h)
	h = withRequestID(h)
	h = realClient(opts.TrustedProxies, h)
	s.handler = h
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Handle mounts another handler (e.g. "GET /.well-known/jwks.json") behind
// the server's common middleware: request id, locale, security headers,
// gzip, recovery and access log. The pattern syntax is http.ServeMux's.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
}

// ResponseCache returns Options.ResponseCache (nil when there is none).
func (s *Server) ResponseCache() *ResponseCache { return s.opts.ResponseCache }

// Registry returns the Prometheus registry that /metrics serves, so that
// other packages can register their collectors (cache hit ratio, …).
func (s *Server) Registry() *prometheus.Registry {
	return s.metrics.registry
}

// GraphQLHandler returns the configured gqlgen handler, for callers that
// need to add something gqlgen-specific after New (most should use
// Options.Extensions instead).
func (s *Server) GraphQLHandler() *handler.Server {
	return s.gql
}

// ListenAndServe listens on addr (":8080", or "127.0.0.1:0" for a free
// port: see Addr) and serves until ctx ends, then shuts down gracefully
// within Options.ShutdownTimeout: new connections are refused, in-flight
// requests finish, WebSocket subscriptions are closed. It returns nil after
// a clean shutdown. Signal handling belongs to the caller (cmd).
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is ListenAndServe on a listener the caller opened. A Server is
// served once: after its shutdown, WebSocket connections end at once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		// Whole-request read bound (body included); hijacked WebSocket
		// connections have their deadlines cleared by net/http.
		ReadTimeout:    s.opts.RequestTimeout,
		WriteTimeout:   s.opts.RequestTimeout + 10*time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(s.startClosing)

	s.mu.Lock()
	s.addr = ln.Addr()
	s.mu.Unlock()
	select {
	case <-s.listening:
	default:
		close(s.listening)
	}
	s.log.Info("http server listening", "addr", ln.Addr().String())

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	select {
	case err := <-errc:
		s.startClosing()
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("server: serve: %w", err)
	case <-ctx.Done():
	}

	s.log.Info("http server shutting down", "timeout", s.opts.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-errc
	if err != nil {
		_ = hs.Close()
		return fmt.Errorf("server: graceful shutdown: %w", err)
	}
	s.log.Info("http server stopped")
	return nil
}

// Addr returns the address the server listens on, once ListenAndServe or
// Serve has bound it (nil before). With ":0" it tells the port chosen.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Listening returns a channel that is closed once the server has bound its
// address; Addr is set from then on.
func (s *Server) Listening() <-chan struct{} {
	return s.listening
}
