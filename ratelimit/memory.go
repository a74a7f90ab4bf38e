package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Memory is the in-process Limiter. It runs the generic cell rate algorithm
// (GCRA): per key it keeps one time, the theoretical arrival time (TAT) of
// the next event, in a size-bounded LRU. An event is allowed when
// TAT + Period/Burst − Period ≤ now, and recording it moves TAT on by
// Period/Burst (n events at once: n×Period/Burst, in both places). The Redis limiter in package redis computes exactly the same.
//
// When more than maxKeys keys are active the least recently used key is
// forgotten, which can only ever let that key through early: memory stays
// bounded whatever clients send.
type Memory struct {
	mu  sync.Mutex
	lru *simplelru.LRU[string, time.Time]
	now func() time.Time
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an in-process limiter tracking at most maxKeys keys
// (maxKeys <= 0 means 100,000).
func NewMemory(maxKeys int) *Memory {
	if maxKeys <= 0 {
		maxKeys = 100_000
	}
	l, err := simplelru.NewLRU[string, time.Time](maxKeys, nil)
	if err != nil { // only for a non-positive size, excluded above
		panic(fmt.Sprintf("ratelimit: new LRU: %v", err))
	}
	return &Memory{lru: l, now: time.Now}
}

// Allow records one event under key if it fits within l.
func (m *Memory) Allow(_ context.Context, key string, l Limit) (Decision, error) {
	return m.decide(key, l, 1, true)
}

// AllowN records n events under key if all of them fit within l.
func (m *Memory) AllowN(_ context.Context, key string, l Limit, n int) (Decision, error) {
	return m.decide(key, l, n, true)
}

// Check reports whether one more event under key would fit, recording nothing.
func (m *Memory) Check(_ context.Context, key string, l Limit) (Decision, error) {
	return m.decide(key, l, 1, false)
}

// Reset forgets every event under key.
func (m *Memory) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lru.Remove(key)
	return nil
}

func (m *Memory) decide(key string, l Limit, n int, record bool) (Decision, error) {
	if err := l.ValidateN(n); err != nil {
		return Decision{}, fmt.Errorf("ratelimit: key %q: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	tat, ok := m.lru.Get(key)
	if !ok || tat.Before(now) {
		tat = now
	}
	d, newTAT := gcra(now, tat, l, n, record)
	if record && d.Allowed {
		m.lru.Add(key, newTAT)
	}
	return d, nil
}

// gcra is one step of the generic cell rate algorithm: given the current
// time and a key's theoretical arrival time tat (not before now), it decides
// whether n more events fit within l and returns the TAT to store if they
// are recorded (record and allowed).
func gcra(now, tat time.Time, l Limit, n int, record bool) (Decision, time.Time) {
	interval := l.interval()
	tolerance := l.Period // interval × Burst
	cost := interval * time.Duration(n)
	allowAt := tat.Add(cost - tolerance)
	if allowAt.After(now) {
		return Decision{Allowed: false, Remaining: 0, RetryAfter: allowAt.Sub(now)}, tat
	}
	if record {
		tat = tat.Add(cost)
	}
	remaining := int((now.Sub(tat) + tolerance) / interval)
	return Decision{Allowed: true, Remaining: remaining}, tat
}

// interval is the emission interval, Period/Burst.
func (l Limit) interval() time.Duration {
	return l.Period / time.Duration(l.Burst)
}

// Validate reports whether l is usable: a positive Burst and a Period of at
// least Burst nanoseconds.
func (l Limit) Validate() error {
	if l.Burst <= 0 || l.Period <= 0 || l.Period < time.Duration(l.Burst) {
		return fmt.Errorf("invalid limit %d per %v", l.Burst, l.Period)
	}
	return nil
}

// ValidateN reports whether l is usable and n events at once can ever fit
// within it (1 <= n <= Burst).
func (l Limit) ValidateN(n int) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if n < 1 || n > l.Burst {
		return fmt.Errorf("%d events at once can never fit a limit of %d per %v", n, l.Burst, l.Period)
	}
	return nil
}
