package circulation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bacninh/thuvienso/events"
)

// ExpiryReport says what one expiry pass did.
type ExpiryReport struct {
	// HoldsExpired counts READY holds this pass ended at their deadline
	// (not those another instance ended first).
	HoldsExpired int
	// HoldsResumed counts suspensions that ran out.
	HoldsResumed int
	// EventsRecovered counts "hold ready" events recorded for holds whose
	// event a crash lost.
	EventsRecovered int
}

// RunExpiry is the scheduler's pass at now, idempotent and safe on any
// number of instances at once: uncollected READY holds expire at their
// deadline and their copies go to the next hold (or back to the shelf, or
// home) from the pickup library; suspended holds whose time ran out wait
// again, in their place; and the reader-facing events are recorded — hold
// expiring (HoldExpiringNotice ahead) and hold expired — each with a key
// derived from what it is about, so recording it twice stores it once.
// Every change is a compare-and-set, so a run racing another finds nothing
// left to do.
//
// Due-date reminders (due soon, overdue) are not events: package
// notifications computes them from the open loans (ActiveLoansDue) at the
// moments each reader chose, and an event besides would be a second
// notification with another moment.
func (s *Service) RunExpiry(ctx context.Context, now time.Time) (ExpiryReport, error) {
	var rep ExpiryReport
	var errs []error
	batch := max(s.rules.BatchSize, 1)

	// Holds not collected by their deadline.
	lapsed, err := s.store.HoldsDue(ctx, HoldReady, now, batch)
	if err != nil {
		return rep, fmt.Errorf("circulation expiry: lapsed holds: %w", err)
	}
	for _, h := range lapsed {
		ok, err := s.expireHold(ctx, h, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("expiring hold %s: %w", h.ID, err))
		} else if ok {
			rep.HoldsExpired++
		}
	}

	// Holds about to lapse.
	closing, err := s.store.HoldsDue(ctx, HoldReady, now.Add(s.rules.HoldExpiringNotice), batch)
	if err != nil {
		errs = append(errs, fmt.Errorf("holds about to lapse: %w", err))
	}
	for _, h := range closing {
		if h.PickupDeadline != nil && h.PickupDeadline.After(now) {
			s.record(ctx, &events.Event{
				Key: "hold-expiring:" + h.ID + ":" + unix(*h.PickupDeadline), Kind: events.HoldExpiring,
				ReaderID: h.ReaderID, SubjectID: h.ID, WorkID: h.WorkID, LibraryID: h.PickupLibraryID, At: *h.PickupDeadline,
				Data: map[string]string{"barcode": h.Barcode, "deadline": h.PickupDeadline.UTC().Format(time.RFC3339)},
			})
		}
	}

	// Holds made ready whose event a crash lost (stored, then the process
	// died before recording that the reader should hear of it).
	if recent, err := s.store.HoldsReadySince(ctx, now.Add(-events.RecoveryWindow), batch); err != nil {
		errs = append(errs, fmt.Errorf("holds made ready recently: %w", err))
	} else if s.events != nil {
		n, err := events.RecoverLost(ctx, s.events, recent, readyEvent)
		if rep.EventsRecovered = n; err != nil {
			errs = append(errs, err)
		}
	}

	// Suspensions that ran out.
	resumed, err := s.store.HoldsDue(ctx, HoldSuspended, now, batch)
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
	}

	if len(errs) > 0 {
		return rep, fmt.Errorf("circulation expiry: %w", errors.Join(errs...))
	}
	return rep, nil
}

// expireHold ends a READY hold whose deadline passed and passes its copy
// on; it reports whether this call ended it.
func (s *Service) expireHold(ctx context.Context, h *Hold, now time.Time) (bool, error) {
	if h.State != HoldReady || h.PickupDeadline == nil || h.PickupDeadline.After(now) {
		return false, nil
	}
	c := *h
	c.State, c.EndedAt = HoldExpired, &now
	if err := s.store.UpdateHold(ctx, &c); err != nil {
		if errors.Is(err, ErrStale) {
			return false, nil // collected, cancelled or expired by another instance
		}
		return false, err
	}
	s.record(ctx, &events.Event{
		Key: "hold-expired:" + h.ID, Kind: events.HoldExpired, ReaderID: h.ReaderID, SubjectID: h.ID,
		WorkID: h.WorkID, LibraryID: h.PickupLibraryID, At: now,
		Data: map[string]string{"barcode": h.Barcode, "deadline": h.PickupDeadline.UTC().Format(time.RFC3339)},
	})
	return true, s.passOn(ctx, h, now)
}
