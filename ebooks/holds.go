package ebooks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/events"
)

// PlaceHoldInput is a placeEbookHold request.
type PlaceHoldInput struct {
	TitleID string
	// LoanDays is the period of the loan the hold becomes (0: default).
	LoanDays int
	// AutoBorrow borrows the title as soon as a copy is reserved.
	AutoBorrow bool
	// IdempotencyKey makes a retried request return the first answer.
	IdempotencyKey string
}

// PlaceHold puts the actor in the title's queue. When a copy the reader may
// use is free and nobody is ahead, it is reserved at once (and borrowed,
// with AutoBorrow).
func (s *Service) PlaceHold(ctx context.Context, actor auth.Actor, in PlaceHoldInput) (*Hold, error) {
	acc, err := s.reader(ctx, actor)
	if err == nil {
		var h *Hold
		if h, err = s.placeHold(ctx, acc, in); err == nil {
			return h, nil
		}
	}
	return nil, fmt.Errorf("placing a hold on e-book %s: %w", in.TitleID, err)
}

func (s *Service) placeHold(ctx context.Context, acc *auth.Account, in PlaceHoldInput) (*Hold, error) {
	if in.IdempotencyKey == "" {
		return s.placeHoldOnce(ctx, acc, in)
	}
	r, err := s.byKey(ctx, acc.ID, in.IdempotencyKey, in.TitleID)
	if err == nil && r == nil {
		var h *Hold
		if h, err = s.placeHoldOnce(ctx, acc, in); err == nil {
			return h, nil
		}
		// A concurrent retry of this request may have placed the hold.
		r, err = s.answerForKey(ctx, acc.ID, in.IdempotencyKey, in.TitleID, err)
	}
	switch {
	case err != nil:
		return nil, err
	case r.Hold == nil: // the key made a loan
		return nil, ErrIdempotencyKeyUsed
	}
	return r.Hold, nil
}

// placeHoldOnce is one request to place a hold, its idempotency key aside.
func (s *Service) placeHoldOnce(ctx context.Context, acc *auth.Account, in PlaceHoldInput) (*Hold, error) {
	title, err := s.store.Title(ctx, in.TitleID)
	if err != nil {
		return nil, err
	}
	if in.LoanDays != 0 {
		if _, err := s.loanDays(in.LoanDays, title.Format); err != nil {
			return nil, err
		}
	}
	loans, err := s.store.LoansForReader(ctx, acc.ID, true)
	if err != nil {
		return nil, err
	}
	for _, l := range loans {
		if l.TitleID == title.ID {
			return nil, ErrAlreadyBorrowed
		}
	}
	holds, err := s.store.HoldsForReader(ctx, acc.ID, true)
	if err != nil {
		return nil, err
	}
	for _, h := range holds {
		if h.TitleID == title.ID {
			return nil, ErrAlreadyOnHold
		}
	}
	if len(holds) >= s.cfg.MaxHolds {
		return nil, ErrHoldLimit
	}
	licenses, err := s.store.LicensesForTitles(ctx, []string{title.ID})
	if err != nil {
		return nil, err
	}
	sc := s.scopes(ctx)
	if !slices.ContainsFunc(licenses, func(l *License) bool { return sc.eligible(acc, l) }) {
		return nil, ErrNotLendable
	}
	h := &Hold{ID: newID(), TitleID: title.ID, ReaderID: acc.ID, State: HoldWaiting, CreatedAt: s.now(),
		LoanDays: in.LoanDays, AutoBorrow: in.AutoBorrow, IdempotencyKey: in.IdempotencyKey}
	if err := s.store.CreateHold(ctx, h); err != nil {
		if in.IdempotencyKey != "" {
			if prev, kerr := s.store.HoldByIdempotencyKey(ctx, acc.ID, in.IdempotencyKey); kerr == nil && prev.TitleID == title.ID {
				return prev, nil
			}
		}
		return nil, err
	}
	// Concurrent holds of one reader: the earliest MaxHolds stay.
	holds, err = s.store.HoldsForReader(ctx, acc.ID, true)
	if err != nil {
		return nil, err
	}
	if i := slices.IndexFunc(holds, func(x *Hold) bool { return x.ID == h.ID }); i >= s.cfg.MaxHolds {
		now := s.now()
		h.State, h.EndedAt = HoldCancelled, &now
		if err := s.store.UpdateHold(ctx, h); err != nil {
			return nil, err
		}
		return nil, ErrHoldLimit
	}
	if err := s.fillQueue(ctx, title.ID); err != nil {
		return nil, err
	}
	return s.store.Hold(ctx, h.ID)
}

