// Package ratelimit defines the limiter behind login throttling and the API's
// per-reader and per-IP limits, and its in-process implementation. The Redis
// implementation (shared by every instance) is in package redis.
package ratelimit

import (
	"context"
	"time"
)

// Limit allows Burst events at once and then Burst events per Period
// (a generic cell rate: one event every Period/Burst).
type Limit struct {
	Burst  int
	Period time.Duration
}

// Decision is the limiter's answer for one key.
type Decision struct {
	Allowed bool
	// Remaining is how many more events fit now.
	Remaining int
	// RetryAfter is how long until the next event would be allowed (0 when allowed).
	RetryAfter time.Duration
}

// Limiter counts events per key.
type Limiter interface {
	// Allow records one event under key and reports whether it was within l.
	// A refused event is not recorded.
	Allow(ctx context.Context, key string, l Limit) (Decision, error)
	// AllowN records n events at once under key (an action that costs n)
	// if all of them fit within l, and none otherwise. n must be from 1 to
	// l.Burst: more could never fit, and is an error.
	AllowN(ctx context.Context, key string, l Limit, n int) (Decision, error)
	// Check reports whether one more event under key would be allowed,
	// without recording it.
	Check(ctx context.Context, key string, l Limit) (Decision, error)
	// Reset forgets every event under key.
	Reset(ctx context.Context, key string) error
}
