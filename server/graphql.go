package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"

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
		Implementation: transport.CoderWebsocketImplementation{
			AcceptOptions: coderws.AcceptOptions{OriginPatterns: originHostPatterns(s.opts.CORSOrigins)},
		},
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
	if s.opts.APQCache != nil {
		h.Use(extension.AutomaticPersistedQuery{Cache: s.opts.APQCache})
	}
	// Cheap structural checks first, then the complexity score.
	h.Use(&operationLimits{maxDepth: s.opts.MaxDepth, introspection: s.opts.Introspection})
	h.Use(&complexityLimit{inner: extension.FixedComplexityLimit(s.opts.MaxComplexity)})
	h.Use(&observer{s: s})
	for _, ext := range s.opts.Extensions {
		h.Use(ext)
	}
	return h
}

// graphqlRoute is /graphql: CORS, then the timeout, then authentication,
// then Options.Middleware, then gqlgen.
func (s *Server) graphqlRoute() http.Handler {
	var h http.Handler = s.gql
	for i := len(s.opts.Middleware) - 1; i >= 0; i-- {
		h = s.opts.Middleware[i](h)
	}
	h = s.authenticate(h)
	h = s.withTimeout(h)
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
func (s *Server) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
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
