// Package cache defines the byte cache the service keeps derived answers in
// (search results, work pages, persisted queries) and its in-process
// implementation. The Redis implementation is in package redis.
//
// A cache is never the only copy of anything: callers treat every error as a
// miss and carry on uncached.
package cache

import (
	"context"
	"time"
)

// Cache stores byte values under string keys for a time.
type Cache interface {
	// Get returns the value under key and whether it was there.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores value under key for ttl (> 0).
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes keys; missing keys are not an error.
	Delete(ctx context.Context, keys ...string) error
	// Incr adds one to the integer under key (0 when missing) and returns the
	// new value. Versioned keys use it: invalidation is one increment.
	Incr(ctx context.Context, key string) (int64, error)
}
