// Package circulation owns the lending of physical copies across the
// province's network: holds on a work (any copy) or on one copy with a
// pickup library, the queue and its positions, targeting a freed copy to
// the right hold, transits between libraries, the hold shelf, loans with
// due dates and renewals, the lending rules per library type and reader
// category (limits, periods, blocks), the calendar that keeps due dates and
// pickup deadlines off closed days (Vietnamese public holidays, Tết by the
// lunar calendar, each library's own closed days), the scheduler's expiry
// pass, the reader-facing events it records (package events), the pull
// list of copies on the shelves that waiting holds could take (pull.go),
// the readers' opt-in reading history (history.go), and the rules read
// from a JSON document (rulesjson.go).
//
// The catalog (package catalog) owns the copies themselves and their
// status; circulation changes a copy's status only through the catalog
// store's conditional SetItemStatus.
//
// # Concurrency
//
// Nothing here relies on a multi-document transaction. Every change of a
// hold or a loan is one conditional update of one document, and the store
// (package sqlite or package mongo) decides which of two racing callers
// wins:
//
//   - Holds and loans change state by compare-and-set on their Version
//     (UpdateHold, UpdateLoan): of two check-ins targeting the same hold,
//     or an expiry racing a pickup, one wins and the other re-reads.
//   - A copy is attached to at most one hold or loan. Each copy has one
//     claim (CopyClaim) naming its holder, "loan:<id>", "hold:<id>" or
//     nobody, and only a caller that wins the claim's conditional hand-over
//     (ClaimCopy from the holder it read) may attach the copy, lend it, or
//     change its status in the catalog; a caller that loses re-reads. The
//     order is always "claim the copy, then record it on the hold or loan,
//     then set the catalog status"; a hold or loan that cannot be recorded
//     hands the claim back. The store also keeps a copy's barcode unique
//     among IN_TRANSIT and READY holds (ErrCopyAttached) and among ACTIVE
//     loans (ErrCopyOnLoan), so even a bug cannot attach it twice. A claim
//     left by a crash (its holder never recorded, or ended) is taken over
//     by the next caller; one still fresh (ClaimGrace) is left to the
//     caller that is still working on it.
//   - A reader's active holds and loans occupy distinct slots 0 … limit−1,
//     which the store keeps unique, so concurrent requests of one reader
//     never exceed the limits.
//   - Queue positions are not stored: a work's queue is its active holds
//     in (CreatedAt, ID) order, numbered when read, so they have no gaps or
//     duplicates whatever is placed or cancelled concurrently.
//   - Requests a client may retry carry an idempotency key: a hold placed
//     or a copy lent with a key is found again by it (unique per reader),
//     a renewal with the key it was made with is not made twice.
//   - Recorded events have keys derived from what happened, so a retried
//     request or two scheduler instances record each event once.
package circulation

import (
	"context"
	"time"
)

// HoldState is where a hold is in its life.
type HoldState string

// Hold states. WAITING, SUSPENDED, IN_TRANSIT and READY are active (the
// hold is in its work's queue); IN_TRANSIT and READY have a copy.
const (
	// HoldWaiting: in the queue, waiting for a copy.
	HoldWaiting HoldState = "WAITING"
	// HoldSuspended: in the queue, keeping its place, passed over until
	// SuspendedUntil (or until the reader resumes it). A hold with a start
	// date in the future is suspended until then.
	HoldSuspended HoldState = "SUSPENDED"
	// HoldInTransit: a copy is on its way to the pickup library.
	HoldInTransit HoldState = "IN_TRANSIT"
	// HoldReady: a copy waits on the pickup library's hold shelf until
	// PickupDeadline.
	HoldReady HoldState = "READY"
	// HoldFulfilled: the reader borrowed a copy.
	HoldFulfilled HoldState = "FULFILLED"
	// HoldCancelled: the reader (or staff) cancelled it.
	HoldCancelled HoldState = "CANCELLED"
	// HoldExpired: the copy was not collected by the deadline.
	HoldExpired HoldState = "EXPIRED"
)

// HoldStates lists every HoldState.
var HoldStates = []HoldState{HoldWaiting, HoldSuspended, HoldInTransit, HoldReady, HoldFulfilled, HoldCancelled, HoldExpired}

