// Package ebooks owns e-book lending: titles (the EPUB, PDF or audiobook
// edition of a catalog work), the publisher licenses a title carries and
// the rules for lending them (one copy / one user, metered by checkouts or
// by time, one copy / many users, open access; bought for the province or by
// one library), loans, the hold queue with its 72-hour reservations, the
// scheduler's expiry pass, signed content links with the handler that serves
// them, and the OPDS 2.0 catalog and bookshelf feeds.
//
// # Concurrency
//
// Nothing here relies on a multi-document transaction. Every state change is
// one conditional update of one document, so that the store (package sqlite
// or package mongo) decides which of two racing callers wins:
//
//   - A license keeps its own seats: the holders (loan or reservation IDs)
//     currently using a copy, with the counters Available, InUse and
//     CheckoutsLeft. AcquireSeat, ReleaseSeat and TransferSeat are single
//     conditional updates of the license: a copy is taken only while one is
//     free (the counters never go negative), and released only by the holder
//     that has it, so a license returns to the pool exactly once however many
//     callers try.
//   - Loans and holds change state by compare-and-set on their Version
//     (UpdateLoan, UpdateHold): of two scheduler instances ending the same
//     loan, one wins and the other is a no-op.
//   - A reader's active loans occupy distinct slots 0 … MaxLoans−1, which
//     the store keeps unique (CreateLoan fails with ErrLoanSlotTaken), so
//     concurrent borrows by one reader never exceed the loan limit.
//   - A borrow with an idempotency key lends under a loan ID derived from
//     the reader and the key: concurrent retries of one request share one
//     seat (AcquireSeat takes a holder's seat once) and one loan (only one
//     CreateLoan of an ID succeeds), and a retry that loses a race answers
//     with what the key recorded.
//   - The order of steps is always "take the copy, then record who has it";
//     a crash between the two leaves a seat whose holder is missing or ended,
//     which the expiry pass gives back after a grace period (reconcile),
//     with its checkout when the loan was never recorded: only a loan uses
//     a metered license's checkout.
//   - Two passes serving a queue at once may reserve the same copy for the
//     same hold (the seat's holder is the hold, so both get the one seat):
//     the one whose update of the hold loses leaves the seat to the winner.
package ebooks

import (
	"context"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
)

// Format is the kind of file an e-book title is.
type Format string

// Formats.
const (
	FormatEPUB      Format = "EPUB"
	FormatPDF       Format = "PDF"
	FormatAudiobook Format = "AUDIOBOOK"
)

// Formats lists every Format.
var Formats = []Format{FormatEPUB, FormatPDF, FormatAudiobook}

// Valid reports whether f is a known format.
func (f Format) Valid() bool {
	return f == FormatEPUB || f == FormatPDF || f == FormatAudiobook
}

// MediaType is the MIME type of a title's content in this format.
func (f Format) MediaType() string {
	switch f {
	case FormatPDF:
		return "application/pdf"
	case FormatAudiobook:
		return "application/audiobook+zip"
	}
	return "application/epub+zip"
}

// Model is a license model: what a publisher lets the library do.
type Model string

// License models.
const (
	// OneCopyOneUser is N concurrent copies, perpetual.
	OneCopyOneUser Model = "ONE_COPY_ONE_USER"
	// MeteredCheckouts is N concurrent copies for a number of checkouts.
	MeteredCheckouts Model = "METERED_CHECKOUTS"
	// MeteredTime is N concurrent copies until a date.
	MeteredTime Model = "METERED_TIME"
	// OneCopyManyUsers is unlimited concurrent loans until a date.
	OneCopyManyUsers Model = "ONE_COPY_MANY_USERS"
	// OpenAccess is unlimited and perpetual.
	OpenAccess Model = "OPEN_ACCESS"
)

// Valid reports whether m is a known model.
func (m Model) Valid() bool {
	switch m {
	case OneCopyOneUser, MeteredCheckouts, MeteredTime, OneCopyManyUsers, OpenAccess:
		return true
	}
	return false
}

// Scope says who a license is for.
type Scope string

// Scopes.
const (
	// ScopeProvince: every reader of the province.
	ScopeProvince Scope = "PROVINCE"
	// ScopeLibrary: readers registered at one library (or, with
	// License.DistrictWide, at any library of its district).
	ScopeLibrary Scope = "LIBRARY"
)