// ownHold returns the actor's hold (an admin may act on any).
func (s *Service) ownHold(ctx context.Context, actor auth.Actor, holdID string) (*Hold, error) {
	if actor.AccountID == "" {
		return nil, thuvienso.ErrUnauthenticated
	}
	h, err := s.store.Hold(ctx, holdID)
	if err != nil {
		return nil, err
	}
	if h.ReaderID != actor.AccountID && !actor.IsAdmin() {
		return nil, thuvienso.ErrNotFound
	}
	return h, nil
}

// CancelHold takes the actor out of the queue; a reserved copy passes on.
// Cancelling a cancelled hold returns it unchanged.
func (s *Service) CancelHold(ctx context.Context, actor auth.Actor, holdID string) (*Hold, error) {
	h, err := s.ownHold(ctx, actor, holdID)
	if err == nil {
		h, err = s.endHold(ctx, h, HoldCancelled)
	}
	if err != nil {
		return nil, fmt.Errorf("cancelling e-book hold %s: %w", holdID, err)
	}
	return h, nil
}

// endHold moves an active hold to an end state by compare-and-set; the
// winner gives a reserved copy back and serves the queue.
func (s *Service) endHold(ctx context.Context, h *Hold, state HoldState) (*Hold, error) {
	for range 5 {
		if h.State == state {
			return h, nil
		}
		if !h.State.ActiveState() {
			return nil, ErrHoldNotActive
		}
		now := s.now()
		c := *h
		c.State, c.EndedAt = state, &now
		err := s.store.UpdateHold(ctx, &c)
		if errors.Is(err, ErrStale) {
			if h, err = s.store.Hold(ctx, h.ID); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if h.State == HoldReserved {
			if err := s.giveBack(ctx, h.LicenseID, h.ID, h.TitleID); err != nil {
				return &c, err
			}
		}
		return &c, nil
	}
	return nil, ErrStale
}

// giveBack releases the seat of holderID and, when this call released it,
// serves the title's queue.
func (s *Service) giveBack(ctx context.Context, licenseID, holderID, titleID string) error {
	released, err := s.store.ReleaseSeat(ctx, licenseID, holderID)
	if err != nil || !released {
		return err
	}
	return s.fillQueue(ctx, titleID)
}

// SuspendHold pauses a waiting hold until until (nil: until resumed). It
// keeps its place and moves up the queue, but is passed over while
// suspended.
func (s *Service) SuspendHold(ctx context.Context, actor auth.Actor, holdID string, until *time.Time) (*Hold, error) {
	h, err := s.ownHold(ctx, actor, holdID)
	if err == nil {
		switch {
		case h.State == HoldSuspended:
		case h.State != HoldWaiting:
			err = ErrHoldNotSuspendable
		case until != nil && !until.After(s.now()):
			err = thuvienso.Invalid("input.until", "the end of the suspension must be in the future", "thời điểm kết thúc tạm hoãn phải ở tương lai")
		}
	}
	if err == nil {
		if until != nil {
			u := until.UTC()
			until = &u
		}
		h.State, h.SuspendedUntil = HoldSuspended, until
		err = s.store.UpdateHold(ctx, h)
	}
	if err != nil {
		return nil, fmt.Errorf("suspending e-book hold %s: %w", holdID, err)
	}
	return h, nil
}

// ResumeHold makes a suspended hold wait again, at its old place.
func (s *Service) ResumeHold(ctx context.Context, actor auth.Actor, holdID string) (*Hold, error) {
	h, err := s.ownHold(ctx, actor, holdID)
	if err == nil && h.State != HoldSuspended {
		if h.State == HoldWaiting || h.State == HoldReserved {
			return h, nil
		}
		err = ErrHoldNotActive
	}
	if err == nil {
		h.State, h.SuspendedUntil = HoldWaiting, nil
		if err = s.store.UpdateHold(ctx, h); err == nil {
			err = s.fillQueue(ctx, h.TitleID)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("resuming e-book hold %s: %w", holdID, err)
	}
	return s.store.Hold(ctx, h.ID)
}

// HoldStatus is a hold with its place in the queue.
type HoldStatus struct {
	*Hold
	// Position is 1 for the next reader to be served (0 when reserved);
	// suspended holds ahead do not count.
	Position int
	// QueueLength counts every active hold of the title.
	QueueLength int
	// EstimatedAvailableAt is when a copy should come free for this hold
	// (nil when no license could ever serve it).
	EstimatedAvailableAt *time.Time
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
		if out, err = s.holdStatuses(ctx, hs); err == nil {
			return out, nil
		}
	}
	return nil, fmt.Errorf("listing e-book holds: %w", err)
}

// HoldStatus returns one of the actor's holds with its place in the queue.
func (s *Service) HoldStatus(ctx context.Context, actor auth.Actor, holdID string) (*HoldStatus, error) {
	h, err := s.ownHold(ctx, actor, holdID)
	if err == nil {
		var st []*HoldStatus
		if st, err = s.holdStatuses(ctx, []*Hold{h}); err == nil {
			return st[0], nil
		}
	}
	return nil, fmt.Errorf("e-book hold %s: %w", holdID, err)
}

// holdStatuses computes positions and estimates. The estimate: the hold's
// copies are the eligible usable licenses' copies (c); the readers ahead
// (k) take the copies as the current loans end, sorted by end, and a
// copy lent again comes back after a default loan period, so the hold is
// served around ends[k mod c] + (k div c) × period.
func (s *Service) holdStatuses(ctx context.Context, hs []*Hold) ([]*HoldStatus, error) {
	out := make([]*HoldStatus, len(hs))
	now := s.now()
	type titleInfo struct {
		queue    []*Hold
		licenses []*License
		loans    []*Loan
		title    *Title
	}
	infos := map[string]*titleInfo{}
	var accs map[string]*auth.Account
	sc := s.scopes(ctx)
	for i, h := range hs {
		st := &HoldStatus{Hold: h}
		out[i] = st
		if !h.State.ActiveState() {
			continue
		}
		info := infos[h.TitleID]
		if info == nil {
			info = &titleInfo{}
			var err error
			if info.title, err = s.store.Title(ctx, h.TitleID); err != nil {
				return nil, err
			}
			if info.queue, err = s.store.ActiveHoldsForTitle(ctx, h.TitleID); err != nil {
				return nil, err
			}
			if info.licenses, err = s.store.LicensesForTitles(ctx, []string{h.TitleID}); err != nil {
				return nil, err
			}
			if info.loans, err = s.store.ActiveLoansForTitles(ctx, []string{h.TitleID}); err != nil {
				return nil, err
			}
			infos[h.TitleID] = info
		}
		if accs == nil {
			var err error
			if accs, err = s.accounts(ctx, []string{h.ReaderID}); err != nil {
				return nil, err
			}
		}
		st.QueueLength = len(info.queue)
		if h.State == HoldReserved {
			st.EstimatedAvailableAt = &now
			continue
		}
		ahead := 0
		for _, q := range info.queue {
			if q.ID == h.ID {
				break
			}
			if q.State != HoldSuspended {
				ahead++
			}
		}
		st.Position = ahead + 1
		copies, unlimited := 0, false
		usable := map[string]bool{}
		for _, l := range info.licenses {
			if !l.Usable(now) || !sc.eligible(accs[h.ReaderID], l) {
				continue
			}
			usable[l.ID] = true
			if !l.Limited() {
				unlimited = true
			} else {
				copies += l.Concurrency
			}
		}
		if unlimited {
			st.EstimatedAvailableAt = &now
			continue
		}
		if copies == 0 {
			continue
		}
		var ends []time.Time
		for _, l := range info.loans {
			if usable[l.LicenseID] {
				ends = append(ends, l.EndsAt)
			}
		}
		sort.Slice(ends, func(a, b int) bool { return ends[a].Before(ends[b]) })
		period := time.Duration(s.cfg.DefaultLoanDays[info.title.Format]) * 24 * time.Hour
		if period == 0 {
			period = 14 * 24 * time.Hour
		}
		base := now
		if slot := ahead % copies; slot < len(ends) {
			base = ends[slot]
		}
		est := base.Add(time.Duration(ahead/copies) * period)
		if est.Before(now) {
			est = now
		}
		st.EstimatedAvailableAt = &est
	}
	return out, nil
}

// fillQueue gives the title's free copies to its waiting holds, in queue
// order, each to the first hold that may use its license. Each
// reservation takes a seat first (one conditional update of the license),
// then moves the hold from WAITING to RESERVED by compare-and-set; when
// the hold changed meanwhile, the seat goes back.
func (s *Service) fillQueue(ctx context.Context, titleID string) error {
	for range 1000 {
		// The licenses first: with no copy free (the usual case when a
		// queue is long) the queue need not be read at all.
		now := s.now()
		licenses, err := s.store.LicensesForTitles(ctx, []string{titleID})
		if err != nil {
			return err
		}
		SortLicenses(licenses)
		var free []*License
		for _, l := range licenses {
			if l.HasFreeCopy(now) {
				free = append(free, l)
			}
		}
		if len(free) == 0 {
			return nil
		}
		queue, err := s.store.ActiveHoldsForTitle(ctx, titleID)
		if err != nil {
			return err
		}
		var waiting []*Hold
		var readerIDs []string
		for _, h := range queue {
			if h.State == HoldWaiting {
				waiting = append(waiting, h)
				readerIDs = append(readerIDs, h.ReaderID)
			}
		}
		if len(waiting) == 0 {
			return nil
		}
		accs, err := s.accounts(ctx, readerIDs)
		if err != nil {
			return err
		}
		sc := s.scopes(ctx)
		progressed := false
	holds:
		for _, h := range waiting {
			for _, l := range free {
				if !sc.eligible(accs[h.ReaderID], l) {
					continue
				}
				ok, err := s.reserve(ctx, h, l, now)
				if err != nil {
					return err
				}
				progressed = true
				if ok {
					break holds
				}
			}
		}
		if !progressed {
			return nil
		}
	}
	return nil
}

// reserve reserves a copy of l for h; it reports whether h got it.
func (s *Service) reserve(ctx context.Context, h *Hold, l *License, now time.Time) (bool, error) {
	if _, err := s.store.AcquireSeat(ctx, l.ID, Seat{HolderID: h.ID, Kind: SeatHold, AcquiredAt: now}, now); err != nil {
		if errors.Is(err, ErrNoSeat) {
			return false, nil
		}
		return false, err
	}
	until := now.Add(s.cfg.ReservationPeriod)
	c := *h
	c.State, c.LicenseID, c.ReservedAt, c.ReservedUntil = HoldReserved, l.ID, &now, &until
	if err := s.store.UpdateHold(ctx, &c); err != nil {
		if errors.Is(err, ErrStale) {
			// A racing call (another return serving the queue, another
			// instance's expiry pass) may have reserved this very copy for
			// h: the seat's holder is the hold, so AcquireSeat gave both
			// calls the one seat, and it is the winner's to keep.
			cur, gerr := s.store.Hold(ctx, h.ID)
			if gerr != nil {
				return false, gerr
			}
			if cur.State == HoldReserved && cur.LicenseID == l.ID {
				return true, nil
			}
		}
		if _, rerr := s.store.ReleaseSeat(ctx, l.ID, h.ID); rerr != nil {
			return false, errors.Join(err, rerr)
		}
		if errors.Is(err, ErrStale) {
			return false, nil
		}
		return false, err
	}
	s.record(ctx, reservedEvent(&c))
	if c.AutoBorrow {
		accs, err := s.accounts(ctx, []string{c.ReaderID})
		if err != nil {
			return true, err
		}
		if acc := accs[c.ReaderID]; acc != nil {
			title, err := s.store.Title(ctx, c.TitleID)
			if err != nil {
				return true, err
			}
			days, err := s.loanDays(c.LoanDays, title.Format)
			if err != nil {
				days, _ = s.loanDays(0, title.Format)
			}
			// Over the loan limit, the reservation simply stays.
			if _, err := s.borrowReserved(ctx, acc, &c, days, "", nil); err != nil &&
				!errors.Is(err, ErrLoanLimit) && !errors.Is(err, ErrStale) && !errors.Is(err, ErrNoCopyAvailable) {
				return true, err
			}
		}
	}
	return true, nil
}

// HoldTopic is the pub/sub topic on which a reader's e-book hold changes
// are announced (the hold's ID), for the ebookHoldUpdated subscription.
func HoldTopic(readerID string) string { return "ebook-holds:" + readerID }

// reservedEvent is the "a copy is reserved for you" event of a RESERVED
// hold, made from the stored hold alone: the expiry pass makes it again for
// a reservation whose event a crash lost (events.RecoverLost). Nil for a
// hold without a reservation.
func reservedEvent(h *Hold) *events.Event {
	if h.ReservedAt == nil || h.ReservedUntil == nil {
		return nil
	}
	return &events.Event{
		Key: "ebook-hold-reserved:" + h.ID + ":" + strconv.FormatInt(h.ReservedAt.UnixNano(), 10), Kind: events.EbookHoldReserved,
		ReaderID: h.ReaderID, SubjectID: h.ID, At: *h.ReservedAt,
		Data: map[string]string{"titleId": h.TitleID, "deadline": h.ReservedUntil.UTC().Format(time.RFC3339)},
	}
}
