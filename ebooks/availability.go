package ebooks

import (
	"context"
	"fmt"
)

// Availability is what a catalog page shows of a title: copies and queue
// over every license still usable (unexpired, with checkouts left), for any
// reader. Whether one reader may borrow under a library's own license is
// decided when they borrow.
type Availability struct {
	// AvailableNow: some license has a copy free, or lends without limit,
	// and nobody waits (free copies go to the queue first).
	AvailableNow bool
	// Unlimited: some license lends to any number of readers at once.
	Unlimited bool
	// Copies and AvailableCopies count the limited licenses' copies.
	Copies, AvailableCopies int
	// Holds is the length of the queue.
	Holds int
}

// Availability returns the availability of each title, in one round trip
// per kind for the whole batch (for a dataloader); every ID gets an entry.
func (s *Service) Availability(ctx context.Context, titleIDs []string) (map[string]*Availability, error) {
	out := make(map[string]*Availability, len(titleIDs))
	for _, id := range titleIDs {
		out[id] = &Availability{}
	}
	if len(titleIDs) == 0 {
		return out, nil
	}
	ls, err := s.store.LicensesForTitles(ctx, titleIDs)
	if err != nil {
		return nil, fmt.Errorf("availability of e-books: %w", err)
	}
	counts, err := s.store.ActiveHoldCounts(ctx, titleIDs)
	if err != nil {
		return nil, fmt.Errorf("availability of e-books: %w", err)
	}
	now := s.now()
	for _, l := range ls {
		a := out[l.TitleID]
		if a == nil || !l.Usable(now) {
			continue
		}
		if !l.Limited() {
			a.Unlimited = true
			continue
		}
		a.Copies += l.Concurrency
		a.AvailableCopies += max(l.Available, 0)
	}
	for id, a := range out {
		a.Holds = counts[id]
		a.AvailableNow = a.Unlimited || a.AvailableCopies > 0 && a.Holds == 0
	}
	return out, nil
}