// Title is one e-book edition of a catalog work.
type Title struct {
	ID string
	// WorkID is the catalog work this is an edition of.
	WorkID    string
	Format    Format
	Name      string
	Authors   []string
	Language  string // BCP 47, "vi" by default
	Publisher string
	Summary   string
	// ContentRef names the file in the ContentStore.
	ContentRef string
	// SearchText is the folded name and authors, set by the service, which
	// stores match queries against.
	SearchText string
	CreatedAt  time.Time
}

// Unlimited is the value of License.Concurrency and License.CheckoutsLeft
// that means "no limit".
const Unlimited = -1

// License is one purchase of a title from a publisher.
type License struct {
	ID      string
	TitleID string
	Model   Model
	Scope   Scope
	// LibraryID is the buying library when Scope is LIBRARY.
	LibraryID string
	// DistrictWide lets readers of any library in the buying library's
	// district borrow a LIBRARY license.
	DistrictWide bool
	// Concurrency is how many loans may run at once (Unlimited for
	// ONE_COPY_MANY_USERS and OPEN_ACCESS).
	Concurrency int
	// CheckoutsTotal is what was bought (Unlimited unless METERED_CHECKOUTS).
	CheckoutsTotal int
	// CheckoutsLeft counts down on every checkout (Unlimited unless metered).
	CheckoutsLeft int
	// ExpiresAt ends a METERED_TIME or ONE_COPY_MANY_USERS license.
	ExpiresAt *time.Time
	// MaxLoanDays caps one loan (0: no cap beyond the service's periods).
	MaxLoanDays int
	// Available is Concurrency minus InUse (Unlimited when unlimited).
	Available int
	// InUse is how many seats are taken (by loans and reservations).
	InUse int
	// Seats are the current holders of a copy, by holder ID.
	Seats     map[string]Seat
	CreatedAt time.Time
}

// SeatKind says what holds a seat.
type SeatKind string

// Seat kinds.
const (
	// SeatLoan: an active loan holds the copy.
	SeatLoan SeatKind = "LOAN"
	// SeatHold: the copy is reserved for a hold. Releasing such a seat gives
	// a metered license its checkout back, since no loan was made.
	SeatHold SeatKind = "HOLD"
)

// Seat is one copy of a license in use.
type Seat struct {
	HolderID   string
	Kind       SeatKind
	AcquiredAt time.Time
}

// Limited reports whether the license has a finite number of copies.
func (l *License) Limited() bool { return l.Concurrency != Unlimited }

// Metered reports whether the license has a finite number of checkouts.
func (l *License) Metered() bool { return l.CheckoutsLeft != Unlimited }

// Usable reports whether a new checkout could be made at now, copies aside.
func (l *License) Usable(now time.Time) bool {
	if l.ExpiresAt != nil && !now.Before(*l.ExpiresAt) {
		return false
	}
	return !l.Metered() || l.CheckoutsLeft > 0
}

// HasFreeCopy reports whether a new checkout could be made at now.
func (l *License) HasFreeCopy(now time.Time) bool {
	return l.Usable(now) && (!l.Limited() || l.Available > 0)
}

// LoanState is where a loan is in its life.
type LoanState string

// Loan states. ACTIVE is the only one that holds a copy.
const (
	LoanActive   LoanState = "ACTIVE"
	LoanReturned LoanState = "RETURNED"
	LoanExpired  LoanState = "EXPIRED"
	// LoanCancelled is a loan undone before use. The service makes none
	// since loan slots keep the limit; the state stays in the API.
	LoanCancelled LoanState = "CANCELLED"
)

// Loan is one reader's use of one copy of a license.
type Loan struct {
	ID        string
	TitleID   string
	LicenseID string
	ReaderID  string
	State     LoanState
	StartedAt time.Time
	EndsAt    time.Time
	// EndedAt is when it was returned, expired or cancelled.
	EndedAt  *time.Time
	Renewals int
	// HoldID is the hold this loan fulfilled, if any.
	HoldID string
	// IdempotencyKey is the client's key for the borrow (unique per reader).
	IdempotencyKey string
	// Slot is which of the reader's loan slots (0 … Config.MaxLoans−1) the
	// loan takes; no two ACTIVE loans of a reader share one.
	Slot int
	// Version counts updates; UpdateLoan compares and sets it.
	Version int
}

// Active reports whether the loan still holds its copy at now.
func (l *Loan) Active(now time.Time) bool {
	return l.State == LoanActive && now.Before(l.EndsAt)
}

// HoldState is where a hold is in its life.
type HoldState string

