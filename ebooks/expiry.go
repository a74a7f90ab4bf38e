package ebooks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bacninh/thuvienso/events"
)

// ExpiryReport says what one expiry pass did.
type ExpiryReport struct {
	// LoansExpired counts loans this pass ended (not those another
	// instance ended first).
	LoansExpired int
	// ReservationsLapsed counts reservations not borrowed in time.
	ReservationsLapsed int
	// HoldsResumed counts suspensions that ran out.
	HoldsResumed int
	// SeatsReclaimed counts copies given back for having no live holder
	// (left by a crash between two steps).
	SeatsReclaimed int
	// EventsRecovered counts "reserved" events recorded for reservations
	// whose event a crash lost.
	EventsRecovered int
}

// RunExpiry is the scheduler's pass, idempotent and safe to run on any
// number of instances at once: it ends loans whose time is up and
// reservations not borrowed in 72 hours (a first miss suspends the hold,
// a second ends it), resumes holds whose suspension ran out, gives freed
// copies to the queues, reclaims orphaned seats, and records the
// "expiring" events ahead of time. Every change is a compare-and-set, so a
// second run, or a run racing another, finds nothing left to do.
func (s *Service) RunExpiry(ctx context.Context, now time.Time) (ExpiryReport, error) {
	var rep ExpiryReport
	var errs []error
	batch := max(s.cfg.BatchSize, 1)

	// Loans whose time is up.
	due, err := s.store.ActiveLoansEndingBefore(ctx, now, batch)
	if err != nil {
		return rep, fmt.Errorf("e-book expiry: due loans: %w", err)
	}
	for _, l := range due {
		ended, err := s.expireLoan(ctx, l, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("expiring loan %s: %w", l.ID, err))
		} else if ended {
			rep.LoansExpired++
		}
	}

	// Loans ending soon.
	soon, err := s.store.ActiveLoansEndingBefore(ctx, now.Add(s.cfg.LoanExpiringNotice), batch)
	if err != nil {
		errs = append(errs, fmt.Errorf("loans ending soon: %w", err))
	}
	for _, l := range soon {
		if l.EndsAt.After(now) {
			s.record(ctx, &events.Event{
				Key:  "ebook-loan-expiring:" + l.ID + ":" + strconv.FormatInt(l.EndsAt.Unix(), 10),
				Kind: events.EbookLoanExpiring, ReaderID: l.ReaderID, SubjectID: l.ID, At: l.EndsAt,
				Data: map[string]string{"titleId": l.TitleID, "deadline": l.EndsAt.UTC().Format(time.RFC3339)},
			})
		}
	}

	// Reservations not borrowed in time.
	lapsed, err := s.store.HoldsByStateBefore(ctx, HoldReserved, now, batch)
	if err != nil {
		errs = append(errs, fmt.Errorf("lapsed reservations: %w", err))
	}
	for _, h := range lapsed {
		ok, err := s.lapseReservation(ctx, h, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("lapsing reservation of hold %s: %w", h.ID, err))
		} else if ok {
			rep.ReservationsLapsed++
		}
	}

	// Reservations ending soon.
	closing, err := s.store.HoldsByStateBefore(ctx, HoldReserved, now.Add(s.cfg.ReservationExpiringNotice), batch)
	if err != nil {
		errs = append(errs, fmt.Errorf("reservations ending soon: %w", err))
	}
	for _, h := range closing {
		if h.ReservedUntil != nil && h.ReservedUntil.After(now) {
			s.record(ctx, &events.Event{
				Key:  "ebook-reservation-expiring:" + h.ID + ":" + strconv.FormatInt(h.ReservedUntil.Unix(), 10),
				Kind: events.EbookReservationExpiring, ReaderID: h.ReaderID, SubjectID: h.ID, At: *h.ReservedUntil,
				Data: map[string]string{"titleId": h.TitleID, "deadline": h.ReservedUntil.UTC().Format(time.RFC3339)},
			})
		}
	}

	// Reservations whose event a crash lost (stored, then the process died
	// before recording that the reader should hear of it).
	if recent, err := s.store.HoldsReservedSince(ctx, now.Add(-events.RecoveryWindow), batch); err != nil {
		errs = append(errs, fmt.Errorf("recent reservations: %w", err))
	} else if s.events != nil {
		n, err := events.RecoverLost(ctx, s.events, recent, reservedEvent)
		if rep.EventsRecovered = n; err != nil {
			errs = append(errs, err)
		}
	}

	// Suspensions that ran out.
	resumed, err := s.store.HoldsByStateBefore(ctx, HoldSuspended, now, batch)
	if err != nil {
		errs = append(errs, fmt.Errorf("suspensions ending: %w", err))
	}
	for _, h := range resumed {
		if h.SuspendedUntil == nil || h.SuspendedUntil.After(now) {
			continue
		}
		c := *h
		c.State, c.SuspendedUntil = HoldWaiting, nil
		if err := s.store.UpdateHold(ctx, &c); err != nil {
			if !errors.Is(err, ErrStale) {
				errs = append(errs, fmt.Errorf("resuming hold %s: %w", h.ID, err))
			}
			continue
		}
		rep.HoldsResumed++
		if err := s.fillQueue(ctx, h.TitleID); err != nil {
			errs = append(errs, err)
		}
	}

	// Orphaned seats, then every queue that a free copy could serve.
	n, err := s.reclaimSeats(ctx, now)
	rep.SeatsReclaimed = n
	if err != nil {
		errs = append(errs, err)
	}
	after := ""
	for {
		ids, err := s.store.TitlesWithWaitingHolds(ctx, after, batch)
		if err != nil {
			errs = append(errs, fmt.Errorf("titles with waiting holds: %w", err))
			break
		}
		for _, id := range ids {
			if err := s.fillQueue(ctx, id); err != nil {
				errs = append(errs, fmt.Errorf("serving the queue of %s: %w", id, err))
			}
		}
		if len(ids) < batch {
			break
		}
		after = ids[len(ids)-1]
	}
	if len(errs) > 0 {
		return rep, fmt.Errorf("e-book expiry: %w", errors.Join(errs...))
	}
	return rep, nil
}

