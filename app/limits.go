package app

import (
	"context"
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/config"
	"github.com/bacninh/thuvienso/ratelimit"
	"github.com/bacninh/thuvienso/server"
)

// fieldCosts are the fields that cost more than their objects in the
// complexity limit (see server.Options.FieldCosts): search facets count
// every matching work, not just the page.
var fieldCosts = map[string]int{
	"SearchConnection.facets": 20,
}

// apiRateLimit is the per-reader and per-IP limit of GraphQL operations,
// counted by the App's limiter (Redis when configured, so that it holds
// across instances; in-process while Redis is down). Login failures have
// their own, stricter limits in auth.
func (a *App) apiRateLimit() *server.RateLimit {
	cfg := a.Config
	return &server.RateLimit{
		Limiter:      a.Limiter,
		PerAccount:   perSecond(cfg.RateLimitReader, cfg.RateLimitReaderBurst),
		PerIP:        perSecond(cfg.RateLimitIP, cfg.RateLimitIPBurst),
		MutationCost: cfg.RateLimitMutationCost,
		Account: func(ctx context.Context) string {
			actor, _ := auth.ActorFrom(ctx)
			return actor.AccountID
		},
	}
}

// perSecond is the limit of rate events per second with burst at once; a
// zero Limit (no limit) for a rate of 0.
func perSecond(rate float64, burst int) ratelimit.Limit {
	if rate <= 0 || burst <= 0 {
		return ratelimit.Limit{}
	}
	return ratelimit.Limit{Burst: burst, Period: time.Duration(float64(burst) / rate * float64(time.Second))}
}

// loadPersistedOperations reads the allow-list of operations when the
// configuration asks for it (nil otherwise).
func loadPersistedOperations(cfg *config.Config) (*server.PersistedOperations, error) {
	if !cfg.PersistedOperationsOnly {
		return nil, nil
	}
	return server.LoadPersistedOperations(cfg.PersistedOperationsFile)
}

// withTokenExpiry tells the server when the actor's access token expires,
// so that a WebSocket opened with it closes then. The token's expiry is by
// the auth service's clock (which tests may move); the server's timer runs
// on the wall clock, so what is passed on is the time left.
func (a *App) withTokenExpiry(ctx context.Context, actor auth.Actor) context.Context {
	if actor.ExpiresAt.IsZero() {
		return ctx
	}
	now := time.Now
	if a.Auth.Now != nil {
		now = a.Auth.Now
	}
	return server.WithCredentialsExpiry(ctx, time.Now().Add(actor.ExpiresAt.Sub(now())))
}
