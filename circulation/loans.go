package circulation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/events"
)

// CheckOutInput is a librarian's checkOut request.
type CheckOutInput struct {
	// LibraryID is the desk: the librarian's library.
	LibraryID string
	// CardNumber finds the reader; ReaderID may be given instead (when
	// the resolver verified a digital card's token, say).
	CardNumber string
	ReaderID   string
	Barcode    string
	// IdempotencyKey makes a retried request return the first answer.
	IdempotencyKey string
}

// CheckOut lends a copy to a reader at a library desk, with every rule
// checked: the librarian works there, the reader is not blocked and is
// under the loan limit, the copy is lendable (not reference, lost, damaged
// or in transit; on the hold shelf only for the reader it waits for; lent
// outside its library only if that library lends to the network). The due
// date is the end of the first open day of the desk's library at least the
// loan period ahead. A hold of the reader on the work is fulfilled.
// Scanning a copy the reader already has returns that loan.
func (s *Service) CheckOut(ctx context.Context, actor auth.Actor, in CheckOutInput) (*Loan, error) {
	l, err := s.checkOut(ctx, actor, in)
	if err != nil {
		return nil, fmt.Errorf("checking out %s: %w", in.Barcode, err)
	}
	return l, nil
}

func (s *Service) checkOut(ctx context.Context, actor auth.Actor, in CheckOutInput) (*Loan, error) {
	if err := requireStaff(actor, in.LibraryID); err != nil {
		return nil, err
	}
	desk, err := s.library(ctx, in.LibraryID)
	if err != nil {
		return nil, err
	}
	var acc *auth.Account
	if in.ReaderID != "" {
		accs, err := s.accountsByID(ctx, []string{in.ReaderID})
		if err != nil {
			return nil, err
		}
		if acc = accs[in.ReaderID]; acc == nil {
			return nil, ErrReaderNotFound
		}
	} else if acc, err = s.readerByCard(ctx, in.CardNumber); err != nil {
		return nil, err
	}
	in.Barcode = strings.TrimSpace(in.Barcode)
	if in.IdempotencyKey != "" {
		if prev, err := s.loanForKey(ctx, acc.ID, in); prev != nil || err != nil {
			return s.showLent(ctx, prev, err)
		}
	}
	l, err := s.checkOutOnce(ctx, desk.ID, acc, in)
	if err != nil && in.IdempotencyKey != "" {
		if prev, kerr := s.loanForKey(ctx, acc.ID, in); prev != nil || kerr != nil {
			return s.showLent(ctx, prev, kerr)
		}
	}
	return l, err
}

// showLent finishes a check-out found again (a retry, the copy scanned
// again): the order is "claim, record the loan, set the status", so a
// crash after the loan was recorded leaves the copy AVAILABLE in the
// catalog (and in search) while it is lent; the claim keeps it from being
// lent twice, and the request that finds the loan sets the status.
func (s *Service) showLent(ctx context.Context, l *Loan, err error) (*Loan, error) {
	if err != nil || l == nil || l.State != LoanActive {
		return l, err
	}
	cl, err := s.store.CopyClaim(ctx, l.Barcode)
	if err != nil || cl.Holder != loanHolder(l.ID) {
		return l, nil // checked in meanwhile: the check-in set the status
	}
	if _, err := s.setItemStatus(ctx, l.Barcode, catalog.StatusOnLoan, s.now()); err != nil {
		return l, err
	}
	return l, nil
}

