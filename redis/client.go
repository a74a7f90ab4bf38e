// Package redis owns the Redis-backed implementations of the coordination
// interfaces: cache.Cache, ratelimit.Limiter, lock.Locker and pubsub.Broker,
// all sharing one go-redis client (REDIS_URL). They are what several server
// instances share; a single instance uses the in-process implementations in
// the interfaces' own packages instead.
//
// Redis is never the only copy of anything that matters, and an outage must
// not take the API down:
//   - timeouts are short (dial 300 ms, read and write 500 ms, one dial
//     attempt, no command retry), so a dead Redis fails each call within
//     about half a second (tens of milliseconds when the port refuses
//     connections, as after a crash);
//   - callers treat cache errors as misses and carry on uncached;
//   - the rate limiter is wrapped in ratelimit.Fallback, which answers from an
//     in-process limiter during an outage (Client.FallbackLimiter does this);
//   - the scheduler treats lock errors as "not obtained" and waits;
//   - pub/sub subscriptions are resubscribed by go-redis when Redis is back;
//     messages published meanwhile are lost (delivery is best effort);
//   - Client.Healthy lets /readyz report "redis: degraded".
//
// Every key and channel name starts with a prefix (default "tvs:"), so one
// Redis can serve several deployments and ACLs can be written per prefix.
package redis

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bacninh/thuvienso/cache"
	"github.com/bacninh/thuvienso/lock"
	"github.com/bacninh/thuvienso/pubsub"
	"github.com/bacninh/thuvienso/ratelimit"
	goredis "github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key and channel name unless WithPrefix says
// otherwise.
const DefaultPrefix = "tvs:"

// Defaults applied when the URL does not set them (dial_timeout,
// read_timeout, write_timeout, pool_timeout, max_retries query parameters):
// short timeouts and no retries, so that a dead or hung Redis fails each
// call fast instead of stalling requests. Every caller tolerates a failed
// call (a cache miss, the fallback limiter, a skipped scheduler run).
const (
	DefaultDialTimeout = 300 * time.Millisecond
	DefaultIOTimeout   = 500 * time.Millisecond
	DefaultPoolTimeout = 500 * time.Millisecond
	// DefaultMaxRetries is go-redis' value for "do not retry a command".
	DefaultMaxRetries = -1
	// DefaultDialerRetries is the number of dial attempts per new connection
	// (go-redis 9.23 otherwise dials 5 times with 100ms pauses, which makes
	// every call during an outage take ≈ 0.8s).
	DefaultDialerRetries = 1
	// HealthTimeout bounds the PING behind Healthy.
	HealthTimeout = 300 * time.Millisecond
)

// Option configures Open.
type Option func(*options)

type options struct {
	prefix    string
	logger    *slog.Logger
	subBuffer int
}

// WithPrefix sets the prefix of every key and channel name (default "tvs:").
func WithPrefix(prefix string) Option { return func(o *options) { o.prefix = prefix } }

// WithLogger sets the logger (default slog.Default()). The first client
// opened also receives go-redis' own messages, throttled (see
// GoRedisLogInterval).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithSubscriberBuffer sets how many messages each local pub/sub subscriber
// buffers before messages are dropped for it (default pubsub.DefaultBuffer).
func WithSubscriberBuffer(n int) Option { return func(o *options) { o.subBuffer = n } }

// Client is a connection pool to one Redis and the four implementations
// built on it. It is safe for concurrent use; create one per process.
type Client struct {
	rdb    *goredis.Client
	opts   options
	cache  *Cache
	limit  *Limiter
	locker *Locker

	brokerOnce sync.Once
	broker     *Broker
}

// Open returns a client for the Redis at url (redis:// or rediss://, as
// understood by go-redis ParseURL; e.g. redis://:password@host:6379/0).
// It fails only for an invalid URL: if Redis does not answer a first PING
// the client is returned all the same, with a warning logged, so that an
// instance started during a Redis outage comes up degraded rather than not
// at all. Use Ping or Healthy to require Redis.
func Open(ctx context.Context, url string, opts ...Option) (*Client, error) {
	o := options{prefix: DefaultPrefix, logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	ro, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: parse url: %w", err)
	}
	if ro.DialTimeout == 0 {
		ro.DialTimeout = DefaultDialTimeout
	}
	if ro.ReadTimeout == 0 {
		ro.ReadTimeout = DefaultIOTimeout
	}
	if ro.WriteTimeout == 0 {
		ro.WriteTimeout = DefaultIOTimeout
	}
	if ro.PoolTimeout == 0 {
		ro.PoolTimeout = DefaultPoolTimeout
	}
	if ro.MaxRetries == 0 {
		ro.MaxRetries = DefaultMaxRetries
	}
	if ro.DialerRetries == 0 {
		ro.DialerRetries = DefaultDialerRetries
	}
	routeGoRedisLogs(o.logger)
	c := &Client{rdb: goredis.NewClient(ro), opts: o}
	c.cache = &Cache{rdb: c.rdb, prefix: o.prefix + "cache:"}
	c.limit = &Limiter{rdb: c.rdb, prefix: o.prefix + "rate:"}
	c.locker = newLocker(c.rdb, o.prefix+"lock:")
	if err := c.Ping(ctx); err != nil {
		o.logger.Warn("redis: not answering at start; running degraded until it does",
			"addr", ro.Addr, "err", err)
	}
	return c, nil
}

// Cache returns the Redis cache. Callers treat its errors as misses.
func (c *Client) Cache() cache.Cache { return c.cache }

// Limiter returns the Redis rate limiter, shared by every instance. Wrap it
// with ratelimit.Fallback (or use FallbackLimiter) so that an outage does not
// turn into errors for callers.
func (c *Client) Limiter() ratelimit.Limiter { return c.limit }

// FallbackLimiter returns Limiter wrapped in ratelimit.Fallback over an
// in-process limiter of maxKeys keys, logging to the client's logger.
func (c *Client) FallbackLimiter(maxKeys int) ratelimit.Limiter {
	return ratelimit.Fallback(c.limit, ratelimit.NewMemory(maxKeys), c.opts.logger)
}

// Locker returns the Redis lease locker.
func (c *Client) Locker() lock.Locker { return c.locker }

// Broker returns the Redis pub/sub broker (created on first use; one Redis
// connection carries every topic this process subscribes to).
func (c *Client) Broker() pubsub.Broker {
	c.brokerOnce.Do(func() { c.broker = newBroker(c.rdb, c.opts) })
	return c.broker
}

// Ping asks Redis for a PONG within ctx.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

// Healthy reports whether Redis answers a PING within HealthTimeout. The
// server's /readyz reports "redis: degraded" when it does not; the API keeps
// answering either way.
func (c *Client) Healthy(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, HealthTimeout)
	defer cancel()
	return c.Ping(ctx) == nil
}

// Close closes the broker (closing every subscriber's channel) and the pool.
func (c *Client) Close() error {
	c.brokerOnce.Do(func() {}) // no broker may be created from now on
	var brokerErr error
	if c.broker != nil {
		brokerErr = c.broker.close()
	}
	if err := c.rdb.Close(); err != nil {
		return fmt.Errorf("redis: close: %w", err)
	}
	return brokerErr
}
