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
}