// loanForKey returns the loan made with the request's key, nil when none.
func (s *Service) loanForKey(ctx context.Context, readerID string, in CheckOutInput) (*Loan, error) {
	prev, err := s.store.LoanByIdempotencyKey(ctx, readerID, in.IdempotencyKey)
	switch {
	case errors.Is(err, thuvienso.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case prev.Barcode != in.Barcode:
		return nil, ErrIdempotencyKeyUsed
	}
	return prev, nil
}

func (s *Service) checkOutOnce(ctx context.Context, deskID string, acc *auth.Account, in CheckOutInput) (*Loan, error) {
	for attempt := range 5 {
		now := s.now()
		it, err := s.item(ctx, in.Barcode)
		if err != nil {
			return nil, err
		}
		if Classify(&it.Item) == ClassReference {
			return nil, ErrNotForLoan
		}
		libs, err := s.libs(ctx, deskID, it.LibraryID)
		if err != nil {
			return nil, err
		}
		desk, owner := libs[deskID], libs[it.LibraryID]
		if it.LibraryID != deskID && !s.rules.LendsToNetwork(owner) {
			return nil, ErrNotLentToNetwork
		}
		loans, err := s.store.LoansForReader(ctx, acc.ID, true)
		if err != nil {
			return nil, err
		}
		for _, l := range loans {
			if l.Barcode == it.Barcode {
				return s.showLent(ctx, l, nil) // scanned again
			}
		}
		if err := s.checkBlocks(ctx, acc, loans, now); err != nil {
			return nil, err
		}
		maxLoans := s.rules.MaxLoansFor(category(acc))
		if len(loans) >= maxLoans {
			return nil, ErrLoanLimit
		}
		cv, err := s.readClaim(ctx, it.Barcode, now)
		if err != nil {
			return nil, err
		}
		var hold *Hold
		switch {
		case cv.busy:
			if err := backOff(ctx, attempt); err != nil {
				return nil, err
			}
			continue
		case cv.loan != nil:
			if cv.loan.ReaderID == acc.ID {
				return cv.loan, nil // lent at another desk a moment ago
			}
			return nil, ErrCopyOnLoan
		case cv.hold != nil:
			switch {
			case cv.hold.ReaderID != acc.ID:
				return nil, ErrCopyHeldForOther
			case cv.hold.State == HoldInTransit:
				return nil, ErrCopyInTransit
			case cv.hold.PickupLibraryID != deskID:
				return nil, ErrWrongDesk
			}
			hold = cv.hold
		default:
			switch it.Status {
			case catalog.StatusAvailable, catalog.StatusOnLoan, catalog.StatusOnHoldShelf:
				// On the shelf (a stale ON_LOAN or ON_HOLD_SHELF left by a
				// crash is what the free claim says it is: free).
			case catalog.StatusInTransit:
				return nil, ErrCopyInTransit
			default:
				return nil, ErrCopyUnavailable
			}
		}
		var ownerType = desk.Type
		if owner != nil {
			ownerType = owner.Type
		}
		days := s.rules.TermsFor(ownerType, category(acc)).Days(Classify(&it.Item))
		due, err := s.calendar.DueAt(ctx, desk, now, days)
		if err != nil {
			return nil, err
		}
		loan := &Loan{ID: idFor("loan", acc.ID, in.IdempotencyKey), ReaderID: acc.ID, Barcode: it.Barcode, WorkID: it.WorkID,
			LibraryID: deskID, ItemLibraryID: it.LibraryID, State: LoanActive, CheckedOutAt: now, DueAt: due,
			IdempotencyKey: in.IdempotencyKey}
		if hold != nil {
			loan.HoldID = hold.ID
		}
		// Claim the copy; detach it from the hold it waited for (so that
		// no hold keeps it once lent); record the loan; set the status.
		err = s.handOver(ctx, it.Barcode, cv.holder, loanHolder(loan.ID), now)
		if errors.Is(err, ErrClaimLost) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var fulfilled *Hold
		if hold != nil {
			if fulfilled, err = s.fulfilHold(ctx, hold, loan, now); err != nil {
				return nil, errors.Join(err, s.handOver(ctx, it.Barcode, loanHolder(loan.ID), cv.holder, now))
			}
		}
		used := make([]int, len(loans))
		for i, l := range loans {
			used[i] = l.Slot
		}
		if err := s.recordLoan(ctx, loan, used, maxLoans); err != nil {
			if fulfilled != nil {
				// Back on the hold shelf for the reader.
				back := *hold
				back.Version = fulfilled.Version
				err = errors.Join(err, s.store.UpdateHold(ctx, &back))
			}
			if rerr := s.handOver(ctx, it.Barcode, loanHolder(loan.ID), cv.holder, now); rerr != nil {
				return nil, errors.Join(err, rerr)
			}
			return nil, err
		}
		if _, err := s.setItemStatus(ctx, it.Barcode, catalog.StatusOnLoan, now); err != nil {
			return loan, err
		}
		if hold == nil {
			s.fulfilWaiting(ctx, acc.ID, it.WorkID, loan, now)
		}
		return loan, nil
	}
	return nil, ErrClaimLost
}

// recordLoan inserts the loan in the lowest of the reader's loan slots no
// active loan has; the store keeps them unique, so concurrent check-outs
// to one reader never pass the limit.
func (s *Service) recordLoan(ctx context.Context, loan *Loan, used []int, maxLoans int) error {
	for range maxLoans + 1 {
		slot, ok := freeSlot(used, maxLoans)
		if !ok {
			return ErrLoanLimit
		}
		loan.Slot = slot
		err := s.store.CreateLoan(ctx, loan)
		if !errors.Is(err, ErrLoanSlotTaken) {
			return err
		}
		active, err := s.store.LoansForReader(ctx, loan.ReaderID, true)
		if err != nil {
			return err
		}
		used = used[:0]
		for _, l := range active {
			used = append(used, l.Slot)
		}
	}
	return ErrStale
}

// fulfilHold marks the READY hold a copy is lent from FULFILLED by the
// loan about to be recorded, the caller holding the copy's claim; nil
// when the hold changed meanwhile (cancelled, expired: the reader at the
// desk gets the copy all the same).
func (s *Service) fulfilHold(ctx context.Context, h *Hold, loan *Loan, now time.Time) (*Hold, error) {
	var done bool
	c, err := s.updateHold(ctx, h, func(c *Hold) (bool, error) {
		if c.State != HoldReady || c.Barcode != loan.Barcode {
			return false, nil
		}
		c.State, c.LoanID, c.EndedAt = HoldFulfilled, loan.ID, &now
		done = true
		return true, nil
	})
	if err != nil || !done {
		return nil, err
	}
	return c, nil
}

// fulfilWaiting marks the reader's own waiting hold on the work FULFILLED
// when a copy came off the shelf to them. Best effort: a hold that changed
// meanwhile is left as it is.
func (s *Service) fulfilWaiting(ctx context.Context, readerID, workID string, loan *Loan, now time.Time) {
	holds, err := s.store.HoldsForReader(ctx, readerID, true)
	if err != nil {
		return
	}
	i := slices.IndexFunc(holds, func(x *Hold) bool {
		return x.WorkID == workID && !x.State.HasCopy() && (x.ItemBarcode == "" || x.ItemBarcode == loan.Barcode)
	})
	if i < 0 {
		return
	}
	_, err = s.updateHold(ctx, holds[i], func(c *Hold) (bool, error) {
		if c.State != HoldWaiting && c.State != HoldSuspended {
			return false, nil
		}
		c.State, c.LoanID, c.EndedAt, c.Barcode = HoldFulfilled, loan.ID, &now, loan.Barcode
		return true, nil
	})
	if err != nil {
		s.logger.WarnContext(ctx, "circulation: fulfilling hold", "hold", holds[i].ID, "loan", loan.ID, "err", err)
	}
}

// ownLoan returns a loan the actor may act on: their own, one lent at a
// librarian's library, any for an admin.
func (s *Service) ownLoan(ctx context.Context, actor auth.Actor, loanID string) (*Loan, error) {
	if actor.AccountID == "" {
		return nil, thuvienso.ErrUnauthenticated
	}
	l, err := s.store.Loan(ctx, loanID)
	if err != nil {
		return nil, err
	}
	if l.ReaderID != actor.AccountID && !actor.CanActForLibrary(l.LibraryID) {
		return nil, thuvienso.ErrNotFound
	}
	return l, nil
}

// endLoan moves an ACTIVE loan to state by compare-and-set; won reports
// whether this call ended it (the others get the loan as it is now).
func (s *Service) endLoan(ctx context.Context, l *Loan, state LoanState, libraryID string, now time.Time) (_ *Loan, won bool, err error) {
	for range 5 {
		if l.State != LoanActive {
			return l, false, nil
		}
		c := *l
		c.State, c.ReturnedAt, c.ReturnLibraryID = state, &now, libraryID
		err := s.store.UpdateLoan(ctx, &c)
		if errors.Is(err, ErrStale) {
			if l, err = s.store.Loan(ctx, l.ID); err != nil {
				return nil, false, err
			}
			continue
		}
		if err != nil {
			return nil, false, err
		}
		return &c, true, nil
	}
	return nil, false, ErrStale
}

// LoanStatus is a loan with what a reader wants to know about it.
type LoanStatus struct {
	*Loan
	Overdue bool
	// Renewable says whether RenewLoan would extend it now; when not,
	// NotRenewable says why, in both languages.
	Renewable    bool
	NotRenewable *thuvienso.Error
}

// MyLoans returns the actor's loans (active ones unless all), each saying
// whether it can be renewed and if not why.
func (s *Service) MyLoans(ctx context.Context, actor auth.Actor, all bool) ([]*LoanStatus, error) {
	acc, err := s.reader(ctx, actor)
	if err != nil {
		return nil, err
	}
	ls, err := s.store.LoansForReader(ctx, acc.ID, !all)
	if err != nil {
		return nil, fmt.Errorf("listing loans: %w", err)
	}
	out, err := s.loanStatuses(ctx, acc, ls)
	if err != nil {
		return nil, fmt.Errorf("listing loans: %w", err)
	}
	return out, nil
}

// loanStatuses works out renewability of a reader's loans.
func (s *Service) loanStatuses(ctx context.Context, acc *auth.Account, ls []*Loan) ([]*LoanStatus, error) {
	now := s.now()
	active, err := s.store.LoansForReader(ctx, acc.ID, true)
	if err != nil {
		return nil, err
	}
	blocked := s.checkBlocks(ctx, acc, active, now)
	queues := map[string][]*Hold{}
	out := make([]*LoanStatus, len(ls))
	for i, l := range ls {
		st := &LoanStatus{Loan: l, Overdue: l.Overdue(now)}
		out[i] = st
		if l.State != LoanActive {
			st.NotRenewable = ErrLoanNotActive
			continue
		}
		q, ok := queues[l.WorkID]
		if !ok {
			if q, err = s.store.ActiveHoldsForWork(ctx, l.WorkID); err != nil {
				return nil, err
			}
			queues[l.WorkID] = q
		}
		err := s.renewRefusal(ctx, acc, l, q, blocked)
		var te *thuvienso.Error
		switch {
		case err == nil:
			st.Renewable = true
		case errors.As(err, &te):
			st.NotRenewable = te
		default:
			return nil, err
		}
	}
	return out, nil
}

// renewRefusal says why the loan cannot be renewed (nil: it can). queue is
// its work's queue; blocked the reader's block, if any.
func (s *Service) renewRefusal(ctx context.Context, acc *auth.Account, l *Loan, queue []*Hold, blocked error) error {
	if l.State != LoanActive {
		return ErrLoanNotActive
	}
	if blocked != nil {
		return blocked
	}
	it, err := s.item(ctx, l.Barcode)
	if err != nil {
		return err
	}
	libs, err := s.libs(ctx, it.LibraryID, l.LibraryID)
	if err != nil {
		return err
	}
	owner := libs[it.LibraryID]
	if owner == nil {
		owner = libs[l.LibraryID]
	}
	var terms Terms
	if owner != nil {
		terms = s.rules.TermsFor(owner.Type, category(acc))
	} else {
		terms = s.rules.TermsFor("", category(acc))
	}
	switch {
	case terms.MaxRenewals == 0 || Classify(&it.Item) == ClassReference:
		return ErrRenewNotAllowed
	case l.Renewals >= terms.MaxRenewals:
		return ErrRenewLimit
	}
	for _, h := range queue {
		if h.State == HoldWaiting && h.ReaderID != l.ReaderID && (h.ItemBarcode == "" || h.ItemBarcode == l.Barcode) {
			return ErrRenewOnHold
		}
	}
	return nil
}

// RenewLoan extends the actor's loan (or, for staff, a loan lent at their
// library) by its loan period from its due date (from today when overdue),
// moved to an open day, unless renewing is refused — someone waits for
// the work, the renewals are used up, the reader is blocked — which the
// error says in words a reader understands. A retry with the key of a
// renewal already made returns the loan unchanged.
func (s *Service) RenewLoan(ctx context.Context, actor auth.Actor, loanID, idempotencyKey string) (*Loan, error) {
	l, err := s.ownLoan(ctx, actor, loanID)
	if err == nil {
		l, err = s.renew(ctx, l, idempotencyKey)
	}
	if err != nil {
		return nil, fmt.Errorf("renewing loan %s: %w", loanID, err)
	}
	return l, nil
}

func (s *Service) renew(ctx context.Context, l *Loan, key string) (*Loan, error) {
	accs, err := s.accountsByID(ctx, []string{l.ReaderID})
	if err != nil {
		return nil, err
	}
	acc := accs[l.ReaderID]
	if acc == nil {
		return nil, ErrReaderNotFound
	}
	for range 5 {
		if key != "" && l.RenewKey == key {
			return l, nil
		}
		now := s.now()
		active, err := s.store.LoansForReader(ctx, acc.ID, true)
		if err != nil {
			return nil, err
		}
		queue, err := s.store.ActiveHoldsForWork(ctx, l.WorkID)
		if err != nil {
			return nil, err
		}
		if err := s.renewRefusal(ctx, acc, l, queue, s.checkBlocks(ctx, acc, active, now)); err != nil {
			return nil, err
		}
		it, err := s.item(ctx, l.Barcode)
		if err != nil {
			return nil, err
		}
		libs, err := s.libs(ctx, l.LibraryID, it.LibraryID)
		if err != nil {
			return nil, err
		}
		desk, owner := libs[l.LibraryID], libs[it.LibraryID]
		if owner == nil {
			owner = desk
		}
		days := s.rules.TermsFor(owner.Type, category(acc)).Days(Classify(&it.Item))
		from := l.DueAt
		if now.After(from) {
			from = now
		}
		due, err := s.calendar.DueAt(ctx, desk, from, days)
		if err != nil {
			return nil, err
		}
		c := *l
		c.DueAt, c.Renewals, c.Notice, c.RenewKey = due, l.Renewals+1, NoticeNone, key
		err = s.store.UpdateLoan(ctx, &c)
		if errors.Is(err, ErrStale) {
			if l, err = s.store.Loan(ctx, l.ID); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		s.record(ctx, &events.Event{
			Key: fmt.Sprintf("loan-renewed:%s:%d", c.ID, c.Renewals), Kind: events.LoanRenewed, ReaderID: c.ReaderID,
			SubjectID: c.ID, WorkID: c.WorkID, LibraryID: c.LibraryID, At: now,
			Data: map[string]string{"barcode": c.Barcode, "dueAt": c.DueAt.UTC().Format(time.RFC3339)},
		})
		return &c, nil
	}
	return nil, ErrStale
}

// RenewResult is the outcome of renewing one loan of RenewAll.
type RenewResult struct {
	// Loan is the loan, renewed or as it was.
	Loan *Loan
	// Err says why it was not renewed (nil when it was).
	Err error
}

// RenewAll renews every active loan of the actor that can be, and says
// for each why not when it cannot.
func (s *Service) RenewAll(ctx context.Context, actor auth.Actor) ([]RenewResult, error) {
	acc, err := s.reader(ctx, actor)
	if err != nil {
		return nil, err
	}
	ls, err := s.store.LoansForReader(ctx, acc.ID, true)
	if err != nil {
		return nil, fmt.Errorf("renewing all loans: %w", err)
	}
	out := make([]RenewResult, len(ls))
	for i, l := range ls {
		r, err := s.renew(ctx, l, "")
		if err != nil {
			out[i] = RenewResult{Loan: l, Err: err}
			continue
		}
		out[i] = RenewResult{Loan: r}
	}
	return out, nil
}

// Loan returns one loan the actor may see.
func (s *Service) Loan(ctx context.Context, actor auth.Actor, loanID string) (*Loan, error) {
	l, err := s.ownLoan(ctx, actor, loanID)
	if err != nil {
		return nil, fmt.Errorf("loan %s: %w", loanID, err)
	}
	return l, nil
}

// StatusOf returns a loan as its reader sees it in MyLoans (overdue,
// renewable and if not why), for answers to staff operations.
func (s *Service) StatusOf(ctx context.Context, l *Loan) (*LoanStatus, error) {
	accs, err := s.accounts.AccountsByID(ctx, []string{l.ReaderID})
	if err != nil {
		return nil, fmt.Errorf("loan %s: %w", l.ID, err)
	}
	if len(accs) == 0 {
		return nil, fmt.Errorf("loan %s: reader %s: %w", l.ID, l.ReaderID, thuvienso.ErrNotFound)
	}
	st, err := s.loanStatuses(ctx, accs[0], []*Loan{l})
	if err != nil {
		return nil, fmt.Errorf("loan %s: %w", l.ID, err)
	}
	return st[0], nil
}