// Hold states. WAITING, SUSPENDED and RESERVED are active: the reader is in
// the queue; RESERVED holds a copy for ReservedUntil.
const (
	HoldWaiting   HoldState = "WAITING"
	HoldSuspended HoldState = "SUSPENDED"
	HoldReserved  HoldState = "RESERVED"
	HoldFulfilled HoldState = "FULFILLED"
	HoldCancelled HoldState = "CANCELLED"
	HoldExpired   HoldState = "EXPIRED"
)

// ActiveState reports whether s is a state in the queue.
func (s HoldState) ActiveState() bool {
	return s == HoldWaiting || s == HoldSuspended || s == HoldReserved
}

// Hold is one reader waiting for a title.
type Hold struct {
	ID       string
	TitleID  string
	ReaderID string
	State    HoldState
	// CreatedAt orders the queue (then ID).
	CreatedAt time.Time
	// LoanDays is the period of the loan made from this hold (0: default).
	LoanDays int
	// AutoBorrow makes the loan as soon as a copy is reserved.
	AutoBorrow bool
	// SuspendedUntil ends a suspension (nil: until the reader resumes).
	SuspendedUntil *time.Time
	// LicenseID, ReservedAt and ReservedUntil describe the reservation.
	LicenseID     string
	ReservedAt    *time.Time
	ReservedUntil *time.Time
	// MissedOnce is set when a reservation lapsed once; a second miss ends
	// the hold.
	MissedOnce bool
	// LoanID is the loan that fulfilled the hold.
	LoanID  string
	EndedAt *time.Time
	// IdempotencyKey is the client's key for placing it (unique per reader).
	IdempotencyKey string
	// Version counts updates; UpdateHold compares and sets it.
	Version int
}

// TitleQuery selects titles for a listing. Zero fields do not filter.
type TitleQuery struct {
	Format Format
	// Text must occur in SearchText (pass it folded, see vietnamese.Fold).
	Text string
	// AfterID continues after the title with this ID (ordered by ID).
	AfterID string
	// Limit bounds the page (the store may cap it).
	Limit int
}

