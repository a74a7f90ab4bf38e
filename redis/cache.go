package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bacninh/thuvienso/cache"
	goredis "github.com/redis/go-redis/v9"
)

// Cache is the Redis cache.Cache: plain string keys under the prefix
// "<prefix>cache:", expiring by Redis' wall clock. Every error (Redis down,
// timeout) must be treated by callers as a miss.
type Cache struct {
	rdb    *goredis.Client
	prefix string
}

var _ cache.Cache = (*Cache)(nil)

// Get returns the value under key and whether it was there.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := c.rdb.Get(ctx, c.prefix+key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redis: cache get %q: %w", key, err)
	}
	return v, true, nil
}

// Set stores value under key for ttl (> 0, millisecond precision).
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("redis: cache set %q: ttl must be positive, got %v", key, ttl)
	}
	if ttl < time.Millisecond {
		ttl = time.Millisecond
	}
	if err := c.rdb.Set(ctx, c.prefix+key, value, ttl).Err(); err != nil {
		return fmt.Errorf("redis: cache set %q: %w", key, err)
	}
	return nil
}

// Delete removes keys; missing keys are not an error.
func (c *Cache) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
	}
	if err := c.rdb.Del(ctx, full...).Err(); err != nil {
		return fmt.Errorf("redis: cache delete %d keys: %w", len(keys), err)
	}
	return nil
}

// Incr adds one to the integer under key (0 when missing) and returns the
// new value; an existing expiry is kept.
func (c *Cache) Incr(ctx context.Context, key string) (int64, error) {
	n, err := c.rdb.Incr(ctx, c.prefix+key).Result()
	if err != nil {
		return 0, fmt.Errorf("redis: cache incr %q: %w", key, err)
	}
	return n, nil
}
