package circulation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/library"
)

// PullScope says where a pulled copy goes, seen from the library that
// pulls it: the tiers of targeting.
type PullScope string

// Pull scopes, in targeting order.
const (
	// PullHere: the hold is collected at this library (the copy goes on
	// its hold shelf).
	PullHere PullScope = "HERE"
	// PullDistrict: the hold is collected at another library of the district.
	PullDistrict PullScope = "DISTRICT"
	// PullProvince: the hold is collected elsewhere in the province.
	PullProvince PullScope = "PROVINCE"
)

// PullItem is one line of a library's pull list: a copy on its shelves to
// fetch and check in, and the hold it is for.
type PullItem struct {
	// Item is the copy (its Location and CallNumber say where it stands).
	Item *catalog.StoredItem
	// Hold is the waiting hold the copy is expected to fill.
	Hold *Hold
	// Scope is where the hold is collected, from this library's view.
	Scope PullScope
}

// pullBatch is how many works one catalogue read of the pull list covers.
const pullBatch = 200

// PullList is what Koha and Evergreen call the pull list (the holds
// queue): for a library's staff, the copies sitting AVAILABLE on its
// shelves that waiting holds could take, so that they fetch them and check
// them in — which targets them as usual. A hold placed while a copy is on
// a shelf otherwise waits until that copy is scanned for some other reason.
//
// Each waiting hold is given at most one copy across the whole network,
// and each copy at most one hold, so that two libraries do not both fetch
// a copy for one hold. The copies are shared out the way check-in targets
// them: first every library's copies to the holds collected at that
// library, then the holds left to copies in their pickup library's
// district, then to copies anywhere in the province; in queue order within
// each tier, suspended holds skipped, a hold on one copy only given that
// copy, a library that does not lend to the network only serving holds
// collected there. Among several libraries that could give a copy, the one
// with the most copies left on its shelves gives it. The list is ordered
// by scope (holds collected here first, then in the district, then the
// province), then by queue order.
//
// The list is a snapshot: a copy borrowed off the shelf meanwhile, or a
// hold filled by another copy, makes a line moot, and checking the copy in
// simply does what check-in does.
func (s *Service) PullList(ctx context.Context, actor auth.Actor, libraryID string) ([]*PullItem, error) {
	out, err := s.pullList(ctx, actor, libraryID)
	if err != nil {
		return nil, fmt.Errorf("pull list of %s: %w", libraryID, err)
	}
	return out, nil
}

func (s *Service) pullList(ctx context.Context, actor auth.Actor, libraryID string) ([]*PullItem, error) {
	if err := requireStaff(actor, libraryID); err != nil {
		return nil, err
	}
	here, err := s.library(ctx, libraryID)
	if err != nil {
		return nil, err
	}
	workIDs, err := s.store.WaitingHoldWorks(ctx)
	if err != nil {
		return nil, err
	}
	sort.Strings(workIDs)
	var out []*PullItem
	for batch := range slices.Chunk(workIDs, pullBatch) {
		items, err := s.catalog.ItemsByWork(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("reading copies: %w", err)
		}
		byWork := map[string][]*catalog.StoredItem{}
		for _, it := range items {
			if it.Status == catalog.StatusAvailable {
				byWork[it.WorkID] = append(byWork[it.WorkID], it)
			}
		}
		for _, w := range batch {
			avail := byWork[w]
			if !slices.ContainsFunc(avail, func(it *catalog.StoredItem) bool { return it.LibraryID == here.ID }) {
				continue
			}
			lines, err := s.pullWork(ctx, here, w, avail)
			if err != nil {
				return nil, err
			}
			out = append(out, lines...)
		}
	}
	rank := map[PullScope]int{PullHere: 0, PullDistrict: 1, PullProvince: 2}
	sort.SliceStable(out, func(a, b int) bool {
		x, y := out[a], out[b]
		if rank[x.Scope] != rank[y.Scope] {
			return rank[x.Scope] < rank[y.Scope]
		}
		if !x.Hold.CreatedAt.Equal(y.Hold.CreatedAt) {
			return x.Hold.CreatedAt.Before(y.Hold.CreatedAt)
		}
		return x.Hold.ID < y.Hold.ID
	})
	return out, nil
}

