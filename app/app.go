// Package app assembles the service from its configuration: the store
// (embedded SQLite or MongoDB), the coordination backend (in-process or
// Redis), the signing keys, the domain services, the GraphQL server, and
// the demo province. cmd/thuvienso runs it; end-to-end tests start it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/cache"
	"github.com/bacninh/thuvienso/card/cardsvc"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/config"
	"github.com/bacninh/thuvienso/demo"
	"github.com/bacninh/thuvienso/ebooks"
	"github.com/bacninh/thuvienso/graph"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/lock"
	"github.com/bacninh/thuvienso/nonce"
	"github.com/bacninh/thuvienso/notifications"
	"github.com/bacninh/thuvienso/pubsub"
	"github.com/bacninh/thuvienso/ratelimit"
	"github.com/bacninh/thuvienso/redis"
	"github.com/bacninh/thuvienso/resolvers"
	"github.com/bacninh/thuvienso/search"
	"github.com/bacninh/thuvienso/server"
	"github.com/bacninh/thuvienso/signing"
	"github.com/bacninh/thuvienso/store"
)

// App is the assembled service.
type App struct {
	Config *config.Config
	Logger *slog.Logger
	Stores *store.Set
	// Redis is nil when running in-process.
	Redis *redis.Client

	Cache   cache.Cache
	Limiter ratelimit.Limiter
	Locker  lock.Locker
	Broker  pubsub.Broker

	// AccessKeys sign access tokens; they follow `thuvienso keys rotate`
	// made by any process sharing KEYS_DIR.
	AccessKeys *signing.Ring
	Auth       *auth.Service
	Libraries  *library.Service
	Catalog    *catalog.Service
	Index      *search.Index
	Searcher   *search.Cached
	Indexer    *search.Indexer
	Server     *server.Server
	// Ebooks lends e-books; EbookContent keeps their files.
	Ebooks       *ebooks.Service
	EbookContent *ebooks.FSContentStore

	// Cards is the digital library card (package card/cardsvc), for the
	// resolvers; CardKeys signs its codes; Nonces remembers the codes
	// verified online (Redis when configured).
	Cards    *cardsvc.Service
	CardKeys *cardsvc.KeyRing
	Nonces   nonce.Store

	// Notifications is the inbox, devices, preferences and pushes; its
	// dispatcher turns events and deadlines into notifications.
	Notifications          *notifications.Service
	NotificationDispatcher *notifications.Dispatcher

	// Circulation lends physical copies: holds, loans, transits (for the
	// resolvers).
	Circulation *circulation.Service

	// Demo is what seeding the demo province created; nil when it did not run.
	Demo *demo.Result

	closers []func(context.Context) error
	// indexBuilding is true while this instance builds its search index
	// from nothing (see startIndexing): /readyz answers 503 meanwhile.
	indexBuilding atomic.Bool
	// now is the clock of the time-driven domains (e-book loans end by it).
	now func() time.Time
}

// Option adjusts how New assembles the service.
type Option func(*App)

// WithClock makes the time-driven domains read the time from now, so that
// tests can move it instead of sleeping.
func WithClock(now func() time.Time) Option { return func(a *App) { a.now = now } }

// New builds the service described by cfg. On error everything opened so
// far is closed again.
func New(ctx context.Context, cfg *config.Config, logger *slog.Logger, opts ...Option) (_ *App, err error) {
	a := &App{Config: cfg, Logger: logger, now: time.Now}
	for _, o := range opts {
		o(a)
	}
	defer func() {
		if err != nil {
			_ = a.Close(context.WithoutCancel(ctx))
		}
	}()
	if err := a.openStore(ctx); err != nil {
		return nil, err
	}
	if err := a.openCoordination(ctx); err != nil {
		return nil, err
	}
	if err := a.cacheLibraries(ctx); err != nil {
		return nil, err
	}
	if a.AccessKeys, err = signing.LoadRing(filepath.Join(cfg.KeysDir, "access")); err != nil {
		return nil, fmt.Errorf("access token keys: %w", err)
	}
	a.Libraries = &library.Service{Store: a.Stores.Libraries}
	a.Auth = &auth.Service{Store: a.Stores.Auth, Libraries: a.Libraries, Keys: a.AccessKeys, Limiter: a.Limiter, Logger: logger}
	if err := a.openCatalog(); err != nil {
		return nil, err
	}
	if err := a.openEbooks(); err != nil {
		return nil, err
	}
	if err := a.openCards(); err != nil {
		return nil, err
	}
	if err := a.openNotifications(ctx); err != nil {
		return nil, err
	}
	if err := a.openCirculation(); err != nil {
		return nil, err
	}
	if err := a.seedDemo(ctx); err != nil {
		return nil, err
	}
	persisted, err := loadPersistedOperations(cfg)
	if err != nil {
		return nil, err
	}
	a.Server = a.newServer(persisted)
	a.registerCatalogMetrics(a.Server.Registry())
	a.registerStoreMetrics(a.Server.Registry())
	a.mountEbooks()
	a.mountCards()
	a.startIndexing()
	a.startEbookExpiry()
	a.startNotifications()
	a.startCirculationExpiry()
	return a, nil
}

