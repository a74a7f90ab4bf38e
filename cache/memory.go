package cache

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Memory is the in-process Cache: an LRU bounded by entry count and by
// bytes, whose entries each expire by the wall clock at their own deadline.
// An expired entry is dropped when it is next read or when LRU pressure
// evicts it, so memory stays bounded without a background sweeper. (The
// byte bound matters once whole responses are cached: ten thousand work
// pages are most of a gigabyte.) (The expirable
// LRU of the same module has one TTL for the whole cache and a sweeper
// goroutine that never exits, which fits neither per-entry TTLs nor tests.)
//
// Memory is safe for concurrent use and returns errors only for invalid
// arguments and for Incr on a non-integer value.
type Memory struct {
	mu  sync.Mutex
	lru *simplelru.LRU[string, entry]
	// bytes is the size of the keys and values held; maxBytes its bound.
	bytes, maxBytes int64
}

// DefaultMaxBytes is the byte bound of NewMemory.
const DefaultMaxBytes = 64 << 20

type entry struct {
	value   []byte
	expires time.Time // zero: no deadline of its own (Incr counters)
}

var _ Cache = (*Memory)(nil)

// NewMemory returns an in-process cache holding at most maxEntries entries
// (the least recently used are evicted first; maxEntries <= 0 means 10,000).
// Counters created by Incr have no deadline and live until evicted, like a
// versioned key in Redis.
func NewMemory(maxEntries int) *Memory {
	return NewMemorySized(maxEntries, DefaultMaxBytes)
}

// NewMemorySized is NewMemory with a bound on the bytes of the keys and
// values held (maxBytes <= 0 means DefaultMaxBytes); the least recently
// used entries are evicted until both bounds hold. A value larger than the
// whole bound is not kept.
func NewMemorySized(maxEntries int, maxBytes int64) *Memory {
	if maxEntries <= 0 {
		maxEntries = 10_000
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	m := &Memory{maxBytes: maxBytes}
	l, err := simplelru.NewLRU[string, entry](maxEntries, func(k string, e entry) { m.bytes -= size(k, e) })
	if err != nil { // only for a non-positive size, excluded above
		panic(fmt.Sprintf("cache: new LRU: %v", err))
	}
	m.lru = l
	return m
}

func size(key string, e entry) int64 { return int64(len(key) + len(e.value)) }

// add stores e under key within the bounds. m.mu must be held.
func (m *Memory) add(key string, e entry) {
	if size(key, e) > m.maxBytes {
		m.lru.Remove(key)
		return
	}
	// Add replaces an existing entry without calling the eviction hook.
	if old, ok := m.lru.Peek(key); ok {
		m.bytes -= size(key, old)
	}
	m.lru.Add(key, e)
	m.bytes += size(key, e)
	for m.bytes > m.maxBytes {
		m.lru.RemoveOldest()
	}
}

// Get returns a copy of the value under key and whether it was there.
func (m *Memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.live(key)
	if !ok {
		return nil, false, nil
	}
	return bytes.Clone(e.value), true, nil
}

// Set stores a copy of value under key for ttl, which must be positive.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("cache: set %q: ttl must be positive, got %v", key, ttl)
	}
	v := bytes.Clone(value)
	if v == nil {
		v = []byte{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.add(key, entry{value: v, expires: time.Now().Add(ttl)})
	return nil
}

// Delete removes keys; missing keys are not an error.
func (m *Memory) Delete(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		m.lru.Remove(k)
	}
	return nil
}

// Incr adds one to the decimal integer under key (0 when missing or expired)
// and returns the new value. An existing deadline is kept, as Redis INCR does.
func (m *Memory) Incr(_ context.Context, key string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	e, ok := m.live(key)
	if ok {
		var err error
		n, err = strconv.ParseInt(string(e.value), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cache: incr %q: value is not an integer", key)
		}
	}
	n++
	m.add(key, entry{value: strconv.AppendInt(nil, n, 10), expires: e.expires})
	return n, nil
}

// Len reports how many entries are held, expired ones not yet dropped included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

// live returns the entry under key unless it has passed its deadline, in
// which case it is removed. m.mu must be held.
func (m *Memory) live(key string) (entry, bool) {
	e, ok := m.lru.Get(key)
	if !ok {
		return entry{}, false
	}
	if !e.expires.IsZero() && !time.Now().Before(e.expires) {
		m.lru.Remove(key)
		return entry{}, false
	}
	return e, true
}
