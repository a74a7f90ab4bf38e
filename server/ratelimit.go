package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/ratelimit"
)

// RateLimit limits how many GraphQL operations one caller may run: every
// query and mutation over HTTP, and every operation a WebSocket connection
// subscribes to, counts once (a mutation MutationCost times) against its
// caller's account when the request is authenticated, else against its IP
// address. A refused operation is not run: it gets a RATE_LIMITED error
// whose extensions.retryAfter (and Retry-After header) says how many seconds
// to wait; over HTTP its status is 429 when the client accepts
// application/graphql-response+json and 200 with application/json, as
// GraphQL-over-HTTP asks. Requests that fail before they are an operation
// (malformed JSON, parse errors) are not counted: the body size and parser
// token limits bound their cost.
type RateLimit struct {
	// Limiter counts the operations: the Redis one when several instances
	// run, so that a limit holds across them.
	Limiter ratelimit.Limiter
	// PerAccount limits an authenticated caller; a zero Burst means no limit.
	PerAccount ratelimit.Limit
	// PerIP limits anonymous callers by IP address (IPv6 by /64 network,
	// which one subscriber usually holds whole); a zero Burst means no limit.
	PerIP ratelimit.Limit
	// MutationCost is how many operations a mutation counts as (default 1;
	// at most the limit's Burst).
	MutationCost int
	// Account returns the account the request is authenticated as, "" for
	// an anonymous request. Nil: every request counts against its IP.
	Account func(ctx context.Context) string
}

// rateLimiter is the handler extension that applies a RateLimit, after
// validation (so that the operation type is known) and before the depth,
// alias and complexity checks (so that refused operations count too).
type rateLimiter struct {
	cfg RateLimit
	log *slog.Logger
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*rateLimiter)(nil)

// ExtensionName implements graphql.HandlerExtension.
func (*rateLimiter) ExtensionName() string { return "ThuvienSoRateLimit" }

// Validate implements graphql.HandlerExtension.
func (l *rateLimiter) Validate(graphql.ExecutableSchema) error {
	if l.cfg.Limiter == nil {
		return fmt.Errorf("server: RateLimit.Limiter is nil")
	}
	for _, lim := range []ratelimit.Limit{l.cfg.PerAccount, l.cfg.PerIP} {
		if lim.Burst != 0 {
			if err := lim.Validate(); err != nil {
				return fmt.Errorf("server: rate limit: %w", err)
			}
		}
	}
	return nil
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (l *rateLimiter) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	cost := 1
	if opCtx.Operation != nil && opCtx.Operation.Operation == ast.Mutation && l.cfg.MutationCost > 1 {
		cost = l.cfg.MutationCost
	}
	return l.allow(ctx, cost)
}

// allow counts an operation of the given cost against the caller's limit
// and returns the RATE_LIMITED error when the limit is reached.
func (l *rateLimiter) allow(ctx context.Context, cost int) *gqlerror.Error {
	key, lim := l.keyFor(ctx)
	if key == "" || lim.Burst == 0 {
		return nil
	}
	cost = min(cost, lim.Burst)
	d, err := l.cfg.Limiter.AllowN(ctx, key, lim, cost)
	if err != nil {
		// The limiter falls back to memory by itself; an error here is a
		// bug or a cancelled request, and must not lock everyone out.
		l.log.WarnContext(ctx, "graphql rate limit unavailable", "request_id", RequestID(ctx), "err", err)
		return nil
	}
	if d.Allowed {
		return nil
	}
	secs := max(1, int((d.RetryAfter+time.Second-1)/time.Second))
	l.log.DebugContext(ctx, "graphql rate limit reached", "request_id", RequestID(ctx), "key", key, "retry_after_s", secs)
	return &gqlerror.Error{
		Message: "too many requests",
		Err: &thuvienso.Error{
			Code:              thuvienso.CodeRateLimited,
			RetryAfterSeconds: secs,
			EN:                fmt.Sprintf("too many requests; try again in %d seconds", secs),
			VI:                fmt.Sprintf("Quá nhiều yêu cầu; vui lòng thử lại sau %d giây", secs),
		},
		Extensions: map[string]any{"code": string(thuvienso.CodeRateLimited)},
	}
}

// keyFor returns the limiter key of the caller and the limit that applies.
func (l *rateLimiter) keyFor(ctx context.Context) (string, ratelimit.Limit) {
	if l.cfg.Account != nil {
		if id := l.cfg.Account(ctx); id != "" {
			return "api:acct:" + id, l.cfg.PerAccount
		}
	}
	if ip := ClientIP(ctx); ip != "" {
		return "api:ip:" + ip, l.cfg.PerIP
	}
	return "", ratelimit.Limit{}
}

type clientIPKey struct{}

// ClientIP returns the address the request came from, as rate limits count
// it: the IP of the TCP peer, an IPv6 address reduced to its /64 network.
// Behind a reverse proxy listed in Options.TrustedProxies it is the
// client's address the proxy forwarded; behind any other proxy, the
// proxy's, whose clients then share one allowance. "" outside a /graphql
// request.
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// withClientIP puts the request's ClientIP in its context (a WebSocket's
// operations inherit it from the upgrade request).
func withClientIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey{}, clientIP(r.RemoteAddr))))
	})
}

func clientIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, err := addr.WithZone("").Prefix(64)
		if err == nil {
			return p.String()
		}
	}
	return addr.String()
}
