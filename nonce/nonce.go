// Package nonce remembers which one-time values (the nonces of card codes)
// have been seen, for as long as they could be presented again, so that a
// copied code is refused the second time. It defines the small interface,
// an in-process implementation for a single instance, and a fallback that
// keeps answering from memory while the shared implementation (Redis,
// package redis) is down.
package nonce

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Store records nonces.
type Store interface {
	// Claim records key for ttl and reports whether it is the first claim
	// of key within that time. Of concurrent claims of one key exactly one
	// is first.
	Claim(ctx context.Context, key string, ttl time.Duration) (first bool, err error)
}

// Memory is the in-process Store: a map from key to expiry, swept of
// expired keys as it grows. It is safe for concurrent use.
type Memory struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	max   int
	now   func() time.Time
	sweep int // size at which the next sweep runs
}

// NewMemory returns a Memory holding at most max live keys (a bound on
// memory; when full of keys that have not expired, the oldest-expiring are
// dropped first).
func NewMemory(max int) *Memory {
	if max <= 0 {
		max = 1_000_000
	}
	return &Memory{seen: map[string]time.Time{}, max: max, now: time.Now, sweep: 1024}
}

// Claim implements Store.
func (m *Memory) Claim(_ context.Context, key string, ttl time.Duration) (bool, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if exp, ok := m.seen[key]; ok && now.Before(exp) {
		return false, nil
	}
	if len(m.seen) >= m.sweep {
		m.sweepLocked(now)
	}
	m.seen[key] = now.Add(ttl)
	return true, nil
}

// sweepLocked drops expired keys and, when still over max, the keys that
// expire soonest.
func (m *Memory) sweepLocked(now time.Time) {
	for k, exp := range m.seen {
		if !now.Before(exp) {
			delete(m.seen, k)
		}
	}
	for len(m.seen) >= m.max {
		var oldest string
		var at time.Time
		for k, exp := range m.seen {
			if oldest == "" || exp.Before(at) {
				oldest, at = k, exp
			}
		}
		delete(m.seen, oldest)
	}
	m.sweep = max(1024, 2*len(m.seen))
}

// Fallback returns a Store that claims in primary (shared between
// instances) and, while primary fails, in secondary (this instance's
// memory), retrying primary every ten seconds. Every claim is also
// recorded in secondary, so a key claimed before an outage is still refused
// by this instance during it. During an outage a code replayed at another
// instance is not caught: a degraded check, and still more than an offline
// verifier can do; it is logged.
func Fallback(primary, secondary Store, logger *slog.Logger) Store {
	if logger == nil {
		logger = slog.Default()
	}
	return &fallback{primary: primary, secondary: secondary, log: logger, now: time.Now}
}

type fallback struct {
	primary, secondary Store
	log                *slog.Logger
	now                func() time.Time

	mu        sync.Mutex
	down      bool
	nextProbe time.Time
}

// retryAfter is how long an outage of the primary lasts before it is tried again.
const retryAfter = 10 * time.Second

func (f *fallback) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	local, err := f.secondary.Claim(ctx, key, ttl)
	if err != nil {
		return false, err
	}
	if f.usePrimary() {
		first, err := f.primary.Claim(ctx, key, ttl)
		if err == nil {
			f.record(nil)
			return first && local, nil
		}
		if ctx.Err() != nil {
			return false, err
		}
		f.record(err)
	}
	return local, nil
}

func (f *fallback) usePrimary() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.down || !f.now().Before(f.nextProbe)
}

func (f *fallback) record(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case err == nil && f.down:
		f.down = false
		f.log.Info("nonce store: shared store is back; replays are checked across instances again")
	case err != nil:
		if !f.down {
			f.log.Warn("nonce store: shared store failed; checking replays on this instance only", "err", err)
		}
		f.down, f.nextProbe = true, f.now().Add(retryAfter)
	}
}
