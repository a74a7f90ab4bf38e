package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/bacninh/thuvienso"
)

// newGraphQLHandler configures gqlgen: transports, caches, limits, the error
// presenter and the recover function.
func (s *Server) newGraphQLHandler() *handler.Server {
	h := handler.New(s.opts.Schema)

	maxWS := s.opts.MaxBodyBytes
	h.AddTransport(transport.Websocket{
		Implementation: sessionWebsocket{transport.CoderWebsocketImplementation{
			AcceptOptions: coderws.AcceptOptions{OriginPatterns: originHostPatterns(s.opts.CORSOrigins)},
		}},
		KeepAlivePingInterval: s.opts.WebsocketKeepAlive,
		InitTimeout:           s.opts.WebsocketInitTimeout,
		InitFunc:              s.websocketInit,
		ErrorFunc: func(ctx context.Context, err error) {
			s.log.DebugContext(ctx, "websocket error", "request_id", RequestID(ctx), "err", err)
		},
		PayloadReadLimit: &maxWS,
	})
	// Our own HTTP transports rather than gqlgen's POST and GET: see
	// transport.go for what they do differently.
	h.AddTransport(postTransport{s: s})
	h.AddTransport(getTransport{s: s})
	h.AddTransport(unsupportedTransport{s: s})

	h.SetQueryCache(lru.New[*ast.QueryDocument](s.opts.QueryCacheSize))
	h.SetParserTokenLimit(s.opts.ParserTokenLimit)
	h.SetDisableSuggestion(!s.opts.Introspection)
	h.SetErrorPresenter(s.presentError)
	h.SetRecoverFunc(s.recoverPanic)

	if s.opts.Introspection {
		h.Use(extension.Introspection{})
	}
	// The allow-list before APQ, so that APQ neither serves nor registers
	// an operation that is not listed.
	if s.opts.PersistedOperations != nil {
		h.Use(&allowList{ops: s.opts.PersistedOperations, apq: s.opts.APQCache != nil})
	}
	if s.opts.APQCache != nil {
		h.Use(extension.AutomaticPersistedQuery{Cache: s.opts.APQCache})
	}
	// Rate limits first, so that refused operations count too; then cheap
	// structural checks; then the complexity score.
	if s.opts.ResponseCache != nil {
		h.Use(cacheableMarker{})
	}
	if s.limiter != nil {
		h.Use(s.limiter)
	}
	h.Use(&operationLimits{maxDepth: s.opts.MaxDepth, maxAliases: s.opts.MaxAliases, introspection: s.opts.Introspection})
	h.Use(newComplexityLimit(s.opts.MaxComplexity, listCost{maxPage: s.opts.MaxPageSize, fieldCosts: s.opts.FieldCosts}))
	h.Use(&observer{s: s})
	for _, ext := range s.opts.Extensions {
		h.Use(ext)
	}
	return h
}

// graphqlRoute is /graphql: CORS, then the timeout, then authentication,
// then the response cache, then Options.Middleware, then gqlgen.
func (s *Server) graphqlRoute() http.Handler {
	var h http.Handler = s.gql
	for i := len(s.opts.Middleware) - 1; i >= 0; i-- {
		h = s.opts.Middleware[i](h)
	}
	h = s.admit(h)
	h = s.cacheResponses(h)
	h = s.authenticate(h)
	h = s.withTimeout(h)
	h = withClientIP(h)
	if len(s.opts.CORSOrigins) > 0 {
		h = cors.New(cors.Options{
			AllowedOrigins:   s.opts.CORSOrigins,
			AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
			AllowedHeaders:   []string{"Authorization", "Content-Type", "Accept", "Accept-Language", "X-Request-ID"},
			ExposedHeaders:   []string{"X-Request-ID", "Retry-After"},
			AllowCredentials: false, // bearer tokens, no cookies
			MaxAge:           600,
		}).Handler(h)
	}
	return h
}

// withTimeout bounds the context of a plain HTTP request; a WebSocket
// instead ends when the server starts shutting down.
func (s *Server) withTimeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isUpgrade(r) {
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			stop := context.AfterFunc(s.closing, cancel)
			defer stop()
			sess := &wsSession{}
			defer sess.end()
			ctx = context.WithValue(ctx, wsSessionKey{}, sess)
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// websocketInit authenticates a graphql-transport-ws connection from its
// connection_init payload: "authToken" (a bare token) or "Authorization"
// ("Bearer …"). No token: the connection keeps the context of its HTTP
// upgrade request (anonymous, or authenticated by an Authorization header).
// Credentials with an expiry (WithCredentialsExpiry) end the connection
// when they expire.
func (s *Server) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	actx, ack, err := s.websocketAuthenticate(ctx, payload)
	if err != nil {
		return actx, ack, err
	}
	if exp, ok := CredentialsExpiry(actx); ok {
		if !time.Now().Before(exp) {
			s.log.InfoContext(ctx, "websocket authentication refused", "request_id", RequestID(ctx), "err", "access token expired")
			s.metrics.countError(thuvienso.CodeUnauthenticated)
			return wsRefuse(ctx), nil, errTokenExpired
		}
		if sess, _ := ctx.Value(wsSessionKey{}).(*wsSession); sess != nil {
			sess.expireAt(exp, func() {
				s.log.InfoContext(ctx, "websocket closed: access token expired", "request_id", RequestID(ctx))
			})
		}
	}
	return actx, ack, nil
}

