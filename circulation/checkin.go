package circulation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/events"
	"github.com/bacninh/thuvienso/library"
)

// CheckInAction is what the librarian does with a copy just checked in.
type CheckInAction string

// Check-in actions.
const (
	// ActionShelve: put it back on the shelf.
	ActionShelve CheckInAction = "SHELVE"
	// ActionHoldShelf: put it on this library's hold shelf (Hold is READY).
	ActionHoldShelf CheckInAction = "HOLD_SHELF"
	// ActionTransitToPickup: send it to the hold's pickup library.
	ActionTransitToPickup CheckInAction = "TRANSIT_TO_PICKUP"
	// ActionTransitHome: send it back to the library that owns it.
	ActionTransitHome CheckInAction = "TRANSIT_HOME"
	// ActionSetAside: keep it aside (damaged or being processed).
	ActionSetAside CheckInAction = "SET_ASIDE"
)

// CheckInResult says what a check-in did and what to do with the copy.
type CheckInResult struct {
	Item   *catalog.StoredItem
	Action CheckInAction
	// Destination is the library the copy goes to (transits).
	Destination string
	// Loan is the loan this check-in ended (nil when none).
	Loan *Loan
	// Hold is the hold the copy now serves (nil when none).
	Hold *Hold
}

// CheckInInput is a librarian's checkIn request.
type CheckInInput struct {
	// LibraryID is the desk: the librarian's library.
	LibraryID string
	Barcode   string
}

// CheckIn takes a copy in at a library desk: it ends its loan, if any, and
// targets it. A copy goes first to a waiting hold (not suspended) picked up
// at this library, then one picked up in the same district, then anywhere
// in the province, in queue order within each; holds on this very copy
// count with holds on its work. Picked up here, the hold becomes READY
// with a pickup deadline (the end of an open day HoldShelfDays ahead);
// elsewhere IN_TRANSIT. With no hold it goes back on the shelf, or home
// when it belongs to another library. A copy whose library does not lend
// to the network only serves holds picked up there. A copy in transit
// checked in at its pickup library is received (READY); scanning a copy
// again tells again what to do with it, changing nothing.
func (s *Service) CheckIn(ctx context.Context, actor auth.Actor, in CheckInInput) (*CheckInResult, error) {
	res, err := s.checkInAt(ctx, actor, in, false)
	if err != nil {
		return nil, fmt.Errorf("checking in %s: %w", in.Barcode, err)
	}
	return res, nil
}

// ReceiveTransit takes in a copy that arrived from another library: at its
// hold's pickup library the hold becomes READY with a pickup deadline; at
// home it is shelved or targeted like any check-in. A copy not in transit
// is refused.
func (s *Service) ReceiveTransit(ctx context.Context, actor auth.Actor, in CheckInInput) (*CheckInResult, error) {
	res, err := s.checkInAt(ctx, actor, in, true)
	if err != nil {
		return nil, fmt.Errorf("receiving %s: %w", in.Barcode, err)
	}
	return res, nil
}

func (s *Service) checkInAt(ctx context.Context, actor auth.Actor, in CheckInInput, transitOnly bool) (*CheckInResult, error) {
	if err := requireStaff(actor, in.LibraryID); err != nil {
		return nil, err
	}
	desk, err := s.library(ctx, in.LibraryID)
	if err != nil {
		return nil, err
	}
	if transitOnly {
		it, err := s.item(ctx, in.Barcode)
		if err != nil {
			return nil, err
		}
		if it.Status != catalog.StatusInTransit {
			return nil, ErrNotInTransit
		}
	}
	return s.checkIn(ctx, desk, in.Barcode)
}

