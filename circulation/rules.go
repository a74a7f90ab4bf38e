package circulation

import (
	"strings"
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/library"
)

// LoanClass is how a copy may be lent, from its catalog loan type.
type LoanClass string

// Loan classes.
const (
	// ClassBook: lent for the book period (14 days by default).
	ClassBook LoanClass = "BOOK"
	// ClassShortLoan: lent for the short period (7 days by default):
	// new acquisitions, course books, periodicals.
	ClassShortLoan LoanClass = "SHORT_LOAN"
	// ClassReference: read in the library only; never lent or held.
	ClassReference LoanClass = "REFERENCE"
)

// shortLoanTypes and referenceTypes are the loan types (catalog.Item.LoanType,
// upper-cased, as Koha and the spreadsheets of the province's libraries
// name them) that are not ordinary books.
var (
	shortLoanTypes = map[string]bool{"SHORT_LOAN": true, "SHORT": true, "SHORTLOAN": true, "7D": true,
		"7DAY": true, "PERIODICAL": true, "SERIAL": true, "MUON_NGAN_HAN": true, "NGAN_HAN": true, "NGẮN HẠN": true}
	referenceTypes = map[string]bool{"REFERENCE": true, "REF": true, "NOT_FOR_LOAN": true, "NFL": true,
		"DOC_TAI_CHO": true, "ĐỌC TẠI CHỖ": true, "TRA_CUU": true, "TRA CỨU": true}
)

// Classify returns the loan class of a copy: reference when its status is
// REFERENCE_ONLY or its loan type names reference use, short loan when the
// loan type names one, book otherwise (an empty loan type included).
func Classify(it *catalog.Item) LoanClass {
	if it.Status == catalog.StatusReferenceOnly {
		return ClassReference
	}
	t := strings.ToUpper(strings.TrimSpace(it.LoanType))
	switch {
	case referenceTypes[t]:
		return ClassReference
	case shortLoanTypes[t]:
		return ClassShortLoan
	}
	return ClassBook
}

// Terms are the lending terms of one type of library for one reader
// category. An empty LibraryType or Category matches any. Each entry is
// complete: the most specific entry that matches is used as it is.
type Terms struct {
	LibraryType library.Type
	Category    auth.Category
	// BookDays and ShortLoanDays are the loan periods of the two lendable
	// classes (reference copies are never lent).
	BookDays, ShortLoanDays int
	// MaxRenewals bounds the renewals of one loan (0: none).
	MaxRenewals int
}

// Days returns the loan period of class (0 for reference).
func (t Terms) Days(class LoanClass) int {
	switch class {
	case ClassBook:
		return t.BookDays
	case ClassShortLoan:
		return t.ShortLoanDays
	}
	return 0
}

// Rules are the lending rules of the network. DefaultRules gives the
// province's; a deployment changes them with WithRules.
type Rules struct {
	// Terms are matched by the lending copy's owning library type and the
	// reader's category; the most specific match wins (both fields, then
	// library type only, then category only, then neither). DefaultRules
	// has one entry for everyone.
	Terms []Terms
	// MaxLoans and MaxHolds bound a reader's active loans and holds by
	// category; a category missing from the map gets the ADULT value.
	MaxLoans, MaxHolds map[auth.Category]int
	// HoldShelfDays is how long a copy waits on the hold shelf: the pickup
	// deadline is the end of the first open day of the pickup library at
	// least this many days after the copy arrived.
	HoldShelfDays int
	// LocalOnly names libraries (by ID) that do not lend to the network:
	// their copies fill only holds collected at the library itself and are
	// lent only at its own desk. LocalOnlyTypes does the same for every
	// library of a type.
	LocalOnly      map[string]bool
	LocalOnlyTypes map[library.Type]bool

	// Blocks. A blocked reader may not borrow, place holds or renew; the
	// reason says why in words a reader understands.
	//
	// BlockExpiredCard blocks a reader whose library card has expired (or
	// was reported lost, or is blocked by the library).
	BlockExpiredCard bool
	// OverdueBlockDays blocks a reader with a loan more than this many days
	// overdue (0: never).
	OverdueBlockDays int
	// MaxOverdueItems blocks a reader with this many overdue loans or more
	// (0: never).
	MaxOverdueItems int

	// HoldExpiringNotice is how long before the pickup deadline the "hold
	// expiring" event is recorded. DueSoonNotice is no longer used: due-date
	// reminders go at the days each reader chose (package notifications).
	DueSoonNotice, HoldExpiringNotice time.Duration
	// MaxSuspension bounds how far ahead a suspension or a start date may be.
	MaxSuspension time.Duration

	// Estimates: the days a transit takes within a district and between
	// districts, and the days a copy may come back late, which widen the
	// estimated wait into a range.
	TransitDaysSameDistrict, TransitDaysOtherDistrict, LateReturnDays int

	// BatchSize bounds one query of the expiry pass.
	BatchSize int
}

