package circulation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/library"
)

// PlaceHoldInput is a placeHold request.
type PlaceHoldInput struct {
	// WorkID is the work wanted (any copy). With ItemBarcode it may be
	// empty: the copy's work is used.
	WorkID string
	// ItemBarcode asks for one copy only.
	ItemBarcode     string
	PickupLibraryID string
	// StartDate, when in the future, keeps the hold suspended (in its place)
	// until the start of that day.
	StartDate *time.Time
	// IdempotencyKey makes a retried request return the first answer.
	IdempotencyKey string
}

// PlaceHold puts the actor in the queue of a work (or of one copy of it),
// to collect at a pickup library. Every rule is checked: the reader is not
// blocked, has room under the hold limit, has no hold on or loan of the
// work, and some copy could ever be lent for pickup there.
func (s *Service) PlaceHold(ctx context.Context, actor auth.Actor, in PlaceHoldInput) (*Hold, error) {
	h, err := s.placeHold(ctx, actor, in)
	if err != nil {
		return nil, fmt.Errorf("placing a hold on %s: %w", firstNonEmpty(in.WorkID, in.ItemBarcode), err)
	}
	return h, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func (s *Service) placeHold(ctx context.Context, actor auth.Actor, in PlaceHoldInput) (*Hold, error) {
	acc, err := s.reader(ctx, actor)
	if err != nil {
		return nil, err
	}
	in.WorkID, in.ItemBarcode = strings.TrimSpace(in.WorkID), strings.TrimSpace(in.ItemBarcode)
	if in.IdempotencyKey != "" {
		if prev, err := s.holdForKey(ctx, acc.ID, in); prev != nil || err != nil {
			return prev, err
		}
	}
	h, err := s.placeHoldOnce(ctx, acc, in)
	if err != nil && in.IdempotencyKey != "" {
		// A concurrent retry of this request may have placed it.
		if prev, kerr := s.holdForKey(ctx, acc.ID, in); prev != nil || kerr != nil {
			return prev, kerr
		}
	}
	return h, err
}

// holdForKey returns the hold placed with the request's key, nil when
// none; a key used for something else is ErrIdempotencyKeyUsed.
func (s *Service) holdForKey(ctx context.Context, readerID string, in PlaceHoldInput) (*Hold, error) {
	prev, err := s.store.HoldByIdempotencyKey(ctx, readerID, in.IdempotencyKey)
	switch {
	case errors.Is(err, thuvienso.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case (in.WorkID != "" && prev.WorkID != in.WorkID) || prev.ItemBarcode != in.ItemBarcode:
		return nil, ErrIdempotencyKeyUsed
	}
	return prev, nil
}

func (s *Service) placeHoldOnce(ctx context.Context, acc *auth.Account, in PlaceHoldInput) (*Hold, error) {
	now := s.now()
	workID := in.WorkID
	if in.ItemBarcode != "" {
		it, err := s.item(ctx, in.ItemBarcode)
		if err != nil {
			return nil, err
		}
		if it.WorkID == "" || (workID != "" && it.WorkID != workID) {
			return nil, ErrItemNotOfWork
		}
		workID = it.WorkID
	} else {
		w, err := s.catalog.Work(ctx, workID)
		if errors.Is(err, thuvienso.ErrNotFound) || (err == nil && w.Deleted) || workID == "" {
			return nil, ErrWorkNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("reading work %s: %w", workID, err)
		}
	}
	pickup, err := s.pickupLibrary(ctx, in.PickupLibraryID)
	if err != nil {
		return nil, err
	}
	var until *time.Time
	if in.StartDate != nil && in.StartDate.After(now) {
		if in.StartDate.After(now.Add(s.rules.MaxSuspension)) {
			return nil, ErrBadStartDate
		}
		u := startOfDay(*in.StartDate).UTC()
		until = &u
	}
	loans, err := s.store.LoansForReader(ctx, acc.ID, true)
	if err != nil {
		return nil, err
	}
	if err := s.checkBlocks(ctx, acc, loans, now); err != nil {
		return nil, err
	}
	if slices.ContainsFunc(loans, func(l *Loan) bool { return l.WorkID == workID }) {
		return nil, ErrAlreadyBorrowed
	}
	holds, err := s.store.HoldsForReader(ctx, acc.ID, true)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(holds, func(h *Hold) bool { return h.WorkID == workID }) {
		return nil, ErrAlreadyOnHold
	}
	maxHolds := s.rules.MaxHoldsFor(category(acc))
	if len(holds) >= maxHolds {
		return nil, ErrHoldLimit
	}
	if ok, err := s.holdable(ctx, workID, in.ItemBarcode, pickup); err != nil || !ok {
		if err == nil {
			err = ErrNoHoldableCopy
		}
		return nil, err
	}
	h := &Hold{ID: idFor("hold", acc.ID, in.IdempotencyKey), ReaderID: acc.ID, WorkID: workID, ItemBarcode: in.ItemBarcode,
		PickupLibraryID: pickup.ID, State: HoldWaiting, CreatedAt: now, IdempotencyKey: in.IdempotencyKey}
	if until != nil {
		h.State, h.SuspendedUntil = HoldSuspended, until
	}
	used := make([]int, len(holds))
	for i, x := range holds {
		used[i] = x.Slot
	}
	for range maxHolds + 1 {
		slot, ok := freeSlot(used, maxHolds)
		if !ok {
			return nil, ErrHoldLimit
		}
		h.Slot = slot
		err := s.store.CreateHold(ctx, h)
		if !errors.Is(err, ErrHoldSlotTaken) {
			if err != nil {
				return nil, err
			}
			return h, nil
		}
		if holds, err = s.store.HoldsForReader(ctx, acc.ID, true); err != nil {
			return nil, err
		}
		used = used[:0]
		for _, x := range holds {
			used = append(used, x.Slot)
		}
	}
	return nil, ErrStale
}

// pickupLibrary returns the library holds are to be collected at.
func (s *Service) pickupLibrary(ctx context.Context, id string) (*library.Library, error) {
	if id == "" {
		return nil, ErrNotPickupPoint
	}
	l, err := s.libraries.Library(ctx, id)
	if errors.Is(err, thuvienso.ErrNotFound) || (err == nil && !l.PickupPoint) {
		return nil, ErrNotPickupPoint
	}
	if err != nil {
		return nil, fmt.Errorf("reading library %s: %w", id, err)
	}
	return l, nil
}

// servable reports whether a copy could ever fill a hold collected at
// pickup: it is lendable (not reference, not lost or damaged), and its
// library lends to the network or is the pickup library.
func (s *Service) servable(it *catalog.StoredItem, owner *library.Library, pickupID string) bool {
	if Classify(&it.Item) == ClassReference {
		return false
	}
	switch it.Status {
	case catalog.StatusLost, catalog.StatusDamaged, catalog.StatusReferenceOnly:
		return false
	}
	return it.LibraryID == pickupID || s.rules.LendsToNetwork(owner)
}

// holdable reports whether some copy of the work (or the copy barcode)
// could fill a hold collected at pickup.
func (s *Service) holdable(ctx context.Context, workID, barcode string, pickup *library.Library) (bool, error) {
	items, err := s.catalog.ItemsByWork(ctx, []string{workID})
	if err != nil {
		return false, fmt.Errorf("reading the copies of %s: %w", workID, err)
	}
	var owners []string
	for _, it := range items {
		owners = append(owners, it.LibraryID)
	}
	libs, err := s.libs(ctx, owners...)
	if err != nil {
		return false, err
	}
	for _, it := range items {
		if (barcode == "" || it.Barcode == barcode) && s.servable(it, libs[it.LibraryID], pickup.ID) {
			return true, nil
		}
	}
	return false, nil
}

// ownHold returns a hold the actor may act on: their own, one collected at
// a librarian's library, any for an admin.
func (s *Service) ownHold(ctx context.Context, actor auth.Actor, holdID string) (*Hold, error) {
	if actor.AccountID == "" {
		return nil, thuvienso.ErrUnauthenticated
	}
	h, err := s.store.Hold(ctx, holdID)
	if err != nil {
		return nil, err
	}
	if h.ReaderID != actor.AccountID && !actor.CanActForLibrary(h.PickupLibraryID) {
		return nil, thuvienso.ErrNotFound
	}
	return h, nil
}

// updateHold applies change to the hold by compare-and-set, re-reading it
// when it changed meanwhile; change returns false to stop (with its error).
func (s *Service) updateHold(ctx context.Context, h *Hold, change func(*Hold) (bool, error)) (*Hold, error) {
	for range 5 {
		c := *h
		ok, err := change(&c)
		if err != nil || !ok {
			return h, err
		}
		err = s.store.UpdateHold(ctx, &c)
		if errors.Is(err, ErrStale) {
			if h, err = s.store.Hold(ctx, h.ID); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		return &c, nil
	}
	return nil, ErrStale
}

// CancelHold takes the hold out of the queue (the reader, or staff of its
// pickup library). A copy waiting on the hold shelf goes to the next hold
// or back; a copy in transit is placed when it arrives. Cancelling a
// cancelled hold returns it unchanged.
func (s *Service) CancelHold(ctx context.Context, actor auth.Actor, holdID string) (*Hold, error) {
	h, err := s.ownHold(ctx, actor, holdID)
	if err == nil {
		h, err = s.endHold(ctx, h, HoldCancelled)
	}
	if err != nil {
		return nil, fmt.Errorf("cancelling hold %s: %w", holdID, err)
	}
	return h, nil
}

// endHold moves an active hold to an end state (CANCELLED or EXPIRED) by
// compare-and-set; the winner passes its copy on.
func (s *Service) endHold(ctx context.Context, h *Hold, state HoldState) (*Hold, error) {
	var prev Hold
	now := s.now()
	ended, err := s.updateHold(ctx, h, func(c *Hold) (bool, error) {
		if c.State == state {
			return false, nil
		}
		if !c.State.Active() {
			return false, ErrHoldNotActive
		}
		prev = *c
		c.State, c.EndedAt = state, &now
		return true, nil
	})
	if err != nil || ended.State != state || prev.ID == "" {
		return ended, err
	}
	if prev.State.HasCopy() {
		if err := s.passOn(ctx, &prev, now); err != nil {
			return ended, err
		}
	}
	return ended, nil
}

// passOn gives the copy of a hold that ended to the next hold (from the
// pickup library, where it sits) or releases it while it travels.
func (s *Service) passOn(ctx context.Context, h *Hold, now time.Time) error {
	if h.State == HoldInTransit {
		// On the road: it is placed wherever it is checked in.
		err := s.handOver(ctx, h.Barcode, holdHolder(h.ID), "", now)
		if errors.Is(err, ErrClaimLost) {
			return nil
		}
		return err
	}
	desk, err := s.library(ctx, h.PickupLibraryID)
	if err != nil {
		return err
	}
	it, err := s.item(ctx, h.Barcode)
	if err != nil {
		return err
	}
	_, err = s.place(ctx, it, desk, holdHolder(h.ID), now)
	if errors.Is(err, ErrClaimLost) {
		return nil // someone scanned it meanwhile and placed it
	}
	return err
}

// SuspendHold pauses a waiting hold until until (nil: until resumed). It
// keeps its place in the queue but is passed over, and resumes by itself
// at until.
func (s *Service) SuspendHold(ctx context.Context, actor auth.Actor, holdID string, until *time.Time) (*Hold, error) {
	now := s.now()
	if until != nil && (!until.After(now) || until.After(now.Add(s.rules.MaxSuspension))) {
		return nil, fmt.Errorf("suspending hold %s: %w", holdID, ErrBadSuspension)
	}
	h, err := s.ownHold(ctx, actor, holdID)
	if err == nil {
		h, err = s.updateHold(ctx, h, func(c *Hold) (bool, error) {
			if c.State != HoldWaiting && c.State != HoldSuspended {
				return false, ErrHoldNotSuspendable
			}
			c.State, c.SuspendedUntil = HoldSuspended, nil
			if until != nil {
				u := until.UTC()
				c.SuspendedUntil = &u
			}
			return true, nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("suspending hold %s: %w", holdID, err)
	}
	return h, nil
}

// ResumeHold makes a suspended hold wait again, at its old place.
func (s *Service) ResumeHold(ctx context.Context, actor auth.Actor, holdID string) (*Hold, error) {
	h, err := s.ownHold(ctx, actor, holdID)
	if err == nil {
		h, err = s.updateHold(ctx, h, func(c *Hold) (bool, error) {
			switch {
			case c.State == HoldSuspended:
				c.State, c.SuspendedUntil = HoldWaiting, nil
				return true, nil
			case c.State.Active():
				return false, nil
			}
			return false, ErrHoldNotActive
		})
	}
	if err != nil {
		return nil, fmt.Errorf("resuming hold %s: %w", holdID, err)
	}
	return h, nil
}

// ChangePickupLibrary moves a hold's pickup library, until a copy is on
// its way to it.
func (s *Service) ChangePickupLibrary(ctx context.Context, actor auth.Actor, holdID, libraryID string) (*Hold, error) {
	h, err := s.changePickup(ctx, actor, holdID, libraryID)
	if err != nil {
		return nil, fmt.Errorf("changing the pickup library of hold %s: %w", holdID, err)
	}
	return h, nil
}

func (s *Service) changePickup(ctx context.Context, actor auth.Actor, holdID, libraryID string) (*Hold, error) {
	h, err := s.ownHold(ctx, actor, holdID)
	if err != nil {
		return nil, err
	}
	pickup, err := s.pickupLibrary(ctx, libraryID)
	if err != nil {
		return nil, err
	}
	if ok, err := s.holdable(ctx, h.WorkID, h.ItemBarcode, pickup); err != nil || !ok {
		if err == nil {
			err = ErrNoHoldableCopy
		}
		return nil, err
	}
	return s.updateHold(ctx, h, func(c *Hold) (bool, error) {
		switch {
		case c.State.HasCopy():
			return false, ErrPickupFixed
		case !c.State.Active():
			return false, ErrHoldNotActive
		case c.PickupLibraryID == pickup.ID:
			return false, nil
		}
		c.PickupLibraryID = pickup.ID
		return true, nil
	})
}

// WaitEstimate is when a copy should reach the hold's pickup library: a
// range, since loans end early or late.
type WaitEstimate struct {
	Earliest, Latest time.Time
}

// HoldStatus is a hold with its place in the queue and its estimated wait.
type HoldStatus struct {
	*Hold
	// Position is the hold's place among the work's holds still waiting
	// for a copy (WAITING and SUSPENDED; a suspended hold keeps its place),
	// 1 … QueueLength in queue order; 0 when a copy is attached or the hold
	// has ended.
	Position    int
	QueueLength int
	// Estimate is nil when the hold has a copy or has ended, or when no
	// copy could ever serve it.
	Estimate *WaitEstimate
}

// MyHolds returns the actor's active holds (all, when all is set), with
// queue positions and estimated waits.
func (s *Service) MyHolds(ctx context.Context, actor auth.Actor, all bool) ([]*HoldStatus, error) {
	if actor.AccountID == "" {
		return nil, thuvienso.ErrUnauthenticated
	}
	hs, err := s.store.HoldsForReader(ctx, actor.AccountID, !all)
	if err == nil {
		var out []*HoldStatus
		if out, err = s.HoldStatuses(ctx, hs); err == nil {
			return out, nil
		}
	}
	return nil, fmt.Errorf("listing holds: %w", err)
}

// HoldStatus returns one hold the actor may see, with its place and wait.
func (s *Service) HoldStatus(ctx context.Context, actor auth.Actor, holdID string) (*HoldStatus, error) {
	h, err := s.ownHold(ctx, actor, holdID)
	if err == nil {
		var st []*HoldStatus
		if st, err = s.HoldStatuses(ctx, []*Hold{h}); err == nil {
			return st[0], nil
		}
	}
	return nil, fmt.Errorf("hold %s: %w", holdID, err)
}

// Queue returns the queue of a work with positions (staff: it names readers).
func (s *Service) Queue(ctx context.Context, actor auth.Actor, workID string) ([]*HoldStatus, error) {
	if actor.Role != auth.RoleAdmin && actor.Role != auth.RoleLibrarian {
		return nil, thuvienso.ErrForbidden
	}
	q, err := s.store.ActiveHoldsForWork(ctx, workID)
	if err == nil {
		var out []*HoldStatus
		if out, err = s.HoldStatuses(ctx, q); err == nil {
			return out, nil
		}
	}
	return nil, fmt.Errorf("queue of %s: %w", workID, err)
}

// HoldStatuses computes positions and estimates for holds (any readers),
// reading each work's queue, copies and loans once.
//
// The estimate: the copies c that could serve the hold come free at
// times f₀ ≤ f₁ ≤ … (now for a copy on the shelf, its due date for one
// on loan, a loan period ahead for one set aside for another hold); the
// k holds still waiting ahead (suspended ones are passed over) take them
// in turn, so the hold is served around f[k mod c] + (k div c) × the loan
// period, plus the transit to the pickup library. The range runs from
// on-time returns and the shortest transit to returns LateReturnDays late,
// every reader ahead using the whole hold-shelf window, and the longest
// transit. A suspended hold is not served before it resumes.
func (s *Service) HoldStatuses(ctx context.Context, hs []*Hold) ([]*HoldStatus, error) {
	out := make([]*HoldStatus, len(hs))
	now := s.now()
	type workInfo struct {
		queue []*Hold
		items []*catalog.StoredItem
		due   map[string]time.Time
	}
	works := map[string]*workInfo{}
	var libIDs []string
	for _, h := range hs {
		libIDs = append(libIDs, h.PickupLibraryID)
		if !h.State.Active() || works[h.WorkID] != nil {
			continue
		}
		w := &workInfo{due: map[string]time.Time{}}
		var err error
		if w.queue, err = s.store.ActiveHoldsForWork(ctx, h.WorkID); err != nil {
			return nil, err
		}
		if w.items, err = s.catalog.ItemsByWork(ctx, []string{h.WorkID}); err != nil {
			return nil, fmt.Errorf("reading the copies of %s: %w", h.WorkID, err)
		}
		var onLoan []string
		for _, it := range w.items {
			libIDs = append(libIDs, it.LibraryID)
			if it.Status == catalog.StatusOnLoan {
				onLoan = append(onLoan, it.Barcode)
			}
		}
		loans, err := s.store.ActiveLoansForCopies(ctx, onLoan)
		if err != nil {
			return nil, err
		}
		for _, l := range loans {
			w.due[l.Barcode] = l.DueAt
		}
		works[h.WorkID] = w
	}
	libs, err := s.libs(ctx, libIDs...)
	if err != nil {
		return nil, err
	}
	day := 24 * time.Hour
	period := time.Duration(s.rules.TermsFor("", auth.CategoryAdult).BookDays) * day
	late := time.Duration(s.rules.LateReturnDays) * day
	shelf := time.Duration(s.rules.HoldShelfDays) * day
	for i, h := range hs {
		st := &HoldStatus{Hold: h}
		out[i] = st
		w := works[h.WorkID]
		if w == nil || !h.State.Active() {
			continue
		}
		ahead := 0
		for _, q := range w.queue {
			if q.State.HasCopy() {
				continue
			}
			st.QueueLength++
			if q.ID == h.ID {
				st.Position = st.QueueLength
			} else if st.Position == 0 && q.State == HoldWaiting {
				ahead++
			}
		}
		if h.State.HasCopy() {
			continue
		}
		var free []time.Time
		minT, maxT := -1, 0
		pickup := libs[h.PickupLibraryID]
		for _, it := range w.items {
			if (h.ItemBarcode != "" && it.Barcode != h.ItemBarcode) || !s.servable(it, libs[it.LibraryID], h.PickupLibraryID) {
				continue
			}
			f := now
			switch it.Status {
			case catalog.StatusOnLoan:
				if d, ok := w.due[it.Barcode]; ok && d.After(now) {
					f = d
				}
			case catalog.StatusInTransit, catalog.StatusOnHoldShelf:
				f = now.Add(period)
			}
			free = append(free, f)
			t := s.transitDays(libs[it.LibraryID], pickup)
			if minT < 0 || t < minT {
				minT = t
			}
			maxT = max(maxT, t)
		}
		if len(free) == 0 {
			continue
		}
		sort.Slice(free, func(a, b int) bool { return free[a].Before(free[b]) })
		c := len(free)
		base, rounds := free[ahead%c], time.Duration(ahead/c)
		e := &WaitEstimate{
			Earliest: base.Add(rounds*period + time.Duration(minT)*day),
			Latest:   base.Add(late + rounds*(period+late+shelf) + time.Duration(maxT)*day),
		}
		if h.State == HoldSuspended && h.SuspendedUntil != nil {
			if e.Earliest.Before(*h.SuspendedUntil) {
				e.Earliest = *h.SuspendedUntil
			}
			if e.Latest.Before(*h.SuspendedUntil) {
				e.Latest = *h.SuspendedUntil
			}
		}
		st.Estimate = e
	}
	return out, nil
}

// transitDays is how long a copy takes from one library to another.
func (s *Service) transitDays(from, to *library.Library) int {
	switch {
	case from == nil || to == nil:
		return s.rules.TransitDaysOtherDistrict
	case from.ID == to.ID:
		return 0
	case from.District != "" && from.District == to.District:
		return s.rules.TransitDaysSameDistrict
	}
	return s.rules.TransitDaysOtherDistrict
}

// HoldShelf returns the holds waiting on a library's hold shelf (READY,
// with their pickup deadlines), for its staff.
func (s *Service) HoldShelf(ctx context.Context, actor auth.Actor, libraryID string) ([]*Hold, error) {
	return s.atPickup(ctx, actor, libraryID, HoldReady)
}

// IncomingTransits returns the holds whose copies are on their way to a
// library, for its staff.
func (s *Service) IncomingTransits(ctx context.Context, actor auth.Actor, libraryID string) ([]*Hold, error) {
	return s.atPickup(ctx, actor, libraryID, HoldInTransit)
}

func (s *Service) atPickup(ctx context.Context, actor auth.Actor, libraryID string, state HoldState) ([]*Hold, error) {
	if err := requireStaff(actor, libraryID); err != nil {
		return nil, err
	}
	hs, err := s.store.HoldsAtPickup(ctx, libraryID, state)
	if err != nil {
		return nil, fmt.Errorf("holds at %s: %w", libraryID, err)
	}
	return hs, nil
}

// ActiveHoldCounts returns the queue length of each work (for catalog
// pages; works without holds are left out).
func (s *Service) ActiveHoldCounts(ctx context.Context, workIDs []string) (map[string]int, error) {
	m, err := s.store.ActiveHoldCounts(ctx, workIDs)
	if err != nil {
		return nil, fmt.Errorf("hold counts: %w", err)
	}
	return m, nil
}

// HoldTopic is the pub/sub topic on which a reader's hold changes are
// announced (the hold's ID), for the holdUpdated subscription.
func HoldTopic(readerID string) string { return "holds:" + readerID }