var errTokenExpired = thuvienso.E(thuvienso.CodeUnauthenticated,
	"the access token has expired; refresh it and connect again",
	"mã truy cập đã hết hạn; hãy làm mới mã và kết nối lại")

func (s *Server) websocketAuthenticate(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	token := strings.TrimSpace(payload.GetString("authToken"))
	if token == "" {
		if v := strings.TrimSpace(payload.Authorization()); v != "" {
			t, ok := bearerToken(v)
			if !ok {
				return wsRefuse(ctx), nil, thuvienso.ErrUnauthenticated
			}
			token = t
		}
	}
	if token == "" || s.opts.Authenticate == nil {
		return ctx, nil, nil
	}
	actx, err := s.opts.Authenticate(ctx, token)
	if err != nil {
		s.log.InfoContext(ctx, "websocket authentication refused", "request_id", RequestID(ctx), "err", err)
		s.metrics.countError(thuvienso.CodeUnauthenticated)
		return wsRefuse(ctx), nil, unauthenticatedError(err)
	}
	if actx == nil {
		actx = ctx
	}
	return actx, nil, nil
}

// wsRefuse marks ctx so that gqlgen closes the socket with 4403 Forbidden,
// the graphql-transport-ws code for a refused connection_init.
func wsRefuse(ctx context.Context) context.Context {
	ctx = transport.WithWebsocketCloseCode(ctx, 4403)
	return transport.AppendCloseReason(ctx, "Forbidden")
}

// originHostPatterns turns CORS origins ("https://a.example.vn") into the
// host patterns coder/websocket checks the Origin header against.
func originHostPatterns(origins []string) []string {
	var out []string
	for _, o := range origins {
		if o == "*" {
			out = append(out, "*")
			continue
		}
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			out = append(out, u.Host)
		} else {
			out = append(out, o)
		}
	}
	return out
}

func isUpgrade(r *http.Request) bool {
	return r.Header.Get("Upgrade") != ""
}

type credentialsExpiryKey struct{}

// WithCredentialsExpiry marks ctx — the context an AuthenticateFunc
// returns — with the time, by the wall clock, when the credentials it
// accepted stop being valid (an access token's expiry). A WebSocket
// connection authenticated with them is closed at that time with code 4403
// and the reason "Forbidden: access token expired": a graphql-ws client
// reconnects after a 4403, with a fresh token when its connectionParams is
// a function, and subscribes again. HTTP requests, which are short, ignore it.
func WithCredentialsExpiry(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, credentialsExpiryKey{}, t)
}

// CredentialsExpiry returns the time WithCredentialsExpiry put in ctx.
func CredentialsExpiry(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(credentialsExpiryKey{}).(time.Time)
	return t, ok && !t.IsZero()
}

// closeTokenExpired is the graphql-transport-ws close of a connection whose
// credentials expired: 4403 Forbidden, the code of a refused
// connection_init, on which graphql-ws clients retry.
const (
	closeTokenExpired       = 4403
	closeTokenExpiredReason = "Forbidden: access token expired"
)

type wsSessionKey struct{}

// wsSession is one WebSocket connection as the server tracks it beside
// gqlgen: its connection (once accepted) and the timer that closes it when
// its credentials expire.
type wsSession struct {
	mu    sync.Mutex
	conn  transport.WebsocketConn
	timer *time.Timer
	ended bool
}

// expireAt closes the connection at exp (calling logClose first), unless
// it ends before.
func (ws *wsSession) expireAt(exp time.Time, logClose func()) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.ended {
		return
	}
	if ws.timer != nil {
		ws.timer.Stop()
	}
	ws.timer = time.AfterFunc(time.Until(exp), func() {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		if ws.ended || ws.conn == nil {
			return
		}
		logClose()
		// Sends the close frame; gqlgen's read loop then ends, and with
		// it the connection's context and every subscription on it.
		_ = ws.conn.WriteClose(closeTokenExpired, closeTokenExpiredReason)
	})
}

// end stops the expiry timer once the connection is over.
func (ws *wsSession) end() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.ended = true
	if ws.timer != nil {
		ws.timer.Stop()
	}
}

// sessionWebsocket is gqlgen's WebSocket implementation that also hands
// each accepted connection to its wsSession.
type sessionWebsocket struct {
	transport.WebsocketImplementation
}

// Accept implements transport.WebsocketImplementation.
func (sw sessionWebsocket) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := sw.WebsocketImplementation.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	if sess, _ := r.Context().Value(wsSessionKey{}).(*wsSession); sess != nil {
		sess.mu.Lock()
		sess.conn = conn
		sess.mu.Unlock()
	}
	return conn, nil
}
