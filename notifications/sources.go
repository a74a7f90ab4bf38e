package notifications

import (
	"context"
	"maps"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/ebooks"
)

// Deadline is an open deadline that a domain keeps and a reader is
// reminded of: the due date of a loan not yet returned, the end of a hold
// not yet collected, the end of an e-book loan.
type Deadline struct {
	ReaderID string
	// SubjectID is the loan or hold.
	SubjectID string
	// At is the deadline.
	At time.Time
	// Data is what the text needs ("titleId" or "workId", "libraryId",
	// "title"); "deadline" is added from At when missing.
	Data map[string]string
}

// Source reports the open deadlines of one kind. The Dispatcher scans
// every source it was given once a minute and creates the reminders that
// are due (see Reminder); deduplication keys make every scan after the
// first a no-op. Circulation plugs in here with three sources
// (CirculationLoanSource twice, CirculationHoldSource): DUE_SOON (the due
// dates of loans out; the reminders go at the reader's chosen days
// before), OVERDUE (the same loans once past due; reminders on day 1 and
// day 7) and HOLD_EXPIRING (the pickup deadlines of ready holds). A domain
// should not both record events and have a source for one kind when the
// moments differ: an event's moment is its At, a reminder's its own time,
// so for DUE_SOON and OVERDUE the two would be two notifications (for
// HOLD_EXPIRING and EBOOK_EXPIRING both moments are the deadline, and
// the two make one).
type Source interface {
	// Kind is the kind of reminder the deadlines are for.
	Kind() Kind
	// Deadlines returns up to limit open deadlines at or before until,
	// soonest first. (For OVERDUE, until is a day ago: loans due before it
	// and still out.)
	Deadlines(ctx context.Context, until time.Time, limit int) ([]Deadline, error)
}

// DeadlineCursor is a position among a source's deadlines, which are
// ordered by At, then SubjectID.
type DeadlineCursor struct {
	At        time.Time
	SubjectID string
}

// PagedSource is a Source that can be read page by page, so that a scan
// sees every deadline however many there are (a plain Source is read up
// to the Dispatcher's DeadlineLimit; later deadlines wait until earlier
// ones close), and from a lower bound, so that long-closed moments are
// not read again and again (loans overdue for months).
type PagedSource interface {
	Source
	// DeadlinesAfter returns up to limit open deadlines after the
	// position `after` and at or before until, ordered by At then
	// SubjectID.
	DeadlinesAfter(ctx context.Context, after DeadlineCursor, until time.Time, limit int) ([]Deadline, error)
}

// leads are how far ahead of now each kind's source is read: the
// furthest reminder before a deadline (negative: after it).
var leads = map[Kind]time.Duration{
	EbookExpiring: ebookExpiringLead,
	HoldExpiring:  holdExpiringLead,
	DueSoon:       MaxDaysBeforeDue * 24 * time.Hour,
	Overdue:       -24 * time.Hour,
}

// Reminder leads.
const (
	// ebookExpiringLead: an e-book loan is reminded of two days before its end.
	ebookExpiringLead = 48 * time.Hour
	// holdExpiringLead: a hold, the day before its pickup deadline.
	holdExpiringLead = 24 * time.Hour
)

// lags are how far behind now a paged source is read: the latest
// reminder after a deadline, and a week more for a scheduler that was
// down. (Kinds whose reminders all go before the deadline read from now.)
var lags = map[Kind]time.Duration{
	Overdue: (7 + 7) * 24 * time.Hour,
}

// overdueDays are the days after a due date on which OVERDUE reminders go.
var overdueDays = []int{7, 1}

// Reminder returns the reminder of kind that is due at now for a
// deadline, given the reader's preferences, and false when none is:
//
//   - EBOOK_EXPIRING from two days before the end of an e-book loan, and
//     HOLD_EXPIRING from the day before a hold's deadline, until the
//     deadline; the moment is the deadline (as for the events of the same).
//   - DUE_SOON on each of Preferences.DaysBeforeDue days before the due
//     date (calendar days in the province's zone, at the due time of day),
//     until the due date; the moment is the reminder's time. When several
//     are past (the scheduler was down), only the latest is made.
//   - OVERDUE 1 and 7 days after the due date; the moment is the
//     reminder's time, and only the latest past one is made.
func Reminder(kind Kind, dl Deadline, p *Preferences, now time.Time) (Request, bool) {
	if p == nil {
		p = DefaultPreferences(dl.ReaderID)
	}
	req := func(moment time.Time, extra map[string]string) (Request, bool) {
		data := maps.Clone(dl.Data)
		if data == nil {
			data = map[string]string{}
		}
		if data["deadline"] == "" {
			data["deadline"] = dl.At.UTC().Format(time.RFC3339)
		}
		maps.Copy(data, extra)
		return Request{ReaderID: dl.ReaderID, Kind: kind, SubjectID: dl.SubjectID, Moment: moment, Data: data}, true
	}
	switch kind {
	case EbookExpiring, HoldExpiring:
		if !now.Before(dl.At.Add(-leads[kind])) && now.Before(dl.At) {
			return req(dl.At, nil)
		}
	case DueSoon:
		if !now.Before(dl.At) {
			return Request{}, false
		}
		var best time.Time
		for _, d := range p.DaysBeforeDue {
			at := dl.At.In(thuvienso.Zone).AddDate(0, 0, -d)
			if !now.Before(at) && at.After(best) {
				best = at
			}
		}
		if !best.IsZero() {
			return req(best.UTC(), nil)
		}
	case Overdue:
		for _, d := range overdueDays {
			at := dl.At.In(thuvienso.Zone).AddDate(0, 0, d)
			if !now.Before(at) {
				return req(at.UTC(), nil)
			}
		}
	}
	return Request{}, false
}