// pullWork shares the available copies of one work out among its waiting
// holds and returns the lines of the copies at here.
func (s *Service) pullWork(ctx context.Context, here *library.Library, workID string, avail []*catalog.StoredItem) ([]*PullItem, error) {
	queue, err := s.store.ActiveHoldsForWork(ctx, workID)
	if err != nil {
		return nil, err
	}
	var waiting []*Hold
	ids := []string{here.ID}
	for _, h := range queue {
		if h.State == HoldWaiting {
			waiting = append(waiting, h)
			ids = append(ids, h.PickupLibraryID)
		}
	}
	if len(waiting) == 0 {
		return nil, nil
	}
	// Only copies nobody has claimed: a claimed AVAILABLE copy is being
	// handled at a desk right now (or was left by a crash, which the next
	// scan repairs).
	var free []*catalog.StoredItem
	for _, it := range avail {
		c, err := s.store.CopyClaim(ctx, it.Barcode)
		switch {
		case errors.Is(err, thuvienso.ErrNotFound) || (err == nil && c.Holder == ""):
			free = append(free, it)
			ids = append(ids, it.LibraryID)
		case err != nil:
			return nil, fmt.Errorf("reading the claim of copy %s: %w", it.Barcode, err)
		}
	}
	libs, err := s.libs(ctx, ids...)
	if err != nil {
		return nil, err
	}
	var out []*PullItem
	for _, a := range s.sharePulls(waiting, free, libs) {
		if a.item.LibraryID == here.ID {
			out = append(out, &PullItem{Item: a.item, Hold: a.hold, Scope: scopeOf(here, libs[a.hold.PickupLibraryID])})
		}
	}
	return out, nil
}

// pullPair is a copy given to a hold.
type pullPair struct {
	hold *Hold
	item *catalog.StoredItem
}

// sharePulls gives waiting holds (in queue order) the available copies
// (free, AVAILABLE) of their work, at most one each, tier by tier as
// PullList describes.
func (s *Service) sharePulls(waiting []*Hold, copies []*catalog.StoredItem, libs map[string]*library.Library) []pullPair {
	left := slices.Clone(copies)
	sort.SliceStable(left, func(a, b int) bool {
		if left[a].LibraryID != left[b].LibraryID {
			return left[a].LibraryID < left[b].LibraryID
		}
		return left[a].Barcode < left[b].Barcode
	})
	served := map[string]bool{}
	var out []pullPair
	fits := func(h *Hold, it *catalog.StoredItem) bool {
		return (h.ItemBarcode == "" || h.ItemBarcode == it.Barcode) && s.servable(it, libs[it.LibraryID], h.PickupLibraryID)
	}
	for tier := range 3 {
		for _, h := range waiting {
			pickup := libs[h.PickupLibraryID]
			if served[h.ID] || pickup == nil {
				continue
			}
			// Copies left on the shelves of each library this tier may take from.
			count := map[string]int{}
			for _, it := range left {
				count[it.LibraryID]++
			}
			best := -1
			for i, it := range left {
				owner := libs[it.LibraryID]
				if owner == nil || tierOf(owner, pickup) > tier || !fits(h, it) {
					continue
				}
				if best < 0 || count[it.LibraryID] > count[left[best].LibraryID] {
					best = i
				}
			}
			if best < 0 {
				continue
			}
			out = append(out, pullPair{hold: h, item: left[best]})
			served[h.ID] = true
			left = slices.Delete(left, best, best+1)
		}
	}
	return out
}

// tierOf is the targeting tier of a hold collected at pickup for a copy
// checked in at desk: 0 the same library, 1 the same district, 2 the
// province.
func tierOf(desk, pickup *library.Library) int {
	switch {
	case desk.ID == pickup.ID:
		return 0
	case desk.District != "" && desk.District == pickup.District:
		return 1
	}
	return 2
}

// scopeOf names the tier of a hold collected at pickup, seen from desk.
func scopeOf(desk, pickup *library.Library) PullScope {
	switch tierOf(desk, pickup) {
	case 0:
		return PullHere
	case 1:
		return PullDistrict
	}
	return PullProvince
}