func (a *App) openStore(ctx context.Context) error {
	s, err := OpenStore(ctx, a.Config, a.Logger)
	if err != nil {
		return err
	}
	a.Stores = s
	a.closers = append(a.closers, a.Stores.Close)
	return nil
}

// openCoordination picks Redis when configured, else the in-process
// implementations. Login limits fall back to memory while Redis is down.
func (a *App) openCoordination(ctx context.Context) error {
	memLimiter := ratelimit.NewMemory(100_000)
	if a.Config.RedisURL == "" {
		a.Cache, a.Limiter, a.Locker = cache.NewMemory(10_000), memLimiter, lock.NewMemory()
		broker := pubsub.NewMemory(64)
		a.Broker = broker
		a.closers = append(a.closers, func(context.Context) error { return broker.Close() })
		return nil
	}
	rc, err := redis.Open(ctx, a.Config.RedisURL, redis.WithLogger(a.Logger))
	if err != nil {
		return fmt.Errorf("open Redis: %w", err)
	}
	a.Redis = rc
	a.closers = append(a.closers, func(context.Context) error { return rc.Close() })
	a.Cache, a.Locker, a.Broker = rc.Cache(), rc.Locker(), rc.Broker()
	a.Limiter = ratelimit.Fallback(rc.Limiter(), memLimiter, a.Logger)
	return nil
}

// registerStoreMetrics exposes the store's database/sql connection pools
// on /metrics (go_sql_… by db_name, e.g. sqlite_write: how long requests
// waited for the one writer).
func (a *App) registerStoreMetrics(reg *prometheus.Registry) {
	for name, db := range a.Stores.SQLPools {
		reg.MustRegister(collectors.NewDBStatsCollector(db, a.Stores.Kind+"_"+name))
	}
}

// maxConcurrentOperations is MAX_CONCURRENT_OPERATIONS, 0 meaning 8 × the
// cores Go uses: enough to keep them busy while some operations wait (for
// the embedded store's writer, Redis, MongoDB), few enough that each runs
// at nearly full speed. On 2 cores under the load test's 50 clients, 16
// gave the lowest p99 of 4, 8, 12, 16, 24 and 32 (docs/PERFORMANCE.md).
func maxConcurrentOperations(configured int) int {
	if configured > 0 {
		return configured
	}
	return 8 * runtime.GOMAXPROCS(0)
}

// librariesTopic announces that a library was created or changed.
const librariesTopic = "libraries.changed"

// librarySnapshotTTL bounds how long an instance may keep a library that
// another instance changed when the announcement is lost (Redis down).
const librarySnapshotTTL = time.Minute

// cacheLibraries puts library.CachedStore in front of the libraries'
// store, for every domain; a change through any instance drops every
// instance's snapshot through the broker.
func (a *App) cacheLibraries(ctx context.Context) error {
	c := library.NewCachedStore(a.Stores.Libraries, librarySnapshotTTL)
	c.Changed = func(ctx context.Context) {
		if err := a.Broker.Publish(ctx, librariesTopic, nil); err != nil {
			a.Logger.Warn("announcing a library change", "err", err)
		}
	}
	subCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	msgs, err := a.Broker.Subscribe(subCtx, librariesTopic)
	if err != nil {
		cancel()
		return fmt.Errorf("subscribing to library changes: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range msgs {
			c.Invalidate()
		}
	}()
	a.closers = append(a.closers, func(context.Context) error { cancel(); <-done; return nil })
	a.Stores.Libraries = c
	return nil
}

func (a *App) seedDemo(ctx context.Context) error {
	switch a.Config.Demo {
	case "never":
		return nil
	case "auto":
		need, err := demo.NeedsSeed(ctx, a.Stores.Libraries)
		if err != nil || !need {
			return err
		}
	}
	res, err := demo.Seed(ctx, a.Stores.Libraries, a.Auth, a.Logger)
	if err != nil {
		return fmt.Errorf("seed demo province: %w", err)
	}
	a.Demo = res
	return nil
}