// EbookLoans finds active e-book loans by their end; ebooks.Store is one.
type EbookLoans interface {
	ActiveLoansEndingBefore(ctx context.Context, t time.Time, limit int) ([]*ebooks.Loan, error)
}

// EbookLoanSource reports the ends of active e-book loans, for
// EBOOK_EXPIRING reminders. (The e-book expiry pass also records
// EBOOK_LOAN_EXPIRING events for them; both make the same notification.)
type EbookLoanSource struct {
	Loans EbookLoans
}

// Kind implements Source.
func (EbookLoanSource) Kind() Kind { return EbookExpiring }

// Deadlines implements Source.
func (s EbookLoanSource) Deadlines(ctx context.Context, until time.Time, limit int) ([]Deadline, error) {
	loans, err := s.Loans.ActiveLoansEndingBefore(ctx, until, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Deadline, 0, len(loans))
	for _, l := range loans {
		out = append(out, Deadline{ReaderID: l.ReaderID, SubjectID: l.ID, At: l.EndsAt,
			Data: map[string]string{"titleId": l.TitleID}})
	}
	return out, nil
}

// CirculationLoans finds the open loans of circulation by due date;
// circulation.Store is one.
type CirculationLoans interface {
	ActiveLoansDue(ctx context.Context, afterDue time.Time, afterID string, until time.Time, limit int) ([]*circulation.Loan, error)
}

// CirculationLoanSource reports the due dates of the loans that are out,
// for DUE_SOON reminders (Reminds DueSoon, the default) or OVERDUE ones
// (Reminds Overdue). Circulation records no events for these kinds.
type CirculationLoanSource struct {
	Loans   CirculationLoans
	Reminds Kind
}

var _ PagedSource = CirculationLoanSource{}

// Kind implements Source.
func (s CirculationLoanSource) Kind() Kind {
	if s.Reminds == "" {
		return DueSoon
	}
	return s.Reminds
}

// Deadlines implements Source.
func (s CirculationLoanSource) Deadlines(ctx context.Context, until time.Time, limit int) ([]Deadline, error) {
	return s.DeadlinesAfter(ctx, DeadlineCursor{}, until, limit)
}

// DeadlinesAfter implements PagedSource.
func (s CirculationLoanSource) DeadlinesAfter(ctx context.Context, after DeadlineCursor, until time.Time, limit int) ([]Deadline, error) {
	loans, err := s.Loans.ActiveLoansDue(ctx, after.At, after.SubjectID, until, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Deadline, 0, len(loans))
	for _, l := range loans {
		data := map[string]string{"workId": l.WorkID, "libraryId": l.LibraryID}
		if l.Barcode != "" {
			data["barcode"] = l.Barcode
		}
		out = append(out, Deadline{ReaderID: l.ReaderID, SubjectID: l.ID, At: l.DueAt, Data: data})
	}
	return out, nil
}

// CirculationHolds finds holds by deadline; circulation.Store is one.
type CirculationHolds interface {
	HoldsDue(ctx context.Context, state circulation.HoldState, t time.Time, limit int) ([]*circulation.Hold, error)
}

// CirculationHoldSource reports the pickup deadlines of the holds ready on
// a hold shelf, for HOLD_EXPIRING reminders. (Circulation's expiry pass
// also records HOLD_EXPIRING events for them; both have the deadline as
// their moment and make one notification.) Ready holds are few — their
// deadlines are days away and they end at them — so it is read in one
// page.
type CirculationHoldSource struct {
	Holds CirculationHolds
}

// Kind implements Source.
func (CirculationHoldSource) Kind() Kind { return HoldExpiring }

// Deadlines implements Source.
func (s CirculationHoldSource) Deadlines(ctx context.Context, until time.Time, limit int) ([]Deadline, error) {
	holds, err := s.Holds.HoldsDue(ctx, circulation.HoldReady, until, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Deadline, 0, len(holds))
	for _, h := range holds {
		if h.PickupDeadline == nil {
			continue
		}
		data := map[string]string{"workId": h.WorkID, "libraryId": h.PickupLibraryID}
		if h.Barcode != "" {
			data["barcode"] = h.Barcode
		}
		out = append(out, Deadline{ReaderID: h.ReaderID, SubjectID: h.ID, At: *h.PickupDeadline, Data: data})
	}
	return out, nil
}