// Store keeps titles, licenses, loans and holds.
// Implementations: sqlite.EbookStore, mongo.EbookStore; the contract is
// package storetest.
type Store interface {
	// CreateTitle inserts t (a new ID when empty); a taken ID fails with ErrTitleExists.
	CreateTitle(ctx context.Context, t *Title) error
	// Title returns a title, or thuvienso.ErrNotFound.
	Title(ctx context.Context, id string) (*Title, error)
	// TitlesByID returns those of the titles that exist, any order.
	TitlesByID(ctx context.Context, ids []string) ([]*Title, error)
	// Titles returns a page of titles ordered by ID.
	Titles(ctx context.Context, q TitleQuery) ([]*Title, error)
	// TitlesForWork returns the titles of one catalog work, ordered by ID.
	TitlesForWork(ctx context.Context, workID string) ([]*Title, error)

	// CreateLicense inserts l (a new ID when empty) with no seat taken:
	// Available is set to Concurrency and InUse to 0.
	CreateLicense(ctx context.Context, l *License) error
	// License returns a license with its seats, or thuvienso.ErrNotFound.
	License(ctx context.Context, id string) (*License, error)
	// LicensesForTitles returns every license of the titles, ordered by ID.
	LicensesForTitles(ctx context.Context, titleIDs []string) ([]*License, error)
	// LicensesInUse returns licenses with at least one seat taken, ordered
	// by ID, after afterID.
	LicensesInUse(ctx context.Context, afterID string, limit int) ([]*License, error)
	// AcquireSeat gives seat a copy of the license in one conditional
	// update, when the license is unexpired at now, has a copy free and (if
	// metered) a checkout left, which it uses. It returns the updated
	// license, or ErrNoSeat. A holder that already has a seat gets the
	// license back unchanged (a retry).
	AcquireSeat(ctx context.Context, licenseID string, seat Seat, now time.Time) (*License, error)
	// ReleaseSeat gives the copy of holderID back, in one conditional
	// update, and a checkout back when the seat was a reservation (SeatHold).
	// It reports false when the holder had no seat (released already).
	ReleaseSeat(ctx context.Context, licenseID, holderID string) (bool, error)
	// TransferSeat hands the copy of fromID to seat, when the license is
	// unexpired at now; it reports false when fromID has no seat or the
	// license has expired.
	TransferSeat(ctx context.Context, licenseID, fromID string, seat Seat, now time.Time) (bool, error)

	// CreateLoan inserts an ACTIVE loan (Version 1). A second active loan of
	// the title for the reader fails with ErrAlreadyBorrowed; a reused
	// idempotency key with ErrIdempotencyKeyUsed; a Slot another active loan
	// of the reader has with ErrLoanSlotTaken; a taken ID with a conflict.
	CreateLoan(ctx context.Context, l *Loan) error
	// Loan returns a loan, or thuvienso.ErrNotFound.
	Loan(ctx context.Context, id string) (*Loan, error)
	// LoansByID returns those of the loans that exist, any order.
	LoansByID(ctx context.Context, ids []string) ([]*Loan, error)
	// LoanByIdempotencyKey returns the reader's loan made with key, or thuvienso.ErrNotFound.
	LoanByIdempotencyKey(ctx context.Context, readerID, key string) (*Loan, error)
	// LoansForReader returns a reader's loans (only ACTIVE ones when
	// activeOnly), ordered by StartedAt then ID.
	LoansForReader(ctx context.Context, readerID string, activeOnly bool) ([]*Loan, error)
	// ActiveLoansForTitles returns the ACTIVE loans of the titles, ordered by EndsAt then ID.
	ActiveLoansForTitles(ctx context.Context, titleIDs []string) ([]*Loan, error)
	// ActiveLoansEndingBefore returns up to limit ACTIVE loans with EndsAt
	// at or before t, soonest first.
	ActiveLoansEndingBefore(ctx context.Context, t time.Time, limit int) ([]*Loan, error)
	// UpdateLoan replaces the loan when the stored Version equals l.Version,
	// and then increments l.Version. A changed loan fails with ErrStale.
	UpdateLoan(ctx context.Context, l *Loan) error

	// CreateHold inserts a hold (Version 1). A second active hold of the
	// title for the reader fails with ErrAlreadyOnHold; a reused idempotency
	// key with ErrIdempotencyKeyUsed.
	CreateHold(ctx context.Context, h *Hold) error
	// Hold returns a hold, or thuvienso.ErrNotFound.
	Hold(ctx context.Context, id string) (*Hold, error)
	// HoldsByID returns those of the holds that exist, any order.
	HoldsByID(ctx context.Context, ids []string) ([]*Hold, error)
	// HoldByIdempotencyKey returns the reader's hold placed with key, or thuvienso.ErrNotFound.
	HoldByIdempotencyKey(ctx context.Context, readerID, key string) (*Hold, error)
	// HoldsForReader returns a reader's holds (only active ones when
	// activeOnly), ordered by CreatedAt then ID.
	HoldsForReader(ctx context.Context, readerID string, activeOnly bool) ([]*Hold, error)
	// ActiveHoldsForTitle returns the queue of a title: its WAITING,
	// SUSPENDED and RESERVED holds, ordered by CreatedAt then ID.
	ActiveHoldsForTitle(ctx context.Context, titleID string) ([]*Hold, error)
	// ActiveHoldCounts returns how many active holds each title has
	// (titles without any are left out).
	ActiveHoldCounts(ctx context.Context, titleIDs []string) (map[string]int, error)
	// HoldsByStateBefore returns up to limit holds in state whose deadline
	// (ReservedUntil for RESERVED, SuspendedUntil for SUSPENDED) is at or
	// before t, soonest first.
	HoldsByStateBefore(ctx context.Context, state HoldState, t time.Time, limit int) ([]*Hold, error)
	// HoldsReservedSince returns up to limit RESERVED holds whose
	// ReservedAt is at or after t, latest first.
	HoldsReservedSince(ctx context.Context, t time.Time, limit int) ([]*Hold, error)
	// TitlesWithWaitingHolds returns the IDs of titles with a WAITING hold,
	// ordered, after afterID.
	TitlesWithWaitingHolds(ctx context.Context, afterID string, limit int) ([]string, error)
	// UpdateHold replaces the hold when the stored Version equals h.Version,
	// and then increments h.Version. A changed hold fails with ErrStale.
	UpdateHold(ctx context.Context, h *Hold) error
}