// checkIn is CheckIn at desk, its permissions aside.
func (s *Service) checkIn(ctx context.Context, desk *library.Library, barcode string) (*CheckInResult, error) {
	var ended *Loan
	for attempt := range 8 {
		now := s.now()
		it, err := s.item(ctx, barcode)
		if err != nil {
			return nil, err
		}
		cv, err := s.readClaim(ctx, it.Barcode, now)
		if err != nil {
			return nil, err
		}
		var res *CheckInResult
		switch {
		case cv.busy:
			if err := backOff(ctx, attempt); err != nil {
				return nil, err
			}
			continue
		case cv.loan != nil:
			l, won, err := s.endLoan(ctx, cv.loan, LoanReturned, desk.ID, now)
			if err != nil {
				return nil, err
			}
			if won {
				ended = l
				s.recordHistory(ctx, l)
			}
			continue // the claim is now free to take
		case cv.hold != nil:
			res, err = s.atDesk(ctx, it, desk, cv.hold, now)
		default:
			res, err = s.place(ctx, it, desk, cv.holder, now)
		}
		if errors.Is(err, ErrClaimLost) || errors.Is(err, ErrStale) {
			continue // another desk or the scheduler moved it: look again
		}
		if err != nil {
			return nil, err
		}
		res.Loan = ended
		return res, nil
	}
	return nil, ErrClaimLost
}

// atDesk handles a copy scanned while its hold owns it: received at the
// pickup library (IN_TRANSIT → READY), or scanned again.
func (s *Service) atDesk(ctx context.Context, it *catalog.StoredItem, desk *library.Library, h *Hold, now time.Time) (*CheckInResult, error) {
	res := &CheckInResult{Item: it, Hold: h}
	if h.PickupLibraryID != desk.ID {
		res.Action, res.Destination = ActionTransitToPickup, h.PickupLibraryID
		return res, nil
	}
	res.Action = ActionHoldShelf
	if h.State == HoldInTransit {
		deadline, err := s.calendar.DueAt(ctx, desk, now, s.rules.HoldShelfDays)
		if err != nil {
			return nil, err
		}
		c := *h
		c.State, c.ReadyAt, c.PickupDeadline = HoldReady, &now, &deadline
		if err := s.store.UpdateHold(ctx, &c); err != nil {
			return nil, err // ErrStale: look again
		}
		res.Hold = &c
		s.recordReady(ctx, &c)
	}
	// The hold owns the copy: its status follows the hold.
	item, err := s.setItemStatus(ctx, it.Barcode, catalog.StatusOnHoldShelf, now)
	if err != nil {
		return nil, err
	}
	res.Item = item
	return res, nil
}