func (a *App) newServer(persisted *server.PersistedOperations) *server.Server {
	r := &resolvers.Resolver{AuthService: a.Auth, LibraryService: a.Libraries, CatalogService: a.Catalog, Searcher: a.Searcher,
		EbookService: a.Ebooks, CardService: a.Cards, NotificationService: a.Notifications,
		CirculationService: a.Circulation, Broker: a.Broker}
	checks := []server.Check{{Name: "store", Critical: true, Check: a.Stores.Ping}, {Name: "search", Critical: true, Check: a.searchReady}}
	if a.Redis != nil {
		checks = append(checks, server.Check{Name: "redis", Critical: false, Check: a.Redis.Ping})
	}
	return server.New(server.Options{
		Schema:                  graph.NewExecutableSchema(graph.Config{Resolvers: r}),
		Authenticate:            a.authenticate,
		ReadinessChecks:         checks,
		CORSOrigins:             a.Config.CORSOrigins,
		TrustedProxies:          a.Config.TrustedProxies,
		Introspection:           a.Config.Introspection,
		DisableGraphiQL:         !a.Config.GraphiQL,
		MaxDepth:                a.Config.MaxDepth,
		MaxComplexity:           a.Config.MaxComplexity,
		MaxConcurrentOperations: maxConcurrentOperations(a.Config.MaxConcurrentOperations),
		MaxAliases:              a.Config.MaxAliases,
		FieldCosts:              fieldCosts,
		RateLimit:               a.apiRateLimit(),
		PersistedOperations:     persisted,
		APQCache:                apqCache{a.Cache},
		ResponseCache:           a.responseCache(),
		Extensions:              []graphql.HandlerExtension{operationMiddleware(r.WithLoaders)},
		Middleware:              []func(http.Handler) http.Handler{clientMiddleware},
		Logger:                  a.Logger,
	})
}

// responseCache reuses query responses that do not depend on the caller for
// RESPONSE_CACHE_TTL, keyed by the search index's watermark: the catalogue
// change sequence, so that a checkout or an import is a miss as soon as this
// instance has indexed it. Nil when the TTL is 0.
func (a *App) responseCache() *server.ResponseCache {
	if a.Config.ResponseCacheTTL <= 0 {
		return nil
	}
	return &server.ResponseCache{
		Store: a.Cache,
		TTL:   a.Config.ResponseCacheTTL,
		// A reader's search or work page never consults who asks, so
		// readers share it; their loans, holds and card do, and are theirs.
		Viewer: func(ctx context.Context) (context.Context, server.ViewerReads) {
			return auth.WithActorReads(ctx)
		},
		Version: func(context.Context) (string, error) {
			w, err := a.Index.Watermark()
			return strconv.FormatInt(w, 10), err
		},
	}
}

// authenticate is the server's bearer-token hook.
func (a *App) authenticate(ctx context.Context, token string) (context.Context, error) {
	actor, err := a.Auth.Authenticate(ctx, token)
	if err != nil {
		return ctx, err
	}
	return a.withTokenExpiry(auth.WithActor(ctx, actor), actor), nil
}

// clientMiddleware records the caller's address for per-IP login limits:
// the TCP peer's, or the client's that a trusted reverse proxy forwarded
// (TRUSTED_PROXIES; the server rewrites RemoteAddr before this runs).
func clientMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		ctx := auth.WithClient(r.Context(), auth.Client{IP: host, UserAgent: r.UserAgent()})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Close releases everything New opened, newest first.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i](ctx))
	}
	a.closers = nil
	return errors.Join(errs...)
}

// operationMiddleware adapts a gqlgen operation middleware into a handler
// extension for server.Options.Extensions.
type operationMiddleware graphql.OperationMiddleware

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = operationMiddleware(nil)

// ExtensionName implements graphql.HandlerExtension.
func (operationMiddleware) ExtensionName() string { return "OperationMiddleware" }

// Validate implements graphql.HandlerExtension.
func (operationMiddleware) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation implements graphql.OperationInterceptor.
func (m operationMiddleware) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return m(ctx, next)
}

// apqCache stores automatic persisted queries in the shared cache, so a
// query registered on one instance is known to all.
type apqCache struct{ c cache.Cache }

// apqTTL keeps a persisted query for a day after it was last registered.
const apqTTL = 24 * time.Hour

// Get implements graphql.Cache.
func (p apqCache) Get(ctx context.Context, key string) (string, bool) {
	v, ok, err := p.c.Get(ctx, "apq:"+key)
	if err != nil || !ok {
		return "", false
	}
	return string(v), true
}

// Add implements graphql.Cache.
func (p apqCache) Add(ctx context.Context, key, value string) {
	_ = p.c.Set(ctx, "apq:"+key, []byte(value), apqTTL)
}
