// Package events owns the durable log of reader-facing events: what
// circulation and e-books record when something happens that a reader
// should hear about (a hold is ready, a loan is due, a reservation will
// lapse), and what notifications consume.
//
// Recording is idempotent by Key: the same event recorded twice (a retried
// request, two scheduler instances racing) is stored once. Consumers mark
// events handled; an event is handled at most once because the mark is a
// conditional update.
package events

import (
	"context"
	"fmt"
	"time"
)

// Kind is what happened.
type Kind string

// Event kinds. Notifications maps them to messages.
const (
	HoldReady                Kind = "HOLD_READY"
	HoldExpiring             Kind = "HOLD_EXPIRING"
	HoldExpired              Kind = "HOLD_EXPIRED"
	HoldInTransit            Kind = "HOLD_IN_TRANSIT"
	LoanDueSoon              Kind = "LOAN_DUE_SOON"
	LoanOverdue              Kind = "LOAN_OVERDUE"
	LoanRenewed              Kind = "LOAN_RENEWED"
	EbookLoanExpiring        Kind = "EBOOK_LOAN_EXPIRING"
	EbookLoanEnded           Kind = "EBOOK_LOAN_ENDED"
	EbookHoldReserved        Kind = "EBOOK_HOLD_RESERVED"
	EbookReservationExpiring Kind = "EBOOK_RESERVATION_EXPIRING"
)

// Event is one thing a reader should hear about.
type Event struct {
	// Key identifies the event uniquely and deterministically from what
	// happened, e.g. "hold-ready:<holdID>:<readyAt unix>", so recording it
	// again is a no-op.
	Key      string
	Kind     Kind
	ReaderID string
	// SubjectID is the hold, loan or e-book loan the event is about.
	SubjectID string
	// WorkID and LibraryID give context for the message, when relevant.
	WorkID    string
	LibraryID string
	// At is when it happened (or the moment it is about, e.g. a due date).
	At time.Time
	// Data carries kind-specific details (e.g. "deadline" as RFC 3339).
	Data map[string]string
	// RecordedAt is set by the store.
	RecordedAt time.Time
	// HandledAt is set when a consumer has acted on it.
	HandledAt *time.Time
}

// Store keeps the event log.
type Store interface {
	// RecordEvent stores e unless an event with its Key exists; it reports
	// whether this call stored it.
	RecordEvent(ctx context.Context, e *Event) (bool, error)
	// UnhandledEvents returns up to limit unhandled events, oldest first.
	UnhandledEvents(ctx context.Context, limit int) ([]*Event, error)
	// MarkEventHandled sets HandledAt on an unhandled event; it reports
	// false when the event was already handled (by another consumer).
	MarkEventHandled(ctx context.Context, key string, at time.Time) (bool, error)
	// EventsForReader returns a reader's events, newest first (tests, support).
	EventsForReader(ctx context.Context, readerID string, limit int) ([]*Event, error)
	// RecordedKeys reports which of keys have an event stored: a sweep
	// that re-records events a crash may have lost reads before it writes.
	RecordedKeys(ctx context.Context, keys []string) (map[string]bool, error)
}

// RecoveryWindow is how far back a scheduler pass looks for state changes
// whose event a crash lost: a process that dies after storing a change (a
// hold made ready) and before recording its event leaves the change
// without its event, and the next pass, on any instance, records it. A
// restarted instance's passes run within seconds, well inside it. Events
// must not be pruned younger than this, or a recorded event would be
// recorded again.
const RecoveryWindow = 15 * time.Minute

// RecoverLost records the events of subjects (eventOf makes each one's
// event, nil for none) that st does not have, in one read and as many
// writes as are missing, and returns how many it stored. eventOf must make
// the event from stored state only, so that the event made again after a
// crash is the one the crash lost, key included.
func RecoverLost[S any](ctx context.Context, st Store, subjects []S, eventOf func(S) *Event) (int, error) {
	var evs []*Event
	var keys []string
	for _, sub := range subjects {
		if e := eventOf(sub); e != nil {
			evs, keys = append(evs, e), append(keys, e.Key)
		}
	}
	if len(evs) == 0 {
		return 0, nil
	}
	have, err := st.RecordedKeys(ctx, keys)
	if err != nil {
		return 0, fmt.Errorf("events already recorded: %w", err)
	}
	n := 0
	for _, e := range evs {
		if have[e.Key] {
			continue
		}
		e.At = e.At.UTC()
		stored, err := st.RecordEvent(ctx, e)
		if err != nil {
			return n, fmt.Errorf("recording lost event %s: %w", e.Key, err)
		}
		if stored {
			n++
		}
	}
	return n, nil
}