// place decides where a copy in hand at desk goes, taking its claim from
// holder (the claim as read: free, or held by an ended or lost holder):
// to the best waiting hold, else to the shelf or home. ErrClaimLost when
// another caller took the claim first.
func (s *Service) place(ctx context.Context, it *catalog.StoredItem, desk *library.Library, holder string, now time.Time) (*CheckInResult, error) {
	res := &CheckInResult{Item: it}
	switch it.Status {
	case catalog.StatusDamaged, catalog.StatusInProcessing:
		res.Action = ActionSetAside
		return res, s.handOver(ctx, it.Barcode, holder, "", now)
	}
	var cands []*Hold
	var libs map[string]*library.Library
	if it.WorkID != "" && it.Status != catalog.StatusReferenceOnly && Classify(&it.Item) != ClassReference {
		queue, err := s.store.ActiveHoldsForWork(ctx, it.WorkID)
		if err != nil {
			return nil, err
		}
		ids := []string{desk.ID, it.LibraryID}
		for _, h := range queue {
			ids = append(ids, h.PickupLibraryID)
		}
		if libs, err = s.libs(ctx, ids...); err != nil {
			return nil, err
		}
		network := s.rules.LendsToNetwork(libs[it.LibraryID])
		for _, h := range queue {
			if h.State == HoldWaiting && (h.ItemBarcode == "" || h.ItemBarcode == it.Barcode) &&
				(network || h.PickupLibraryID == it.LibraryID) && libs[h.PickupLibraryID] != nil {
				cands = append(cands, h)
			}
		}
		tier := func(h *Hold) int {
			p := libs[h.PickupLibraryID]
			switch {
			case p.ID == desk.ID:
				return 0
			case p.District != "" && p.District == desk.District:
				return 1
			}
			return 2
		}
		sort.SliceStable(cands, func(a, b int) bool { return tier(cands[a]) < tier(cands[b]) })
	}
	cur := holder
	for _, h := range cands {
		to := holdHolder(h.ID)
		if err := s.handOver(ctx, it.Barcode, cur, to, now); err != nil {
			if cur != holder && errors.Is(err, ErrClaimLost) {
				err = fmt.Errorf("the claim of copy %s was taken while this desk held it: %w", it.Barcode, err)
			}
			return nil, err
		}
		cur = to
		pickup := libs[h.PickupLibraryID]
		c := *h
		c.Barcode, c.TargetedAt = it.Barcode, &now
		want := catalog.StatusInTransit
		if pickup.ID == desk.ID {
			deadline, err := s.calendar.DueAt(ctx, pickup, now, s.rules.HoldShelfDays)
			if err != nil {
				return nil, err
			}
			c.State, c.ReadyAt, c.PickupDeadline, want = HoldReady, &now, &deadline, catalog.StatusOnHoldShelf
		} else {
			c.State = HoldInTransit
		}
		err := s.store.UpdateHold(ctx, &c)
		if errors.Is(err, ErrStale) {
			continue // cancelled, suspended or served meanwhile: the next one
		}
		if err != nil {
			if rerr := s.handOver(ctx, it.Barcode, cur, holder, now); rerr != nil {
				err = errors.Join(err, rerr)
			}
			return nil, err
		}
		item, err := s.setItemStatus(ctx, it.Barcode, want, now)
		if err != nil {
			return nil, err
		}
		res.Item, res.Hold = item, &c
		if c.State == HoldReady {
			res.Action = ActionHoldShelf
			s.recordReady(ctx, &c)
		} else {
			res.Action, res.Destination = ActionTransitToPickup, c.PickupLibraryID
			s.record(ctx, &events.Event{
				Key: "hold-in-transit:" + c.ID + ":" + it.Barcode + ":" + unix(now), Kind: events.HoldInTransit,
				ReaderID: c.ReaderID, SubjectID: c.ID, WorkID: c.WorkID, LibraryID: c.PickupLibraryID, At: now,
				Data: map[string]string{"barcode": it.Barcode, "from": desk.ID},
			})
		}
		return res, nil
	}
	// Nobody waits for it here or anywhere it may go.
	if err := s.handOver(ctx, it.Barcode, cur, "", now); err != nil {
		return nil, err
	}
	if desk.ID == it.LibraryID {
		res.Action = ActionShelve
	} else {
		res.Action, res.Destination = ActionTransitHome, it.LibraryID
	}
	if it.Status == catalog.StatusReferenceOnly {
		return res, nil
	}
	want := catalog.StatusAvailable
	if res.Action == ActionTransitHome {
		want = catalog.StatusInTransit
	}
	item, err := s.setItemStatus(ctx, it.Barcode, want, now)
	if err != nil {
		return nil, err
	}
	res.Item = item
	return res, nil
}

// recordReady records the "hold ready" event of a hold just made READY.
func (s *Service) recordReady(ctx context.Context, h *Hold) {
	s.record(ctx, readyEvent(h))
}

// readyEvent is the "hold ready" event of a READY hold, made from the
// stored hold alone: the expiry pass makes it again for a hold whose event
// a crash lost (events.RecoverLost). Nil for a hold not made ready.
func readyEvent(h *Hold) *events.Event {
	if h.ReadyAt == nil || h.PickupDeadline == nil {
		return nil
	}
	return &events.Event{
		Key: "hold-ready:" + h.ID + ":" + unix(*h.ReadyAt), Kind: events.HoldReady, ReaderID: h.ReaderID,
		SubjectID: h.ID, WorkID: h.WorkID, LibraryID: h.PickupLibraryID, At: *h.ReadyAt,
		Data: map[string]string{"barcode": h.Barcode, "deadline": h.PickupDeadline.UTC().Format(time.RFC3339)},
	}
}