// expireLoan ends a loan whose time is up at now; it reports whether this
// call ended it.
func (s *Service) expireLoan(ctx context.Context, l *Loan, now time.Time) (bool, error) {
	for range 5 {
		if l.State != LoanActive || now.Before(l.EndsAt) {
			return false, nil
		}
		c := *l
		c.State, c.EndedAt = LoanExpired, &now
		err := s.store.UpdateLoan(ctx, &c)
		if errors.Is(err, ErrStale) {
			if l, err = s.store.Loan(ctx, l.ID); err != nil {
				return false, err
			}
			continue
		}
		if err != nil {
			return false, err
		}
		s.record(ctx, &events.Event{
			Key: "ebook-loan-ended:" + l.ID, Kind: events.EbookLoanEnded, ReaderID: l.ReaderID,
			SubjectID: l.ID, At: now, Data: map[string]string{"titleId": l.TitleID, "reason": string(LoanExpired)},
		})
		return true, s.giveBack(ctx, l.LicenseID, l.ID, l.TitleID)
	}
	return false, ErrStale
}

// lapseReservation ends a reservation not borrowed by its deadline: a
// first miss suspends the hold for MissSuspension (it keeps its place), a
// second ends it. The copy passes on.
func (s *Service) lapseReservation(ctx context.Context, h *Hold, now time.Time) (bool, error) {
	if h.State != HoldReserved || h.ReservedUntil == nil || h.ReservedUntil.After(now) {
		return false, nil
	}
	c := *h
	c.LicenseID, c.ReservedAt, c.ReservedUntil = "", nil, nil
	if h.MissedOnce {
		c.State, c.EndedAt = HoldExpired, &now
	} else {
		until := now.Add(s.cfg.MissSuspension)
		c.State, c.MissedOnce, c.SuspendedUntil = HoldSuspended, true, &until
	}
	if err := s.store.UpdateHold(ctx, &c); err != nil {
		if errors.Is(err, ErrStale) {
			return false, nil // borrowed, cancelled or lapsed by another instance
		}
		return false, err
	}
	return true, s.giveBack(ctx, h.LicenseID, h.ID, h.TitleID)
}

// reclaimSeats gives back seats older than SeatGrace whose holder is not
// an ACTIVE loan or a RESERVED hold of that license: what a crash between
// "take the seat" and "record the holder" leaves behind. A seat of a loan
// never recorded gives its checkout back too (see releaseUnused).
func (s *Service) reclaimSeats(ctx context.Context, now time.Time) (int, error) {
	n, after := 0, ""
	batch := max(s.cfg.BatchSize, 1)
	for {
		ls, err := s.store.LicensesInUse(ctx, after, batch)
		if err != nil {
			return n, fmt.Errorf("licenses in use: %w", err)
		}
		for _, l := range ls {
			var loanIDs, holdIDs []string
			for id, seat := range l.Seats {
				if now.Sub(seat.AcquiredAt) < s.cfg.SeatGrace {
					continue
				}
				if seat.Kind == SeatHold {
					holdIDs = append(holdIDs, id)
				} else {
					loanIDs = append(loanIDs, id)
				}
			}
			if len(loanIDs)+len(holdIDs) == 0 {
				continue
			}
			live, recorded := map[string]bool{}, map[string]bool{}
			loans, err := s.store.LoansByID(ctx, loanIDs)
			if err != nil {
				return n, err
			}
			for _, x := range loans {
				live[x.ID] = x.State == LoanActive && x.LicenseID == l.ID
				recorded[x.ID] = true
			}
			holds, err := s.store.HoldsByID(ctx, holdIDs)
			if err != nil {
				return n, err
			}
			for _, x := range holds {
				live[x.ID] = x.State == HoldReserved && x.LicenseID == l.ID
			}
			for _, id := range append(loanIDs, holdIDs...) {
				if live[id] {
					continue
				}
				var released bool
				if l.Seats[id].Kind == SeatLoan && !recorded[id] {
					released, err = s.releaseUnused(ctx, l.ID, id, now) // its checkout too
				} else {
					released, err = s.store.ReleaseSeat(ctx, l.ID, id)
				}
				if err != nil {
					return n, err
				}
				if released {
					n++
					if err := s.fillQueue(ctx, l.TitleID); err != nil {
						return n, err
					}
				}
			}
		}
		if len(ls) < batch {
			return n, nil
		}
		after = ls[len(ls)-1].ID
	}
}