// Active reports whether s is a state in the queue.
func (s HoldState) Active() bool {
	return s == HoldWaiting || s == HoldSuspended || s == HoldInTransit || s == HoldReady
}

// HasCopy reports whether a hold in state s has a copy attached.
func (s HoldState) HasCopy() bool { return s == HoldInTransit || s == HoldReady }

// Hold is one reader's request for a work (any copy) or for one copy.
type Hold struct {
	ID       string
	ReaderID string
	// WorkID is the catalog work; set for holds on one copy too (the copy's work).
	WorkID string
	// ItemBarcode names the one copy the hold is for; "" for any copy of the work.
	ItemBarcode     string
	PickupLibraryID string
	State           HoldState
	// CreatedAt orders the queue (then ID).
	CreatedAt time.Time
	// SuspendedUntil ends a suspension (nil: until the reader resumes it).
	SuspendedUntil *time.Time
	// Barcode is the copy attached to the hold (IN_TRANSIT, READY, and kept
	// on a FULFILLED or EXPIRED hold for the record).
	Barcode string
	// TargetedAt is when the copy was attached.
	TargetedAt *time.Time
	// ReadyAt and PickupDeadline are set when the copy reached the hold
	// shelf: it waits there until PickupDeadline (the end of an open day).
	ReadyAt        *time.Time
	PickupDeadline *time.Time
	// LoanID is the loan that fulfilled the hold.
	LoanID  string
	EndedAt *time.Time
	// Slot is which of the reader's hold slots (0 … limit−1) the hold
	// takes; no two active holds of a reader share one.
	Slot int
	// IdempotencyKey is the client's key for placing it (unique per reader).
	IdempotencyKey string
	// Version counts updates; UpdateHold compares and sets it.
	Version int
}

// LoanState is where a loan is in its life.
type LoanState string

// Loan states. Only ACTIVE holds a copy.
const (
	LoanActive   LoanState = "ACTIVE"
	LoanReturned LoanState = "RETURNED"
	// LoanLost: the copy was declared lost while on loan.
	LoanLost LoanState = "LOST"
)

// Notice levels of a loan: which reminders were recorded for its due date.
// (The expiry pass no longer records due-date reminders; package
// notifications makes them from ActiveLoansDue.)
const (
	NoticeNone    = 0
	NoticeDueSoon = 1
	NoticeOverdue = 2
)

// Loan is one copy lent to one reader.
type Loan struct {
	ID       string
	ReaderID string
	Barcode  string
	WorkID   string
	// LibraryID is the library whose desk lent the copy; ItemLibraryID the
	// copy's owner.
	LibraryID     string
	ItemLibraryID string
	// HoldID is the hold the loan fulfilled, if any.
	HoldID       string
	State        LoanState
	CheckedOutAt time.Time
	// DueAt is the end of the due day (an open day of the lending library),
	// in the province's time.
	DueAt    time.Time
	Renewals int
	// ReturnedAt and ReturnLibraryID are set when the loan ends.
	ReturnedAt      *time.Time
	ReturnLibraryID string
	// Notice is the highest reminder recorded for DueAt (NoticeNone,
	// NoticeDueSoon, NoticeOverdue); a renewal resets it.
	Notice int
	// Slot is which of the reader's loan slots the loan takes.
	Slot int
	// IdempotencyKey is the key of the check-out (unique per reader);
	// RenewKey the key of the last renewal.
	IdempotencyKey string
	RenewKey       string
	// Version counts updates; UpdateLoan compares and sets it.
	Version int
}

// Overdue reports whether the loan is active and past its due time at now.
func (l *Loan) Overdue(now time.Time) bool { return l.State == LoanActive && now.After(l.DueAt) }

// CopyClaim says which hold or loan a copy is attached to: the one place
// that decides who may move the copy. Holder is "loan:<id>", "hold:<id>",
// or "" when the copy is free.
type CopyClaim struct {
	Barcode   string
	Holder    string
	ClaimedAt time.Time
}

// loanHolder and holdHolder name the holder of a copy claim.
func loanHolder(id string) string { return "loan:" + id }
func holdHolder(id string) string { return "hold:" + id }

// ClosedDay is a day a library (or every library) does not open, besides
// the public holidays the calendar knows.
type ClosedDay struct {
	// LibraryID is the library; "" closes every library of the network.
	LibraryID string
	// Date is the day in the province's time, "2006-01-02".
	Date string
	// Reason is what readers are told ("Kiểm kê kho", "Nghỉ bù").
	Reason string
}