// MarkItemLost records a copy as lost (staff of its library): a loan of it
// ends as LOST; a hold it was set aside for goes back to waiting, in its
// place.
func (s *Service) MarkItemLost(ctx context.Context, actor auth.Actor, barcode string) (*catalog.StoredItem, error) {
	it, err := s.markItem(ctx, actor, barcode, catalog.StatusLost)
	if err != nil {
		return nil, fmt.Errorf("marking %s lost: %w", barcode, err)
	}
	return it, nil
}

// MarkItemDamaged records a copy as damaged (staff of its library). A copy
// on loan must be checked in first; a hold it was set aside for goes back
// to waiting, in its place.
func (s *Service) MarkItemDamaged(ctx context.Context, actor auth.Actor, barcode string) (*catalog.StoredItem, error) {
	it, err := s.markItem(ctx, actor, barcode, catalog.StatusDamaged)
	if err != nil {
		return nil, fmt.Errorf("marking %s damaged: %w", barcode, err)
	}
	return it, nil
}

// MarkItemFound returns a lost or damaged (repaired) copy to circulation:
// it is checked in at the desk, so a waiting hold gets it first.
func (s *Service) MarkItemFound(ctx context.Context, actor auth.Actor, in CheckInInput) (*CheckInResult, error) {
	res, err := s.markFound(ctx, actor, in)
	if err != nil {
		return nil, fmt.Errorf("marking %s found: %w", in.Barcode, err)
	}
	return res, nil
}

func (s *Service) markFound(ctx context.Context, actor auth.Actor, in CheckInInput) (*CheckInResult, error) {
	if err := requireStaff(actor, in.LibraryID); err != nil {
		return nil, err
	}
	desk, err := s.library(ctx, in.LibraryID)
	if err != nil {
		return nil, err
	}
	it, err := s.item(ctx, in.Barcode)
	if err != nil {
		return nil, err
	}
	if it.Status == catalog.StatusLost || it.Status == catalog.StatusDamaged {
		if _, err := s.catalog.SetItemStatus(ctx, it.Barcode, []catalog.ItemStatus{it.Status},
			catalog.StatusAvailable, s.now()); err != nil && !errors.Is(err, catalog.ErrItemStatusConflict) {
			return nil, err
		}
	}
	return s.checkIn(ctx, desk, in.Barcode)
}

func (s *Service) markItem(ctx context.Context, actor auth.Actor, barcode string, to catalog.ItemStatus) (*catalog.StoredItem, error) {
	it, err := s.item(ctx, barcode)
	if err != nil {
		return nil, err
	}
	if err := requireStaff(actor, it.LibraryID); err != nil {
		return nil, err
	}
	for attempt := range 8 {
		now := s.now()
		cv, err := s.readClaim(ctx, it.Barcode, now)
		if err != nil {
			return nil, err
		}
		switch {
		case cv.busy:
			if err := backOff(ctx, attempt); err != nil {
				return nil, err
			}
			continue
		case cv.loan != nil:
			if to != catalog.StatusLost {
				return nil, ErrCopyOnLoan
			}
			if _, _, err := s.endLoan(ctx, cv.loan, LoanLost, "", now); err != nil {
				return nil, err
			}
			continue
		case cv.hold != nil:
			// Back to waiting, in its place; the copy is freed below.
			_, err := s.updateHold(ctx, cv.hold, func(c *Hold) (bool, error) {
				if !c.State.HasCopy() || c.Barcode != it.Barcode {
					return false, nil
				}
				c.State, c.Barcode, c.TargetedAt, c.ReadyAt, c.PickupDeadline = HoldWaiting, "", nil, nil, nil
				return true, nil
			})
			if err != nil {
				return nil, err
			}
		}
		if err := s.handOver(ctx, it.Barcode, cv.holder, "", now); errors.Is(err, ErrClaimLost) {
			continue
		} else if err != nil {
			return nil, err
		}
		return s.setItemStatus(ctx, it.Barcode, to, now)
	}
	return nil, ErrClaimLost
}