// DefaultRules returns the province's rules: 14-day loans of books and
// 7-day short loans (reference copies are not lent), two renewals (refused
// while someone waits), 10 loans and 10 holds for adults and students, 5
// and 5 for children, 7 days on the hold shelf, every library lending to
// the network, blocks for an expired card, a loan overdue more than 30 days
// or 5 overdue loans; "hold expiring" 1 day ahead;
// transits of 1 day within a district and 3 between districts.
func DefaultRules() Rules {
	return Rules{
		Terms:    []Terms{{BookDays: 14, ShortLoanDays: 7, MaxRenewals: 2}},
		MaxLoans: map[auth.Category]int{auth.CategoryAdult: 10, auth.CategoryStudent: 10, auth.CategoryChild: 5},
		MaxHolds: map[auth.Category]int{auth.CategoryAdult: 10, auth.CategoryStudent: 10, auth.CategoryChild: 5},

		HoldShelfDays:    7,
		BlockExpiredCard: true,
		OverdueBlockDays: 30,
		MaxOverdueItems:  5,

		DueSoonNotice:      48 * time.Hour,
		HoldExpiringNotice: 24 * time.Hour,
		MaxSuspension:      365 * 24 * time.Hour,

		TransitDaysSameDistrict:  1,
		TransitDaysOtherDistrict: 3,
		LateReturnDays:           7,
		BatchSize:                500,
	}
}

// TermsFor returns the terms for a copy of a library of type lt lent to a
// reader of category c.
func (r *Rules) TermsFor(lt library.Type, c auth.Category) Terms {
	best, bestScore := Terms{BookDays: 14, ShortLoanDays: 7, MaxRenewals: 2}, -1
	for _, t := range r.Terms {
		if (t.LibraryType != "" && t.LibraryType != lt) || (t.Category != "" && t.Category != c) {
			continue
		}
		score := 0
		if t.LibraryType != "" {
			score += 2
		}
		if t.Category != "" {
			score++
		}
		if score > bestScore {
			best, bestScore = t, score
		}
	}
	return best
}

// limit returns m[c], or the ADULT value for an unknown category.
func limit(m map[auth.Category]int, c auth.Category) int {
	if v, ok := m[c]; ok {
		return v
	}
	return m[auth.CategoryAdult]
}

// MaxLoansFor returns the loan limit of category c.
func (r *Rules) MaxLoansFor(c auth.Category) int { return limit(r.MaxLoans, c) }

// MaxHoldsFor returns the hold limit of category c.
func (r *Rules) MaxHoldsFor(c auth.Category) int { return limit(r.MaxHolds, c) }

// LendsToNetwork reports whether lib lends its copies beyond its own desk.
func (r *Rules) LendsToNetwork(lib *library.Library) bool {
	if lib == nil {
		return true
	}
	return !r.LocalOnly[lib.ID] && !r.LocalOnlyTypes[lib.Type]
}

// overdueBlock returns the block that a reader's active loans cause at
// now, or nil.
func (r *Rules) overdueBlock(loans []*Loan, now time.Time) error {
	overdue := 0
	for _, l := range loans {
		if !l.Overdue(now) {
			continue
		}
		overdue++
		if r.OverdueBlockDays > 0 && now.Sub(l.DueAt) > time.Duration(r.OverdueBlockDays)*24*time.Hour {
			return ErrBlockedLongOverdue
		}
	}
	if r.MaxOverdueItems > 0 && overdue >= r.MaxOverdueItems {
		return ErrBlockedTooManyOverdue
	}
	return nil
}
