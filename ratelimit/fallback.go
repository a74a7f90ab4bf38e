package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// FallbackProbeInterval is how often a Fallback limiter in an outage tries
// its primary again; calls in between go straight to the secondary, so an
// outage costs callers no extra latency.
const FallbackProbeInterval = time.Second

// Fallback returns a Limiter that answers from primary (normally the shared
// Redis limiter) and, while primary fails, from secondary (normally an
// in-process Memory limiter), so that an outage of the shared store never
// takes the API down: limits then hold per instance instead of globally.
//
// The outage is logged once when it starts and once when primary answers
// again, not per call. Errors caused by the caller's own context ending are
// returned as they are and do not count as an outage.
func Fallback(primary, secondary Limiter, logger *slog.Logger) Limiter {
	if logger == nil {
		logger = slog.Default()
	}
	return &fallback{primary: primary, secondary: secondary, log: logger, now: time.Now}
}

type fallback struct {
	primary, secondary Limiter
	log                *slog.Logger
	now                func() time.Time

	mu        sync.Mutex
	down      bool      // primary is in an outage
	nextProbe time.Time // while down: when to try primary again
}

func (f *fallback) Allow(ctx context.Context, key string, l Limit) (Decision, error) {
	return f.do(ctx, func(lim Limiter) (Decision, error) { return lim.Allow(ctx, key, l) })
}

func (f *fallback) AllowN(ctx context.Context, key string, l Limit, n int) (Decision, error) {
	return f.do(ctx, func(lim Limiter) (Decision, error) { return lim.AllowN(ctx, key, l, n) })
}

func (f *fallback) Check(ctx context.Context, key string, l Limit) (Decision, error) {
	return f.do(ctx, func(lim Limiter) (Decision, error) { return lim.Check(ctx, key, l) })
}

// Reset resets the key in both limiters, so that a reset during an outage
// also clears what the secondary counted. It fails only when the secondary
// fails; a primary failure starts or continues an outage.
func (f *fallback) Reset(ctx context.Context, key string) error {
	if f.usePrimary() {
		err := f.primary.Reset(ctx, key)
		if err != nil && ctx.Err() != nil {
			return err
		}
		f.record(err)
	}
	return f.secondary.Reset(ctx, key)
}

func (f *fallback) do(ctx context.Context, call func(Limiter) (Decision, error)) (Decision, error) {
	if f.usePrimary() {
		d, err := call(f.primary)
		if err != nil && ctx.Err() != nil {
			return d, err // the caller gave up; says nothing about the primary
		}
		f.record(err)
		if err == nil {
			return d, nil
		}
	}
	return call(f.secondary)
}

// usePrimary reports whether this call should go to the primary: always
// when it is up, once per FallbackProbeInterval when it is down.
func (f *fallback) usePrimary() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.down {
		return true
	}
	now := f.now()
	if now.Before(f.nextProbe) {
		return false
	}
	f.nextProbe = now.Add(FallbackProbeInterval)
	return true
}

// record notes the primary's answer and logs state changes.
func (f *fallback) record(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case err != nil && !f.down:
		f.down = true
		f.nextProbe = f.now().Add(FallbackProbeInterval)
		f.log.Warn("rate limiter: shared store failing, using in-process limits", "err", err)
	case err == nil && f.down:
		f.down = false
		f.log.Info("rate limiter: shared store answering again")
	}
}
