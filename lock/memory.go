package lock

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Memory is the in-process Locker: leases on named locks within one
// process, each with its own token and a wall-clock expiry. It holds one map
// entry per lock currently held; expired entries are dropped when the lock
// is next obtained.
type Memory struct {
	mu    sync.Mutex
	locks map[string]held
	seq   uint64
}

type held struct {
	token   uint64
	expires time.Time
}

var _ Locker = (*Memory)(nil)

// NewMemory returns an in-process Locker.
func NewMemory() *Memory {
	return &Memory{locks: make(map[string]held)}
}

// TryObtain takes the lock named key for ttl (> 0), or returns ErrNotObtained
// when an unexpired lease holds it.
func (m *Memory) TryObtain(_ context.Context, key string, ttl time.Duration) (Lease, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("lock: obtain %q: ttl must be positive, got %v", key, ttl)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if h, ok := m.locks[key]; ok && now.Before(h.expires) {
		return nil, ErrNotObtained
	}
	m.seq++
	m.locks[key] = held{token: m.seq, expires: now.Add(ttl)}
	return &memoryLease{m: m, key: key, token: m.seq}, nil
}

type memoryLease struct {
	m     *Memory
	key   string
	token uint64
}

// Refresh extends the lease to ttl from now, or returns ErrLost.
func (l *memoryLease) Refresh(_ context.Context, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("lock: refresh %q: ttl must be positive, got %v", l.key, ttl)
	}
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	now := time.Now()
	if !l.holdsLocked(now) {
		return ErrLost
	}
	l.m.locks[l.key] = held{token: l.token, expires: now.Add(ttl)}
	return nil
}

// Release gives the lock up, or returns ErrLost if it had already passed on
// or expired.
func (l *memoryLease) Release(_ context.Context) error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if !l.holdsLocked(time.Now()) {
		return ErrLost
	}
	delete(l.m.locks, l.key)
	return nil
}

// holdsLocked reports whether this lease still holds its lock; m.mu is held.
func (l *memoryLease) holdsLocked(now time.Time) bool {
	h, ok := l.m.locks[l.key]
	return ok && h.token == l.token && now.Before(h.expires)
}