// Store keeps holds, loans, copy claims, closed days and reading histories.
// Implementations: sqlite.CirculationStore, mongo.CirculationStore; the
// contract is package storetest.
type Store interface {
	// CreateHold inserts a hold (a new ID when empty; Version 1). A second
	// active hold of the reader on the work fails with ErrAlreadyOnHold; a
	// reused idempotency key with ErrIdempotencyKeyUsed; a Slot another
	// active hold of the reader has with ErrHoldSlotTaken; a Barcode another
	// IN_TRANSIT or READY hold has with ErrCopyAttached.
	CreateHold(ctx context.Context, h *Hold) error
	// Hold returns a hold, or thuvienso.ErrNotFound.
	Hold(ctx context.Context, id string) (*Hold, error)
	// HoldsByID returns those of the holds that exist, any order.
	HoldsByID(ctx context.Context, ids []string) ([]*Hold, error)
	// HoldByIdempotencyKey returns the reader's hold placed with key, or thuvienso.ErrNotFound.
	HoldByIdempotencyKey(ctx context.Context, readerID, key string) (*Hold, error)
	// HoldForCopy returns the IN_TRANSIT or READY hold the copy is
	// attached to, or thuvienso.ErrNotFound.
	HoldForCopy(ctx context.Context, barcode string) (*Hold, error)
	// HoldsForReader returns a reader's holds (only active ones when
	// activeOnly), ordered by CreatedAt then ID.
	HoldsForReader(ctx context.Context, readerID string, activeOnly bool) ([]*Hold, error)
	// ActiveHoldsForWork returns the queue of a work: its active holds
	// ordered by CreatedAt then ID.
	ActiveHoldsForWork(ctx context.Context, workID string) ([]*Hold, error)
	// ActiveHoldCounts returns how many active holds each work has (works
	// without any are left out).
	ActiveHoldCounts(ctx context.Context, workIDs []string) (map[string]int, error)
	// HoldsAtPickup returns the holds in state (READY: the hold shelf;
	// IN_TRANSIT: copies on their way) whose pickup library is libraryID,
	// ordered by TargetedAt then ID.
	HoldsAtPickup(ctx context.Context, libraryID string, state HoldState) ([]*Hold, error)
	// HoldsDue returns up to limit holds in state whose deadline
	// (PickupDeadline for READY, SuspendedUntil for SUSPENDED) is at or
	// before t, soonest first.
	HoldsDue(ctx context.Context, state HoldState, t time.Time, limit int) ([]*Hold, error)
	// HoldsReadySince returns up to limit READY holds whose ReadyAt is at
	// or after t, latest first.
	HoldsReadySince(ctx context.Context, t time.Time, limit int) ([]*Hold, error)
	// UpdateHold replaces the hold when the stored Version equals h.Version,
	// and then increments h.Version. A changed hold fails with ErrStale;
	// the unique keys fail as in CreateHold.
	UpdateHold(ctx context.Context, h *Hold) error

	// CreateLoan inserts an ACTIVE loan (a new ID when empty; Version 1).
	// A copy another ACTIVE loan has fails with ErrCopyOnLoan; a reused
	// idempotency key with ErrIdempotencyKeyUsed; a Slot another active loan
	// of the reader has with ErrLoanSlotTaken.
	CreateLoan(ctx context.Context, l *Loan) error
	// Loan returns a loan, or thuvienso.ErrNotFound.
	Loan(ctx context.Context, id string) (*Loan, error)
	// LoansByID returns those of the loans that exist, any order.
	LoansByID(ctx context.Context, ids []string) ([]*Loan, error)
	// LoanByIdempotencyKey returns the reader's loan made with key, or thuvienso.ErrNotFound.
	LoanByIdempotencyKey(ctx context.Context, readerID, key string) (*Loan, error)
	// ActiveLoanForCopy returns the ACTIVE loan of the copy, or thuvienso.ErrNotFound.
	ActiveLoanForCopy(ctx context.Context, barcode string) (*Loan, error)
	// ActiveLoansForCopies returns the ACTIVE loans of the copies, any order.
	ActiveLoansForCopies(ctx context.Context, barcodes []string) ([]*Loan, error)
	// LoansForReader returns a reader's loans (only ACTIVE ones when
	// activeOnly), ordered by CheckedOutAt then ID.
	LoansForReader(ctx context.Context, readerID string, activeOnly bool) ([]*Loan, error)
	// LoansToNotify returns up to limit ACTIVE loans whose Notice is below
	// level and whose DueAt is at or before t, soonest due first.
	LoansToNotify(ctx context.Context, level int, t time.Time, limit int) ([]*Loan, error)
	// ActiveLoansDue returns up to limit ACTIVE loans whose DueAt is at or
	// before until and whose (DueAt, ID) comes after (afterDue, afterID),
	// ordered by DueAt then ID: the open due dates, read page by page (the
	// reminders of package notifications are computed from them).
	ActiveLoansDue(ctx context.Context, afterDue time.Time, afterID string, until time.Time, limit int) ([]*Loan, error)
	// UpdateLoan replaces the loan when the stored Version equals l.Version,
	// and then increments l.Version. A changed loan fails with ErrStale.
	UpdateLoan(ctx context.Context, l *Loan) error

	// CopyClaim returns who holds a copy, or thuvienso.ErrNotFound for a
	// copy never claimed (free).
	CopyClaim(ctx context.Context, barcode string) (*CopyClaim, error)
	// ClaimCopy hands the copy from holder `from` to holder `to` (stamping
	// ClaimedAt with at) in one conditional update: "" means free, so
	// from "" claims a free (or never claimed) copy and to "" releases it.
	// When the copy's holder is not `from` it fails with ErrClaimLost and
	// changes nothing. Of concurrent claims from one holder exactly one
	// succeeds.
	ClaimCopy(ctx context.Context, barcode, from, to string, at time.Time) error

	// PutClosedDay adds a closed day, or replaces the reason of the same
	// library and date.
	PutClosedDay(ctx context.Context, d *ClosedDay) error
	// DeleteClosedDay removes one; thuvienso.ErrNotFound when there is none.
	DeleteClosedDay(ctx context.Context, libraryID, date string) error
	// ClosedDays returns the closed days of the libraries (use "" for the
	// network-wide ones) with from ≤ Date ≤ to, ordered by date then library.
	ClosedDays(ctx context.Context, libraryIDs []string, from, to string) ([]*ClosedDay, error)

	// WaitingHoldWorks returns the IDs of the works that have at least one
	// WAITING hold, without duplicates, in any order (for the pull list).
	WaitingHoldWorks(ctx context.Context) ([]string, error)

	// HistorySetting returns a reader's reading-history setting, or
	// thuvienso.ErrNotFound for a reader who never chose (history off).
	HistorySetting(ctx context.Context, readerID string) (*HistorySetting, error)
	// SetHistorySetting turns a reader's reading history on or off in one
	// atomic upsert that sets UpdatedAt to at and advances Version (1 for
	// a reader's first setting), and returns the setting as stored. Of
	// concurrent calls each gets a distinct Version.
	SetHistorySetting(ctx context.Context, readerID string, enabled bool, at time.Time) (*HistorySetting, error)
	// AddHistoryEntry stores an entry of e.ReaderID's history. An entry
	// with the same ID already stored is left as it is (no error), so a
	// return recorded twice is kept once.
	AddHistoryEntry(ctx context.Context, e *HistoryEntry) error
	// HistoryEntries returns up to limit entries of a reader's history,
	// newest first (ReturnedAt, then ID, descending), after the position
	// after (nil: from the newest).
	HistoryEntries(ctx context.Context, readerID string, after *HistoryCursor, limit int) ([]*HistoryEntry, error)
	// CountHistory returns how many entries a reader's history has.
	CountHistory(ctx context.Context, readerID string) (int, error)
	// DeleteHistoryEntry removes one entry of the reader's history;
	// thuvienso.ErrNotFound when the reader has no such entry.
	DeleteHistoryEntry(ctx context.Context, readerID, id string) error
	// ClearHistory first advances the Version of the reader's setting
	// (stamping UpdatedAt with at, keeping Enabled, creating the setting
	// off when there is none), then deletes every entry of the reader, and
	// returns how many it deleted. The order matters: a writer that added
	// an entry and then finds the Version changed withdraws it, so an entry
	// being recorded while the reader clears does not survive the clear.
	ClearHistory(ctx context.Context, readerID string, at time.Time) (int, error)
}
