package library

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// CachedStore is a Store that answers lookups of one library (by ID, by
// code, a loader's batch of IDs) from a snapshot of every library kept in
// memory: almost every response names libraries (a copy's owner, a pickup
// library, a facet's labels), the province has a few hundred of them, and
// they change a few times a year. Reading and decoding them from the store
// for every response took a tenth of the server's CPU under load.
//
// The snapshot is dropped when a library is created or changed through this
// store, when Invalidate is called (the app calls it when another instance
// announces a change) and after its TTL in any case, in case an
// announcement was lost. A library the snapshot does not know is looked up
// in the store, so a library created on another instance is found at once.
// Listings (Libraries, CountLibraries) always read the store.
//
// Lookups return copies: callers may change what they get.
type CachedStore struct {
	Store
	// Changed is called after a library was created or changed through
	// this store (the app announces it to the other instances); nil: none.
	Changed func(ctx context.Context)

	ttl   time.Duration
	now   func() time.Time
	group singleflight.Group

	mu   sync.Mutex
	snap *snapshot
	// generation counts invalidations, so that a snapshot read before one
	// is not kept after it.
	generation uint64
}

type snapshot struct {
	byID, byCode map[string]*Library
	at           time.Time
}

// NewCachedStore returns s with its lookups of one library served from
// memory for at most ttl.
func NewCachedStore(s Store, ttl time.Duration) *CachedStore {
	return &CachedStore{Store: s, ttl: ttl, now: time.Now}
}

// Invalidate drops the snapshot: the next lookup reads every library again.
func (c *CachedStore) Invalidate() {
	c.mu.Lock()
	c.snap = nil
	c.generation++
	c.mu.Unlock()
}

// snapshot returns the current snapshot, reading it when there is none or
// it is older than the TTL; nil when the store failed (callers then read
// the store themselves).
func (c *CachedStore) snapshot(ctx context.Context) *snapshot {
	c.mu.Lock()
	s, gen := c.snap, c.generation
	c.mu.Unlock()
	if s != nil && c.now().Sub(s.at) < c.ttl {
		return s
	}
	ch := c.group.DoChan("all", func() (any, error) {
		at := c.now()
		// The read serves every caller waiting for it: one caller leaving
		// must not fail it for the others, and a store that hangs must not
		// hold it forever.
		loadCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), snapshotLoadTimeout)
		defer cancel()
		all, err := c.Store.Libraries(loadCtx, nil, "")
		if err != nil {
			return nil, err
		}
		s := &snapshot{byID: make(map[string]*Library, len(all)), byCode: make(map[string]*Library, len(all)), at: at}
		for _, l := range all {
			s.byID[l.ID], s.byCode[l.Code] = l, l
		}
		c.mu.Lock()
		if c.generation == gen {
			c.snap = s
		}
		c.mu.Unlock()
		return s, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil
		}
		return r.Val.(*snapshot)
	case <-ctx.Done():
		return nil // the caller reads the store itself, and fails with its context
	}
}

// snapshotLoadTimeout bounds the read of every library.
const snapshotLoadTimeout = 10 * time.Second

// Library implements Store.
func (c *CachedStore) Library(ctx context.Context, id string) (*Library, error) {
	if s := c.snapshot(ctx); s != nil {
		if l, ok := s.byID[id]; ok {
			return l.clone(), nil
		}
	}
	return c.Store.Library(ctx, id)
}

// LibraryByCode implements Store.
func (c *CachedStore) LibraryByCode(ctx context.Context, code string) (*Library, error) {
	if s := c.snapshot(ctx); s != nil {
		if l, ok := s.byCode[code]; ok {
			return l.clone(), nil
		}
	}
	return c.Store.LibraryByCode(ctx, code)
}

// LibrariesByID implements Store.
func (c *CachedStore) LibrariesByID(ctx context.Context, ids []string) ([]*Library, error) {
	s := c.snapshot(ctx)
	if s == nil {
		return c.Store.LibrariesByID(ctx, ids)
	}
	out := make([]*Library, 0, len(ids))
	var unknown []string
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue // each library once, as the stores answer
		}
		seen[id] = true
		if l, ok := s.byID[id]; ok {
			out = append(out, l.clone())
		} else {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) == 0 {
		return out, nil
	}
	more, err := c.Store.LibrariesByID(ctx, unknown)
	if err != nil {
		return nil, err
	}
	return append(out, more...), nil
}

// CreateLibrary implements Store.
func (c *CachedStore) CreateLibrary(ctx context.Context, l *Library) error {
	if err := c.Store.CreateLibrary(ctx, l); err != nil {
		return err
	}
	c.changed(ctx)
	return nil
}

// UpdateLibrary implements Store.
func (c *CachedStore) UpdateLibrary(ctx context.Context, l *Library) error {
	if err := c.Store.UpdateLibrary(ctx, l); err != nil {
		return err
	}
	c.changed(ctx)
	return nil
}

func (c *CachedStore) changed(ctx context.Context) {
	c.Invalidate()
	if c.Changed != nil {
		c.Changed(ctx)
	}
}

// clone returns a copy of l that shares nothing a caller could change.
func (l *Library) clone() *Library {
	cp := *l
	if l.Location != nil {
		p := *l.Location
		cp.Location = &p
	}
	cp.Hours = append([]OpeningHours(nil), l.Hours...)
	return &cp
}