// Errors of the e-book domain. Stores return the first seven; the service
// all of them, wrapped with context.
var (
	// ErrTitleExists: a title with this ID exists.
	ErrTitleExists = thuvienso.E(thuvienso.CodeConflict,
		"an e-book title with this ID already exists", "đã có sách điện tử với mã này")
	// ErrNoSeat: no copy of the license is free (or it expired or ran out).
	ErrNoSeat = thuvienso.E(thuvienso.CodeNoCopyAvailable,
		"no copy of this e-book license is free", "giấy phép sách điện tử này không còn bản trống")
	// ErrAlreadyBorrowed: the reader has this title on loan.
	ErrAlreadyBorrowed = thuvienso.E(thuvienso.CodeConflict,
		"you already have this e-book on loan", "bạn đang mượn sách điện tử này")
	// ErrAlreadyOnHold: the reader is already in this title's queue.
	ErrAlreadyOnHold = thuvienso.E(thuvienso.CodeConflict,
		"you already have a hold on this e-book", "bạn đã đặt giữ sách điện tử này")
	// ErrIdempotencyKeyUsed: the key was used for another request.
	ErrIdempotencyKeyUsed = thuvienso.E(thuvienso.CodeConflict,
		"this idempotency key was already used for another request", "khóa chống lặp này đã được dùng cho một yêu cầu khác")
	// ErrStale: the loan or hold changed since it was read.
	ErrStale = thuvienso.E(thuvienso.CodeConflict,
		"it changed meanwhile; please try again", "dữ liệu vừa thay đổi; vui lòng thử lại")
	// ErrLoanSlotTaken: another active loan of the reader has this slot
	// (the service then tries another slot, or answers ErrLoanLimit).
	ErrLoanSlotTaken = thuvienso.E(thuvienso.CodeConflict,
		"another of your e-book loans took this place meanwhile; please try again",
		"một lượt mượn sách điện tử khác của bạn vừa dùng vị trí này; vui lòng thử lại")

	// ErrNoCopyAvailable: every copy the reader may use is on loan or reserved.
	ErrNoCopyAvailable = thuvienso.E(thuvienso.CodeNoCopyAvailable,
		"no copy of this e-book is available now; you can place a hold",
		"hiện không còn bản sách điện tử nào; bạn có thể đặt giữ")
	// ErrNotLendable: no license of the title is open to this reader.
	ErrNotLendable = thuvienso.E(thuvienso.CodeNoCopyAvailable,
		"this e-book has no license you can borrow under", "bạn không thuộc phạm vi giấy phép của sách điện tử này")
	// ErrLoanLimit: the reader has the most e-loans allowed.
	ErrLoanLimit = thuvienso.E(thuvienso.CodeLimitReached,
		"you have reached your e-book loan limit", "bạn đã mượn tối đa số sách điện tử cho phép")
	// ErrHoldLimit: the reader has the most e-holds allowed.
	ErrHoldLimit = thuvienso.E(thuvienso.CodeLimitReached,
		"you have reached your e-book hold limit", "bạn đã đặt giữ tối đa số sách điện tử cho phép")
	// ErrLoanNotActive: the loan has ended.
	ErrLoanNotActive = thuvienso.E(thuvienso.CodeConflict,
		"this e-book loan has ended", "lượt mượn sách điện tử này đã kết thúc")
	// ErrRenewBlocked: other readers are waiting for the title.
	ErrRenewBlocked = thuvienso.E(thuvienso.CodeConflict,
		"other readers are waiting for this e-book, so it cannot be renewed",
		"có bạn đọc khác đang chờ sách điện tử này nên không thể gia hạn")
	// ErrRenewLimit: the loan was renewed as often as allowed.
	ErrRenewLimit = thuvienso.E(thuvienso.CodeLimitReached,
		"this e-book loan cannot be renewed again", "lượt mượn này không thể gia hạn thêm")
	// ErrHoldNotActive: the hold has ended.
	ErrHoldNotActive = thuvienso.E(thuvienso.CodeConflict,
		"this e-book hold has ended", "lượt đặt giữ sách điện tử này đã kết thúc")
	// ErrHoldNotSuspendable: only a waiting hold can be suspended.
	ErrHoldNotSuspendable = thuvienso.E(thuvienso.CodeConflict,
		"only a waiting hold can be suspended", "chỉ có thể tạm hoãn lượt đặt giữ đang chờ")
	// ErrAvailableNow: a hold is pointless while a copy is free.
	ErrAvailableNow = thuvienso.E(thuvienso.CodeConflict,
		"a copy is available now; borrow it instead of placing a hold",
		"đang có bản trống; bạn có thể mượn ngay thay vì đặt giữ")
	// ErrBadLoanPeriod: the period is not one of the allowed ones.
	ErrBadLoanPeriod = thuvienso.Invalid("input.days",
		"the loan period is not one of those allowed (7, 14 or 21 days by default)",
		"thời hạn mượn không hợp lệ (mặc định 7, 14 hoặc 21 ngày)")
	// ErrLinkInvalid: a content link is malformed, forged or expired.
	ErrLinkInvalid = thuvienso.E(thuvienso.CodeForbidden,
		"this reading link is invalid or has expired", "liên kết đọc sách không hợp lệ hoặc đã hết hạn")
)
