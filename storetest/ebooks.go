package storetest

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/ebooks"
	"github.com/bacninh/thuvienso/events"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/store"
)

// fakeClock is the injectable clock of the e-book tests: time moves only
// when a test moves it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// ebookEnv is an e-book service on the Set under test, with a fake clock.
type ebookEnv struct {
	t     *testing.T
	s     *store.Set
	svc   *ebooks.Service
	clock *fakeClock
	admin auth.Actor
}

func newEbookEnv(t *testing.T, s *store.Set) *ebookEnv {
	t.Helper()
	if s.Ebooks == nil || s.Events == nil {
		t.Fatal("Set.Ebooks or Set.Events is nil")
	}
	clock := &fakeClock{now: t0}
	e := &ebookEnv{t: t, s: s, clock: clock, admin: auth.Actor{AccountID: "admin", Role: auth.RoleAdmin}}
	e.svc = ebooks.NewService(s.Ebooks, s.Events, s.Auth, ebooks.WithClock(clock.Now), ebooks.WithLibraries(s.Libraries))
	return e
}

// readers creates n reader accounts registered at home and returns them as actors.
func (e *ebookEnv) readers(prefix string, n int, home string) []auth.Actor {
	e.t.Helper()
	out := make([]auth.Actor, n)
	for i := range n {
		a := newAccount(idf(prefix, i), "", "", "")
		a.HomeLibraryID = home
		must(e.t, "CreateAccount", e.s.Auth.CreateAccount(e.t.Context(), a))
		out[i] = auth.Actor{AccountID: a.ID, Role: auth.RoleReader}
	}
	return out
}

// title adds an EPUB title.
func (e *ebookEnv) title(id string) *ebooks.Title {
	e.t.Helper()
	t, err := e.svc.AddTitle(e.t.Context(), e.admin, &ebooks.Title{ID: id, WorkID: "work-" + id, Format: ebooks.FormatEPUB,
		Name: "Truyện Kiều " + id, Authors: []string{"Nguyễn Du"}, ContentRef: id + ".epub"})
	must(e.t, "AddTitle", err)
	return t
}

// license adds a province license to a title.
func (e *ebookEnv) license(titleID string, l ebooks.License) *ebooks.License {
	e.t.Helper()
	l.TitleID = titleID
	if l.Scope == "" {
		l.Scope = ebooks.ScopeProvince
	}
	got, err := e.svc.AddLicense(e.t.Context(), e.admin, &l)
	must(e.t, "AddLicense", err)
	return got
}

// exact fails unless the license's counters and seats agree with the
// loans and reservations that hold it: InUse = seats = ACTIVE loans +
// RESERVED holds on it, Available = Concurrency − InUse, and the
// checkouts used are the loans made plus the reservations pending.
func (e *ebookEnv) exact(what, licenseID string) *ebooks.License {
	e.t.Helper()
	ctx := e.t.Context()
	l, err := e.s.Ebooks.License(ctx, licenseID)
	must(e.t, what+": License", err)
	loans, err := e.s.Ebooks.ActiveLoansForTitles(ctx, []string{l.TitleID})
	must(e.t, what+": ActiveLoansForTitles", err)
	holders := map[string]bool{}
	for _, x := range loans {
		if x.LicenseID == l.ID {
			holders[x.ID] = true
		}
	}
	queue, err := e.s.Ebooks.ActiveHoldsForTitle(ctx, l.TitleID)
	must(e.t, what+": ActiveHoldsForTitle", err)
	for _, h := range queue {
		if h.State == ebooks.HoldReserved && h.LicenseID == l.ID {
			holders[h.ID] = true
		}
	}
	seats := map[string]bool{}
	for id := range l.Seats {
		seats[id] = true
	}
	mustEqual(e.t, what+": seat holders vs active loans and reservations", seats, holders)
	if l.InUse != len(holders) || l.InUse < 0 {
		e.t.Fatalf("%s: InUse %d, want %d", what, l.InUse, len(holders))
	}
	if l.Limited() && (l.Available != l.Concurrency-l.InUse || l.Available < 0) {
		e.t.Fatalf("%s: Available %d with Concurrency %d and InUse %d", what, l.Available, l.Concurrency, l.InUse)
	}
	if l.Metered() && l.CheckoutsLeft < 0 {
		e.t.Fatalf("%s: CheckoutsLeft %d is negative", what, l.CheckoutsLeft)
	}
	return l
}

func wantCodeOf(t *testing.T, what string, err error, code thuvienso.Code) {
	t.Helper()
	if got := thuvienso.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v has code %q, want %q", what, err, got, code)
	}
}

// borrow borrows and fails on error.
func (e *ebookEnv) borrow(who auth.Actor, titleID string) *ebooks.Loan {
	e.t.Helper()
	r, err := e.svc.Borrow(e.t.Context(), who, ebooks.BorrowInput{TitleID: titleID})
	must(e.t, "Borrow by "+who.AccountID, err)
	if r.Loan == nil {
		e.t.Fatalf("Borrow by %s gave no loan: %+v", who.AccountID, r)
	}
	return r.Loan
}

func (e *ebookEnv) hold(who auth.Actor, titleID string) *ebooks.Hold {
	e.t.Helper()
	h, err := e.svc.PlaceHold(e.t.Context(), who, ebooks.PlaceHoldInput{TitleID: titleID})
	must(e.t, "PlaceHold by "+who.AccountID, err)
	return h
}

func (e *ebookEnv) holdOf(id string) *ebooks.Hold {
	e.t.Helper()
	h, err := e.s.Ebooks.Hold(e.t.Context(), id)
	must(e.t, "Hold", err)
	return h
}

var ebookStoreTests = []test{
	{"Ebooks/TitleLicenseRoundTrip", func(t *testing.T, s *store.Set) {
		ctx, st := t.Context(), s.Ebooks
		title := &ebooks.Title{ID: "t-1", WorkID: "w-1", Format: ebooks.FormatAudiobook, Name: "Tấm Cám",
			Authors: []string{"Khuyết danh", communeNFD}, Language: "vi", Publisher: "NXB Kim Đồng",
			Summary: "Truyện cổ tích", ContentRef: "demo/tam-cam.zip", SearchText: "tam cam khuyet danh", CreatedAt: at(0)}
		must(t, "CreateTitle", st.CreateTitle(ctx, title))
		wantErr(t, "CreateTitle again", st.CreateTitle(ctx, title), ebooks.ErrTitleExists)
		got, err := st.Title(ctx, "t-1")
		must(t, "Title", err)
		want := *title
		want.CreatedAt = want.CreatedAt.UTC()
		mustEqual(t, "Title", *got, want)
		_, err = st.Title(ctx, "nope")
		wantErr(t, "Title(unknown)", err, thuvienso.ErrNotFound)
		must(t, "CreateTitle", st.CreateTitle(ctx, &ebooks.Title{ID: "t-2", WorkID: "w-1", Format: ebooks.FormatPDF,
			Name: "B", Authors: []string{}, SearchText: "b", CreatedAt: at(0)}))
		ts, err := st.TitlesForWork(ctx, "w-1")
		must(t, "TitlesForWork", err)
		if len(ts) != 2 || ts[0].ID != "t-1" || ts[1].ID != "t-2" {
			t.Fatalf("TitlesForWork: %+v", ts)
		}
		ts, err = st.Titles(ctx, ebooks.TitleQuery{Text: "cam"})
		must(t, "Titles(text)", err)
		if len(ts) != 1 || ts[0].ID != "t-1" {
			t.Fatalf("Titles(text cam): %+v", ts)
		}
		ts, err = st.Titles(ctx, ebooks.TitleQuery{Format: ebooks.FormatPDF})
		must(t, "Titles(format)", err)
		if len(ts) != 1 || ts[0].ID != "t-2" {
			t.Fatalf("Titles(PDF): %+v", ts)
		}
		ts, err = st.Titles(ctx, ebooks.TitleQuery{AfterID: "t-1", Limit: 5})
		must(t, "Titles(after)", err)
		if len(ts) != 1 || ts[0].ID != "t-2" {
			t.Fatalf("Titles(after t-1): %+v", ts)
		}

		exp := at(30 * 24 * time.Hour)
		lic := &ebooks.License{ID: "l-1", TitleID: "t-1", Model: ebooks.MeteredTime, Scope: ebooks.ScopeLibrary,
			LibraryID: "lib-tuson", DistrictWide: true, Concurrency: 3, CheckoutsTotal: ebooks.Unlimited,
			CheckoutsLeft: ebooks.Unlimited, ExpiresAt: &exp, MaxLoanDays: 21, CreatedAt: at(time.Second)}
		must(t, "CreateLicense", st.CreateLicense(ctx, lic))
		gl, err := st.License(ctx, "l-1")
		must(t, "License", err)
		wl := *lic
		wl.CreatedAt, wl.ExpiresAt, wl.Available, wl.Seats = wl.CreatedAt.UTC(), utcPtr(wl.ExpiresAt), 3, map[string]ebooks.Seat{}
		mustEqual(t, "License", *gl, wl)
	}},
	{"Ebooks/SeatsAreExactAndIdempotent", func(t *testing.T, s *store.Set) {
		ctx, st := t.Context(), s.Ebooks
		must(t, "CreateTitle", st.CreateTitle(ctx, &ebooks.Title{ID: "t-1", WorkID: "w", Format: ebooks.FormatEPUB, Name: "x", CreatedAt: at(0)}))
		lic := &ebooks.License{ID: "l-1", TitleID: "t-1", Model: ebooks.MeteredCheckouts, Scope: ebooks.ScopeProvince,
			Concurrency: 2, CheckoutsTotal: 3, CheckoutsLeft: 3, CreatedAt: at(0)}
		must(t, "CreateLicense", st.CreateLicense(ctx, lic))
		now := at(time.Hour)
		seat := func(id string, kind ebooks.SeatKind) ebooks.Seat {
			return ebooks.Seat{HolderID: id, Kind: kind, AcquiredAt: now}
		}
		l, err := st.AcquireSeat(ctx, "l-1", seat("loan-a", ebooks.SeatLoan), now)
		must(t, "AcquireSeat a", err)
		if l.Available != 1 || l.InUse != 1 || l.CheckoutsLeft != 2 || len(l.Seats) != 1 {
			t.Fatalf("after one seat: %+v", l)
		}
		mustEqual(t, "the seat", l.Seats["loan-a"], ebooks.Seat{HolderID: "loan-a", Kind: ebooks.SeatLoan, AcquiredAt: now.UTC()})
		l, err = st.AcquireSeat(ctx, "l-1", seat("loan-a", ebooks.SeatLoan), now)
		must(t, "AcquireSeat a again (a retry)", err)
		if l.Available != 1 || l.InUse != 1 || l.CheckoutsLeft != 2 {
			t.Fatalf("a retried AcquireSeat moved the counters: %+v", l)
		}
		_, err = st.AcquireSeat(ctx, "l-1", seat("hold-b", ebooks.SeatHold), now)
		must(t, "AcquireSeat b", err)
		_, err = st.AcquireSeat(ctx, "l-1", seat("loan-c", ebooks.SeatLoan), now)
		wantErr(t, "AcquireSeat with no copy free", err, ebooks.ErrNoSeat)
		wantCode(t, "AcquireSeat with no copy free", err, thuvienso.CodeNoCopyAvailable)
		_, err = st.AcquireSeat(ctx, "nope", seat("loan-c", ebooks.SeatLoan), now)
		wantErr(t, "AcquireSeat(unknown license)", err, thuvienso.ErrNotFound)

		// A lapsed reservation gives its checkout back; a loan does not.
		ok, err := st.ReleaseSeat(ctx, "l-1", "hold-b")
		must(t, "ReleaseSeat b", err)
		if !ok {
			t.Fatal("ReleaseSeat b: not released")
		}
		ok, err = st.ReleaseSeat(ctx, "l-1", "hold-b")
		must(t, "ReleaseSeat b again", err)
		if ok {
			t.Fatal("ReleaseSeat b twice released twice")
		}
		l, err = st.License(ctx, "l-1")
		must(t, "License", err)
		if l.Available != 1 || l.InUse != 1 || l.CheckoutsLeft != 2 {
			t.Fatalf("after releasing a reservation: %+v, want 1 available, 1 in use, 2 checkouts left", l)
		}
		// Handing a reservation over to a loan keeps the checkout used.
		_, err = st.AcquireSeat(ctx, "l-1", seat("hold-d", ebooks.SeatHold), now)
		must(t, "AcquireSeat d", err)
		moved, err := st.TransferSeat(ctx, "l-1", "hold-d", seat("loan-d", ebooks.SeatLoan), now)
		must(t, "TransferSeat", err)
		if !moved {
			t.Fatal("TransferSeat: not moved")
		}
		moved, err = st.TransferSeat(ctx, "l-1", "hold-d", seat("loan-x", ebooks.SeatLoan), now)
		must(t, "TransferSeat again", err)
		if moved {
			t.Fatal("TransferSeat of a seat already handed over moved it again")
		}
		for _, id := range []string{"loan-a", "loan-d"} {
			ok, err := st.ReleaseSeat(ctx, "l-1", id)
			must(t, "ReleaseSeat "+id, err)
			if !ok {
				t.Fatalf("ReleaseSeat %s: not released", id)
			}
		}
		l, err = st.License(ctx, "l-1")
		must(t, "License", err)
		if l.Available != 2 || l.InUse != 0 || l.CheckoutsLeft != 1 || len(l.Seats) != 0 {
			t.Fatalf("after all returned: %+v, want 2 available, none in use, 1 checkout left", l)
		}
		inUse, err := st.LicensesInUse(ctx, "", 10)
		must(t, "LicensesInUse", err)
		if len(inUse) != 0 {
			t.Fatalf("LicensesInUse: %d licenses, want none", len(inUse))
		}
		// The last checkout, then none.
		_, err = st.AcquireSeat(ctx, "l-1", seat("loan-e", ebooks.SeatLoan), now)
		must(t, "AcquireSeat e", err)
		_, err = st.AcquireSeat(ctx, "l-1", seat("loan-f", ebooks.SeatLoan), now)
		wantErr(t, "AcquireSeat with no checkout left", err, ebooks.ErrNoSeat)
		// An expired license lends nothing and hands nothing over.
		exp := at(2 * time.Hour)
		must(t, "CreateLicense", st.CreateLicense(ctx, &ebooks.License{ID: "l-2", TitleID: "t-1", Model: ebooks.MeteredTime,
			Scope: ebooks.ScopeProvince, Concurrency: 1, CheckoutsTotal: -1, CheckoutsLeft: -1, ExpiresAt: &exp, CreatedAt: at(0)}))
		_, err = st.AcquireSeat(ctx, "l-2", seat("hold-g", ebooks.SeatHold), now)
		must(t, "AcquireSeat before expiry", err)
		moved, err = st.TransferSeat(ctx, "l-2", "hold-g", seat("loan-g", ebooks.SeatLoan), exp)
		must(t, "TransferSeat at expiry", err)
		if moved {
			t.Fatal("TransferSeat on an expired license moved the seat")
		}
		_, err = st.AcquireSeat(ctx, "l-2", seat("loan-h", ebooks.SeatLoan), exp.Add(time.Millisecond))
		wantErr(t, "AcquireSeat after expiry", err, ebooks.ErrNoSeat)
	}},
	{"Ebooks/LoanAndHoldCompareAndSet", func(t *testing.T, s *store.Set) {
		ctx, st := t.Context(), s.Ebooks
		loan := &ebooks.Loan{ID: "loan-1", TitleID: "t-1", LicenseID: "l-1", ReaderID: "r-1", State: ebooks.LoanActive,
			StartedAt: at(0), EndsAt: at(14 * 24 * time.Hour), IdempotencyKey: "key-1", HoldID: "h-0"}
		must(t, "CreateLoan", st.CreateLoan(ctx, loan))
		if loan.Version != 1 {
			t.Fatalf("CreateLoan: Version %d, want 1", loan.Version)
		}
		got, err := st.Loan(ctx, "loan-1")
		must(t, "Loan", err)
		want := *loan
		want.StartedAt, want.EndsAt = want.StartedAt.UTC(), want.EndsAt.UTC()
		mustEqual(t, "Loan", *got, want)
		dup := &ebooks.Loan{ID: "loan-2", TitleID: "t-1", LicenseID: "l-1", ReaderID: "r-1", State: ebooks.LoanActive, StartedAt: at(0), EndsAt: at(time.Hour)}
		wantErr(t, "a second active loan of the title", st.CreateLoan(ctx, dup), ebooks.ErrAlreadyBorrowed)
		reuse := &ebooks.Loan{ID: "loan-3", TitleID: "t-2", LicenseID: "l-2", ReaderID: "r-1", State: ebooks.LoanActive,
			StartedAt: at(0), EndsAt: at(time.Hour), IdempotencyKey: "key-1"}
		wantErr(t, "a reused idempotency key", st.CreateLoan(ctx, reuse), ebooks.ErrIdempotencyKeyUsed)
		other := &ebooks.Loan{ID: "loan-4", TitleID: "t-1", LicenseID: "l-1", ReaderID: "r-2", State: ebooks.LoanActive,
			StartedAt: at(time.Second), EndsAt: at(time.Hour), IdempotencyKey: "key-1"}
		must(t, "the same key and title for another reader", st.CreateLoan(ctx, other))
		byKey, err := st.LoanByIdempotencyKey(ctx, "r-1", "key-1")
		must(t, "LoanByIdempotencyKey", err)
		if byKey.ID != "loan-1" {
			t.Fatalf("LoanByIdempotencyKey: %s", byKey.ID)
		}

		// Two updates from the same read: one wins.
		a, b := *got, *got
		a.State, a.EndedAt = ebooks.LoanReturned, ptr(at(time.Hour))
		b.State, b.EndedAt = ebooks.LoanExpired, ptr(at(2*time.Hour))
		must(t, "UpdateLoan a", st.UpdateLoan(ctx, &a))
		if a.Version != 2 {
			t.Fatalf("UpdateLoan: Version %d, want 2", a.Version)
		}
		wantErr(t, "UpdateLoan b from a stale read", st.UpdateLoan(ctx, &b), ebooks.ErrStale)
		wantCode(t, "UpdateLoan stale", st.UpdateLoan(ctx, &b), thuvienso.CodeConflict)
		got, err = st.Loan(ctx, "loan-1")
		must(t, "Loan", err)
		if got.State != ebooks.LoanReturned || got.Version != 2 {
			t.Fatalf("after the race: %+v", got)
		}
		// The ended loan no longer blocks a new one.
		must(t, "a new loan after the return", st.CreateLoan(ctx, dup))
		active, err := st.LoansForReader(ctx, "r-1", true)
		must(t, "LoansForReader(active)", err)
		if len(active) != 1 || active[0].ID != "loan-2" {
			t.Fatalf("active loans: %+v", active)
		}
		all, err := st.LoansForReader(ctx, "r-1", false)
		must(t, "LoansForReader(all)", err)
		if len(all) != 2 {
			t.Fatalf("all loans: %d", len(all))
		}
		due, err := st.ActiveLoansEndingBefore(ctx, at(time.Hour), 10)
		must(t, "ActiveLoansEndingBefore", err)
		if len(due) != 2 {
			t.Fatalf("ActiveLoansEndingBefore: %d loans, want 2", len(due))
		}
		due, err = st.ActiveLoansEndingBefore(ctx, at(time.Hour-1), 10)
		must(t, "ActiveLoansEndingBefore (a nanosecond early)", err)
		if len(due) != 0 {
			t.Fatalf("ActiveLoansEndingBefore a nanosecond early: %d loans, want 0", len(due))
		}
		wantErr(t, "UpdateLoan(unknown)", st.UpdateLoan(ctx, &ebooks.Loan{ID: "nope", Version: 1}), thuvienso.ErrNotFound)

		// Holds: one active per reader and title, queue order, deadlines.
		h1 := &ebooks.Hold{ID: "h-1", TitleID: "t-1", ReaderID: "r-1", State: ebooks.HoldWaiting, CreatedAt: at(2), IdempotencyKey: "k"}
		h2 := &ebooks.Hold{ID: "h-2", TitleID: "t-1", ReaderID: "r-2", State: ebooks.HoldWaiting, CreatedAt: at(1)}
		must(t, "CreateHold", st.CreateHold(ctx, h1))
		must(t, "CreateHold", st.CreateHold(ctx, h2))
		wantErr(t, "a second hold", st.CreateHold(ctx, &ebooks.Hold{ID: "h-3", TitleID: "t-1", ReaderID: "r-1", State: ebooks.HoldWaiting, CreatedAt: at(3)}), ebooks.ErrAlreadyOnHold)
		q, err := st.ActiveHoldsForTitle(ctx, "t-1")
		must(t, "ActiveHoldsForTitle", err)
		if len(q) != 2 || q[0].ID != "h-2" || q[1].ID != "h-1" {
			t.Fatalf("queue: %+v", q)
		}
		until := at(72 * time.Hour)
		r := *h1
		r.State, r.LicenseID, r.ReservedAt, r.ReservedUntil = ebooks.HoldReserved, "l-1", ptr(at(time.Hour)), &until
		must(t, "UpdateHold", st.UpdateHold(ctx, &r))
		gh, err := st.Hold(ctx, "h-1")
		must(t, "Hold", err)
		wh := r
		wh.CreatedAt, wh.ReservedAt, wh.ReservedUntil = wh.CreatedAt.UTC(), utcPtr(wh.ReservedAt), utcPtr(wh.ReservedUntil)
		mustEqual(t, "Hold", *gh, wh)
		wantErr(t, "UpdateHold stale", st.UpdateHold(ctx, h1), ebooks.ErrStale)
		lapsed, err := st.HoldsByStateBefore(ctx, ebooks.HoldReserved, until, 10)
		must(t, "HoldsByStateBefore", err)
		if len(lapsed) != 1 || lapsed[0].ID != "h-1" {
			t.Fatalf("HoldsByStateBefore: %+v", lapsed)
		}
		r2 := *h2
		r2.State, r2.LicenseID, r2.ReservedAt, r2.ReservedUntil = ebooks.HoldReserved, "l-1", ptr(at(time.Hour+time.Minute)), ptr(until.Add(time.Minute))
		must(t, "UpdateHold h-2", st.UpdateHold(ctx, &r2))
		for _, c := range []struct {
			since time.Time
			limit int
			want  []string
		}{
			{at(time.Hour), 10, []string{"h-2", "h-1"}}, // latest first
			{at(time.Hour), 1, []string{"h-2"}},
			{at(time.Hour + 1), 10, []string{"h-2"}}, // a nanosecond after h-1's
			{at(2 * time.Hour), 10, nil},
		} {
			got, err := st.HoldsReservedSince(ctx, c.since, c.limit)
			must(t, "HoldsReservedSince", err)
			var ids []string
			for _, h := range got {
				ids = append(ids, h.ID)
			}
			mustEqual(t, fmt.Sprintf("HoldsReservedSince(%v, %d)", c.since, c.limit), ids, c.want)
		}
		back := r2
		back.State, back.LicenseID, back.ReservedAt, back.ReservedUntil = ebooks.HoldWaiting, "", nil, nil
		must(t, "UpdateHold h-2 back to waiting", st.UpdateHold(ctx, &back))
		counts, err := st.ActiveHoldCounts(ctx, []string{"t-1", "t-9"})
		must(t, "ActiveHoldCounts", err)
		mustEqual(t, "ActiveHoldCounts", counts, map[string]int{"t-1": 2})
		titles, err := st.TitlesWithWaitingHolds(ctx, "", 10)
		must(t, "TitlesWithWaitingHolds", err)
		mustEqual(t, "TitlesWithWaitingHolds", titles, []string{"t-1"})
		c := *gh
		c.State, c.EndedAt = ebooks.HoldCancelled, ptr(at(time.Hour))
		must(t, "UpdateHold cancel", st.UpdateHold(ctx, &c))
		must(t, "a new hold after cancelling", st.CreateHold(ctx, &ebooks.Hold{ID: "h-4", TitleID: "t-1", ReaderID: "r-1", State: ebooks.HoldWaiting, CreatedAt: at(4)}))
		mine, err := st.HoldsForReader(ctx, "r-1", true)
		must(t, "HoldsForReader", err)
		if len(mine) != 1 || mine[0].ID != "h-4" {
			t.Fatalf("HoldsForReader(active): %+v", mine)
		}
		byKeyH, err := st.HoldByIdempotencyKey(ctx, "r-1", "k")
		must(t, "HoldByIdempotencyKey", err)
		if byKeyH.ID != "h-1" {
			t.Fatalf("HoldByIdempotencyKey: %s", byKeyH.ID)
		}
	}},
	{"Ebooks/LoanSlotsAreUnique", func(t *testing.T, s *store.Set) {
		// The store keeps a reader's active loans in distinct slots, which
		// is what holds the loan limit under concurrent borrows.
		ctx, st := t.Context(), s.Ebooks
		loan := func(id, reader, title string, slot int, key string) *ebooks.Loan {
			return &ebooks.Loan{ID: id, TitleID: title, LicenseID: "l-" + title, ReaderID: reader, State: ebooks.LoanActive,
				StartedAt: at(0), EndsAt: at(time.Hour), Slot: slot, IdempotencyKey: key}
		}
		a := loan("loan-a", "r-1", "t-1", 0, "key-a")
		must(t, "CreateLoan in slot 0", st.CreateLoan(ctx, a))
		got, err := st.Loan(ctx, "loan-a")
		must(t, "Loan", err)
		if got.Slot != 0 {
			t.Fatalf("Slot %d, want 0", got.Slot)
		}
		wantErr(t, "another loan in a taken slot", st.CreateLoan(ctx, loan("loan-b", "r-1", "t-2", 0, "")), ebooks.ErrLoanSlotTaken)
		wantCode(t, "another loan in a taken slot", st.CreateLoan(ctx, loan("loan-b", "r-1", "t-2", 0, "")), thuvienso.CodeConflict)
		must(t, "CreateLoan in slot 1", st.CreateLoan(ctx, loan("loan-b", "r-1", "t-2", 1, "")))
		must(t, "another reader's slot 0", st.CreateLoan(ctx, loan("loan-c", "r-2", "t-1", 0, "")))
		// A reused key or a second loan of the title says more than the
		// slot, which breaks too.
		wantErr(t, "a reused key in a taken slot", st.CreateLoan(ctx, loan("loan-d", "r-1", "t-3", 0, "key-a")), ebooks.ErrIdempotencyKeyUsed)
		wantErr(t, "a second loan of the title in a taken slot", st.CreateLoan(ctx, loan("loan-d", "r-1", "t-2", 0, "")), ebooks.ErrAlreadyBorrowed)
		// An ended loan frees its slot; renewing keeps it.
		ended := *got
		ended.State, ended.EndedAt = ebooks.LoanReturned, ptr(at(time.Minute))
		must(t, "UpdateLoan (return)", st.UpdateLoan(ctx, &ended))
		must(t, "CreateLoan in the freed slot", st.CreateLoan(ctx, loan("loan-e", "r-1", "t-3", 0, "")))
		b, err := st.Loan(ctx, "loan-b")
		must(t, "Loan", err)
		b.Renewals, b.EndsAt = 1, at(2*time.Hour)
		must(t, "UpdateLoan (renew)", st.UpdateLoan(ctx, b))
		wantErr(t, "a loan in a renewed loan's slot", st.CreateLoan(ctx, loan("loan-f", "r-1", "t-4", 1, "")), ebooks.ErrLoanSlotTaken)
		active, err := st.LoansForReader(ctx, "r-1", true)
		must(t, "LoansForReader", err)
		slots := map[int]string{}
		for _, l := range active {
			slots[l.Slot] = l.ID
		}
		mustEqual(t, "active loans by slot", slots, map[int]string{0: "loan-e", 1: "loan-b"})
	}},
}

var ebookServiceTests = []test{
	{"Ebooks/LicenseModels", func(t *testing.T, s *store.Set) {
		e := newEbookEnv(t, s)
		ctx := t.Context()
		rs := e.readers("r", 4, "lib-tuson")
		// One copy / one user: N concurrent, perpetual.
		e.title("occu")
		occu := e.license("occu", ebooks.License{Model: ebooks.OneCopyOneUser, Concurrency: 2})
		e.borrow(rs[0], "occu")
		e.borrow(rs[1], "occu")
		_, err := e.svc.Borrow(ctx, rs[2], ebooks.BorrowInput{TitleID: "occu"})
		wantErr(t, "a third reader on two copies", err, ebooks.ErrNoCopyAvailable)
		e.exact("one copy / one user", occu.ID)
		// One copy / many users: unlimited until expiry.
		e.title("ocmu")
		exp := t0.Add(10 * 24 * time.Hour)
		ocmu := e.license("ocmu", ebooks.License{Model: ebooks.OneCopyManyUsers, ExpiresAt: &exp})
		for _, r := range rs {
			l := e.borrow(r, "ocmu")
			if !l.EndsAt.Equal(exp) {
				t.Fatalf("a loan on a license expiring in 10 days ends %v, want %v", l.EndsAt, exp)
			}
		}
		e.exact("one copy / many users", ocmu.ID)
		// Open access.
		e.title("oa")
		e.license("oa", ebooks.License{Model: ebooks.OpenAccess})
		for _, r := range rs {
			e.borrow(r, "oa")
		}
		// Library scope: only its readers, or its district's when configured.
		e.title("lib")
		must(t, "CreateLibrary", s.Libraries.CreateLibrary(ctx, newLibraryIn("lib-tuson", "BN-TS", "Thị xã Từ Sơn")))
		must(t, "CreateLibrary", s.Libraries.CreateLibrary(ctx, newLibraryIn("lib-dongngan", "BN-DN", "Thị xã Từ Sơn")))
		must(t, "CreateLibrary", s.Libraries.CreateLibrary(ctx, newLibraryIn("lib-quevo", "BN-QV", "Thị xã Quế Võ")))
		librarian := auth.Actor{AccountID: "lib-staff", Role: auth.RoleLibrarian, LibraryID: "lib-dongngan"}
		_, err = e.svc.AddLicense(ctx, librarian, &ebooks.License{TitleID: "lib", Model: ebooks.OneCopyOneUser, Scope: ebooks.ScopeProvince, Concurrency: 1})
		wantErr(t, "a librarian buying for the province", err, thuvienso.ErrForbidden)
		_, err = e.svc.AddLicense(ctx, librarian, &ebooks.License{TitleID: "lib", Model: ebooks.OneCopyOneUser, Scope: ebooks.ScopeLibrary, LibraryID: "lib-dongngan", Concurrency: 5})
		must(t, "AddLicense (library)", err)
		quevo := e.readers("qv", 1, "lib-quevo")[0]
		_, err = e.svc.Borrow(ctx, rs[0], ebooks.BorrowInput{TitleID: "lib"})
		wantErr(t, "a Từ Sơn reader on a Đông Ngân license", err, ebooks.ErrNotLendable)
		_, err = e.svc.AddLicense(ctx, librarian, &ebooks.License{TitleID: "lib", Model: ebooks.OneCopyOneUser, Scope: ebooks.ScopeLibrary, LibraryID: "lib-dongngan", DistrictWide: true, Concurrency: 1})
		must(t, "AddLicense (district-wide)", err)
		e.borrow(rs[0], "lib")
		_, err = e.svc.Borrow(ctx, quevo, ebooks.BorrowInput{TitleID: "lib"})
		wantErr(t, "a Quế Võ reader", err, ebooks.ErrNotLendable)
		// Invalid licenses.
		_, err = e.svc.AddLicense(ctx, e.admin, &ebooks.License{TitleID: "lib", Model: ebooks.MeteredTime, Scope: ebooks.ScopeProvince, Concurrency: 1})
		wantCodeOf(t, "a time license without a date", err, thuvienso.CodeBadUserInput)
		_, err = e.svc.AddLicense(ctx, e.admin, &ebooks.License{TitleID: "lib", Model: ebooks.MeteredCheckouts, Scope: ebooks.ScopeProvince, Concurrency: 1})
		wantCodeOf(t, "a metered license without checkouts", err, thuvienso.CodeBadUserInput)
		_, err = e.svc.Borrow(ctx, rs[3], ebooks.BorrowInput{TitleID: "occu", Days: 10})
		wantErr(t, "a 10-day loan", err, ebooks.ErrBadLoanPeriod)
	}},
	{"Ebooks/BestLicenseFirst", func(t *testing.T, s *store.Set) {
		e := newEbookEnv(t, s)
		rs := e.readers("r", 6, "lib-tuson")
		e.title("t")
		late, soon := t0.Add(60*24*time.Hour), t0.Add(30*24*time.Hour)
		metered := e.license("t", ebooks.License{ID: "a-metered", Model: ebooks.MeteredCheckouts, Concurrency: 1, CheckoutsTotal: 5})
		perpetual := e.license("t", ebooks.License{ID: "b-perpetual", Model: ebooks.OneCopyOneUser, Concurrency: 1})
		lateL := e.license("t", ebooks.License{ID: "c-late", Model: ebooks.MeteredTime, Concurrency: 1, ExpiresAt: &late})
		soonL := e.license("t", ebooks.License{ID: "d-soon", Model: ebooks.MeteredTime, Concurrency: 1, ExpiresAt: &soon})
		for i, want := range []string{soonL.ID, lateL.ID, perpetual.ID, metered.ID} {
			if got := e.borrow(rs[i], "t"); got.LicenseID != want {
				t.Fatalf("loan %d took license %s, want %s", i, got.LicenseID, want)
			}
		}
		_, err := e.svc.Borrow(t.Context(), rs[4], ebooks.BorrowInput{TitleID: "t"})
		wantErr(t, "all four taken", err, ebooks.ErrNoCopyAvailable)
	}},
	{"Ebooks/MeteredCheckoutsRunOut", func(t *testing.T, s *store.Set) {
		e := newEbookEnv(t, s)
		ctx := t.Context()
		rs := e.readers("r", 5, "lib-tuson")
		e.title("t")
		lic := e.license("t", ebooks.License{Model: ebooks.MeteredCheckouts, Concurrency: 2, CheckoutsTotal: 3})
		a := e.borrow(rs[0], "t")
		e.borrow(rs[1], "t")
		h := e.hold(rs[2], "t")
		if _, err := e.svc.Return(ctx, rs[0], a.ID); err != nil {
			t.Fatalf("Return: %v", err)
		}
		// The freed copy (and the last checkout) is reserved for the hold.
		if got := e.holdOf(h.ID); got.State != ebooks.HoldReserved {
			t.Fatalf("hold after a return: %s, want RESERVED", got.State)
		}
		l := e.exact("after the return", lic.ID)
		if l.CheckoutsLeft != 0 {
			t.Fatalf("CheckoutsLeft %d, want 0", l.CheckoutsLeft)
		}
		r, err := e.svc.Borrow(ctx, rs[2], ebooks.BorrowInput{TitleID: "t"})
		must(t, "Borrow the reserved copy", err)
		if r.Loan == nil || r.Loan.HoldID != h.ID {
			t.Fatalf("borrowing the reservation: %+v", r)
		}
		// Copies come back, but no checkout is left.
		_, err = e.svc.Return(ctx, rs[2], r.Loan.ID)
		must(t, "Return", err)
		l = e.exact("ran out", lic.ID)
		if l.Available != 1 || l.CheckoutsLeft != 0 {
			t.Fatalf("license: %+v, want 1 copy free and no checkout", l)
		}
		_, err = e.svc.Borrow(ctx, rs[3], ebooks.BorrowInput{TitleID: "t"})
		wantErr(t, "borrowing a spent license", err, ebooks.ErrNoCopyAvailable)
		h4 := e.hold(rs[4], "t")
		if e.holdOf(h4.ID).State != ebooks.HoldWaiting {
			t.Fatal("a hold on a spent license was reserved")
		}
		_, err = e.svc.RunExpiry(ctx, e.clock.Add(time.Hour))
		must(t, "RunExpiry", err)
		if e.holdOf(h4.ID).State != ebooks.HoldWaiting {
			t.Fatal("the expiry pass reserved a spent license")
		}
		e.exact("after the expiry pass", lic.ID)
	}},
	{"Ebooks/TimeLicenseExpiresMidQueue", func(t *testing.T, s *store.Set) {
		e := newEbookEnv(t, s)
		ctx := t.Context()
		rs := e.readers("r", 4, "lib-tuson")
		e.title("t")
		exp := t0.Add(5 * 24 * time.Hour)
		lic := e.license("t", ebooks.License{Model: ebooks.MeteredTime, Concurrency: 1, ExpiresAt: &exp})
		a := e.borrow(rs[0], "t")
		if !a.EndsAt.Equal(exp) {
			t.Fatalf("the loan ends %v, want the license's expiry %v", a.EndsAt, exp)
		}
		h1, h2 := e.hold(rs[1], "t"), e.hold(rs[2], "t")
		st, err := e.svc.HoldStatus(ctx, rs[2], h2.ID)
		must(t, "HoldStatus", err)
		if st.Position != 2 || st.QueueLength != 2 || st.EstimatedAvailableAt == nil {
			t.Fatalf("HoldStatus: %+v", st)
		}
		e.clock.Add(5 * 24 * time.Hour)
		rep, err := e.svc.RunExpiry(ctx, e.clock.Now())
		must(t, "RunExpiry", err)
		if rep.LoansExpired != 1 {
			t.Fatalf("RunExpiry: %+v, want one loan expired", rep)
		}
		for _, h := range []*ebooks.Hold{h1, h2} {
			if got := e.holdOf(h.ID); got.State != ebooks.HoldWaiting {
				t.Fatalf("hold %s on an expired license: %s, want WAITING", h.ID, got.State)
			}
		}
		l := e.exact("expired license", lic.ID)
		if l.InUse != 0 {
			t.Fatalf("InUse %d after expiry", l.InUse)
		}
		st, err = e.svc.HoldStatus(ctx, rs[2], h2.ID)
		must(t, "HoldStatus", err)
		if st.EstimatedAvailableAt != nil {
			t.Fatalf("an estimate with no usable license: %v", st.EstimatedAvailableAt)
		}
		// A new license serves the queue in order.
		more := e.license("t", ebooks.License{Model: ebooks.OneCopyOneUser, Concurrency: 1})
		if got := e.holdOf(h1.ID); got.State != ebooks.HoldReserved || got.LicenseID != more.ID {
			t.Fatalf("first hold after a new license: %+v", got)
		}
		if got := e.holdOf(h2.ID); got.State != ebooks.HoldWaiting {
			t.Fatalf("second hold after a new license: %s", got.State)
		}
		e.exact("new license", more.ID)
	}},
	{"Ebooks/AReservationMadeJustBeforeACrashIsStillAnnounced", func(t *testing.T, s *store.Set) {
		// The process that reserved B's copy died before recording the
		// event (a store whose "reserved" events are lost stands for it):
		// the next expiry pass, on any instance, records it, once.
		e := newEbookEnv(t, s)
		ctx := t.Context()
		rs := e.readers("r", 2, "lib-tuson")
		e.title("t")
		e.license("t", ebooks.License{Model: ebooks.OneCopyOneUser, Concurrency: 1})
		a := e.borrow(rs[0], "t")
		hb := e.hold(rs[1], "t")
		crashing := ebooks.NewService(s.Ebooks, LosingEvents{Store: s.Events, Kind: events.EbookHoldReserved}, s.Auth,
			ebooks.WithClock(e.clock.Now), ebooks.WithLibraries(s.Libraries))
		e.clock.Add(time.Hour)
		_, err := crashing.Return(ctx, rs[0], a.ID)
		must(t, "Return", err)
		if b := e.holdOf(hb.ID); b.State != ebooks.HoldReserved {
			t.Fatalf("B after the return: %+v", b)
		}
		evs, err := s.Events.EventsForReader(ctx, rs[1].AccountID, 10)
		must(t, "EventsForReader", err)
		mustEqual(t, "B's events after the crash", len(evs), 0)
		for i, want := range []int{1, 0} {
			rep, err := e.svc.RunExpiry(ctx, e.clock.Now().Add(time.Minute))
			must(t, "RunExpiry", err)
			mustEqual(t, fmt.Sprintf("events recovered by pass %d", i+1), rep.EventsRecovered, want)
		}
		evs, err = s.Events.EventsForReader(ctx, rs[1].AccountID, 10)
		must(t, "EventsForReader", err)
		if len(evs) != 1 || evs[0].Kind != events.EbookHoldReserved || evs[0].SubjectID != hb.ID {
			t.Fatalf("B's events after the pass: %+v", evs)
		}
	}},
	{"Ebooks/ReservationPassesOnAfter72Hours", func(t *testing.T, s *store.Set) {
		e := newEbookEnv(t, s)
		ctx := t.Context()
		rs := e.readers("r", 3, "lib-tuson")
		e.title("t")
		lic := e.license("t", ebooks.License{Model: ebooks.OneCopyOneUser, Concurrency: 1})
		a := e.borrow(rs[0], "t")
		hb := e.hold(rs[1], "t")
		hc := e.hold(rs[2], "t")
		_, err := e.svc.Renew(ctx, rs[0], a.ID, 0)
		wantErr(t, "renewing while others wait", err, ebooks.ErrRenewBlocked)
		e.clock.Add(time.Hour)
		_, err = e.svc.Return(ctx, rs[0], a.ID)
		must(t, "Return", err)
		b := e.holdOf(hb.ID)
		if b.State != ebooks.HoldReserved || !b.ReservedUntil.Equal(e.clock.Now().Add(72*time.Hour)) {
			t.Fatalf("B after the return: %+v", b)
		}
		evs, err := s.Events.EventsForReader(ctx, rs[1].AccountID, 10)
		must(t, "EventsForReader", err)
		if len(evs) != 1 || evs[0].Kind != events.EbookHoldReserved || evs[0].SubjectID != hb.ID {
			t.Fatalf("B's events: %+v", evs)
		}
		_, err = e.svc.Borrow(ctx, rs[2], ebooks.BorrowInput{TitleID: "t"})
		wantErr(t, "C borrowing B's reserved copy", err, ebooks.ErrNoCopyAvailable)
		// 71 hours later: not yet, but "expiring" is recorded once.
		for range 2 {
			rep, err := e.svc.RunExpiry(ctx, e.clock.Now().Add(71*time.Hour))
			must(t, "RunExpiry", err)
			if rep.ReservationsLapsed != 0 {
				t.Fatalf("lapsed early: %+v", rep)
			}
		}
		evs, _ = s.Events.EventsForReader(ctx, rs[1].AccountID, 10)
		if len(evs) != 2 || evs[0].Kind != events.EbookReservationExpiring {
			t.Fatalf("B's events after the notice: %+v", evs)
		}
		// 72 hours: B misses it (first miss: suspended), C gets it.
		e.clock.Add(72 * time.Hour)
		rep, err := e.svc.RunExpiry(ctx, e.clock.Now())
		must(t, "RunExpiry", err)
		if rep.ReservationsLapsed != 1 {
			t.Fatalf("RunExpiry: %+v", rep)
		}
		again, err := e.svc.RunExpiry(ctx, e.clock.Now())
		must(t, "RunExpiry again", err)
		if again != (ebooks.ExpiryReport{}) {
			t.Fatalf("a second run did something: %+v", again)
		}
		b = e.holdOf(hb.ID)
		if b.State != ebooks.HoldSuspended || !b.MissedOnce || b.SuspendedUntil == nil {
			t.Fatalf("B after missing: %+v", b)
		}
		c := e.holdOf(hc.ID)
		if c.State != ebooks.HoldReserved {
			t.Fatalf("C after B missed: %s", c.State)
		}
		e.exact("passed on", lic.ID)
		// C borrows; B's suspension ends; C returns; B is reserved again and
		// misses again: the hold ends.
		lc := e.borrow(rs[2], "t")
		e.clock.Add(7 * 24 * time.Hour)
		rep, err = e.svc.RunExpiry(ctx, e.clock.Now())
		must(t, "RunExpiry", err)
		if rep.HoldsResumed != 1 {
			t.Fatalf("RunExpiry: %+v, want B resumed", rep)
		}
		_, err = e.svc.Return(ctx, rs[2], lc.ID)
		must(t, "Return", err)
		if e.holdOf(hb.ID).State != ebooks.HoldReserved {
			t.Fatal("B not reserved again")
		}
		e.clock.Add(72 * time.Hour)
		_, err = e.svc.RunExpiry(ctx, e.clock.Now())
		must(t, "RunExpiry", err)
		if got := e.holdOf(hb.ID); got.State != ebooks.HoldExpired {
			t.Fatalf("B after a second miss: %s, want EXPIRED", got.State)
		}
		l := e.exact("all gone", lic.ID)
		if l.Available != 1 {
			t.Fatalf("Available %d, want 1", l.Available)
		}
	}},
	{"Ebooks/HoldsSuspendCancelAutoBorrowLimits", func(t *testing.T, s *store.Set) {
		e := newEbookEnv(t, s)
		ctx := t.Context()
		rs := e.readers("r", 4, "lib-tuson")
		e.title("t")
		lic := e.license("t", ebooks.License{Model: ebooks.OneCopyOneUser, Concurrency: 1})
		a := e.borrow(rs[0], "t")
		hb := e.hold(rs[1], "t")
		hc, err := e.svc.PlaceHold(ctx, rs[2], ebooks.PlaceHoldInput{TitleID: "t", AutoBorrow: true, LoanDays: 7})
		must(t, "PlaceHold (auto)", err)
		_, err = e.svc.SuspendHold(ctx, rs[1], hb.ID, nil)
		must(t, "SuspendHold", err)
		_, err = e.svc.Return(ctx, rs[0], a.ID)
		must(t, "Return", err)
		// B is suspended: C is served, and borrows automatically.
		c := e.holdOf(hc.ID)
		if c.State != ebooks.HoldFulfilled || c.LoanID == "" {
			t.Fatalf("C with auto-borrow: %+v", c)
		}
		lc, err := s.Ebooks.Loan(ctx, c.LoanID)
		must(t, "Loan", err)
		if !lc.EndsAt.Equal(lc.StartedAt.Add(7 * 24 * time.Hour)) {
			t.Fatalf("auto-borrowed loan is not 7 days: %+v", lc)
		}
		st, err := e.svc.MyHolds(ctx, rs[1], false)
		must(t, "MyHolds", err)
		if len(st) != 1 || st[0].Position != 1 {
			t.Fatalf("B's holds: %+v", st[0])
		}
		_, err = e.svc.ResumeHold(ctx, rs[1], hb.ID)
		must(t, "ResumeHold", err)
		_, err = e.svc.CancelHold(ctx, rs[1], hb.ID)
		must(t, "CancelHold", err)
		_, err = e.svc.CancelHold(ctx, rs[1], hb.ID)
		must(t, "CancelHold twice", err)
		_, err = e.svc.CancelHold(ctx, rs[3], hb.ID)
		wantErr(t, "cancelling another reader's hold", err, thuvienso.ErrNotFound)
		e.exact("after auto-borrow", lic.ID)

		// Limits (configurable): 2 loans, 1 hold here.
		cfg := ebooks.DefaultConfig()
		cfg.MaxLoans, cfg.MaxHolds = 2, 1
		svc := ebooks.NewService(s.Ebooks, s.Events, s.Auth, ebooks.WithClock(e.clock.Now), ebooks.WithConfig(cfg))
		for _, id := range []string{"x1", "x2", "x3", "y1", "y2"} {
			e.title(id)
			e.license(id, ebooks.License{Model: ebooks.OneCopyOneUser, Concurrency: 1})
		}
		r := rs[3]
		for _, id := range []string{"x1", "x2"} {
			_, err := svc.Borrow(ctx, r, ebooks.BorrowInput{TitleID: id})
			must(t, "Borrow "+id, err)
		}
		_, err = svc.Borrow(ctx, r, ebooks.BorrowInput{TitleID: "x3"})
		wantErr(t, "a third loan", err, ebooks.ErrLoanLimit)
		wantCode(t, "a third loan", err, thuvienso.CodeLimitReached)
		_, err = svc.Borrow(ctx, rs[0], ebooks.BorrowInput{TitleID: "y1"})
		must(t, "Borrow y1", err)
		_, err = svc.Borrow(ctx, rs[0], ebooks.BorrowInput{TitleID: "y2"})
		must(t, "Borrow y2", err)
		_, err = svc.PlaceHold(ctx, r, ebooks.PlaceHoldInput{TitleID: "y1"})
		must(t, "PlaceHold y1", err)
		_, err = svc.PlaceHold(ctx, r, ebooks.PlaceHoldInput{TitleID: "y2"})
		wantErr(t, "a second hold", err, ebooks.ErrHoldLimit)
	}},
	{"Ebooks/IdempotentRetries", func(t *testing.T, s *store.Set) {
		const n = 20
		e := newEbookEnv(t, s)
		ctx := t.Context()
		rs := e.readers("r", 2, "lib-tuson")
		e.title("t")
		lic := e.license("t", ebooks.License{Model: ebooks.OneCopyOneUser, Concurrency: 3})
		res := make([]*ebooks.BorrowResult, n)
		errs := race(n, func(i int) error {
			var err error
			res[i], err = e.svc.Borrow(ctx, rs[0], ebooks.BorrowInput{TitleID: "t", IdempotencyKey: "phone-retry-1"})
			return err
		})
		for i, err := range errs {
			must(t, fmt.Sprintf("retry %d", i), err)
			if res[i].Loan == nil || res[i].Loan.ID != res[0].Loan.ID {
				t.Fatalf("retry %d got %+v, want loan %s", i, res[i], res[0].Loan.ID)
			}
		}
		l := e.exact("after retries", lic.ID)
		if l.InUse != 1 {
			t.Fatalf("InUse %d after %d retries of one borrow, want 1", l.InUse, n)
		}
		_, err := e.svc.Borrow(ctx, rs[0], ebooks.BorrowInput{TitleID: "other", IdempotencyKey: "phone-retry-1"})
		wantErr(t, "the key for another title", err, ebooks.ErrIdempotencyKeyUsed)
		// Hold retries.
		e.title("u")
		e.license("u", ebooks.License{Model: ebooks.OneCopyOneUser, Concurrency: 1})
		e.borrow(rs[0], "u")
		hs := make([]*ebooks.BorrowResult, n)
		errs = race(n, func(i int) error {
			var err error
			hs[i], err = e.svc.Borrow(ctx, rs[1], ebooks.BorrowInput{TitleID: "u", IdempotencyKey: "k2", HoldIfUnavailable: true})
			return err
		})
		for i, err := range errs {
			must(t, fmt.Sprintf("hold retry %d", i), err)
			if hs[i].Hold == nil || hs[i].Hold.ID != hs[0].Hold.ID {
				t.Fatalf("hold retry %d got %+v", i, hs[i])
			}
		}
	}},
}

// newLibraryIn returns a district library.
func newLibraryIn(id, code, district string) *library.Library {
	l := newLibrary(id, code)
	l.District = district
	return l
}

// rushSize is how many readers rush ten copies in
// Concurrency/Ebooks1000BorrowsOn10Copies: 1000, or 100 on a server that
// runs one command at a time (Options.SerialisedCommands), where a thousand
// borrows would only wait in line for its one connection, past the
// driver's timeout, and prove nothing more.
func rushSize(o Options) int {
	if o.SerialisedCommands {
		return 100
	}
	return 1000
}

// ebookConcurrencyTests are sized by o.
func ebookConcurrencyTests(o Options) []test {
	return []test{
		{"Concurrency/Ebooks1000BorrowsOn10Copies", func(t *testing.T, s *store.Set) {
			n := rushSize(o)
			const copies = 10
			e := newEbookEnv(t, s)
			ctx := t.Context()
			rs := e.readers("r", n, "lib-tuson")
			e.title("t")
			lic := e.license("t", ebooks.License{Model: ebooks.OneCopyOneUser, Concurrency: copies})
			res := make([]*ebooks.BorrowResult, n)
			errs := race(n, func(i int) error {
				var err error
				res[i], err = e.svc.Borrow(ctx, rs[i], ebooks.BorrowInput{TitleID: "t", HoldIfUnavailable: i%4 == 0})
				return err
			})
			loans, holds, refused := 0, 0, 0
			var loanIDs []string
			for i, err := range errs {
				switch {
				case err == nil && res[i].Loan != nil:
					loans++
					loanIDs = append(loanIDs, res[i].Loan.ID)
				case err == nil && res[i].Hold != nil:
					holds++
					if i%4 != 0 {
						t.Errorf("reader %d got a hold without asking", i)
					}
				case errors.Is(err, ebooks.ErrNoCopyAvailable):
					refused++
					if i%4 == 0 {
						t.Errorf("reader %d asked for a hold but was refused", i)
					}
				default:
					t.Errorf("reader %d: %v", i, err)
				}
			}
			if loans != copies || loans+holds+refused != n {
				t.Fatalf("%d concurrent borrows of %d copies: %d loans, %d holds, %d refused", n, copies, loans, holds, refused)
			}
			l := e.exact("after the rush", lic.ID)
			if l.Available != 0 || l.InUse != copies {
				t.Fatalf("license after the rush: available %d, in use %d", l.Available, l.InUse)
			}
			var seatIDs []string
			for id := range l.Seats {
				seatIDs = append(seatIDs, id)
			}
			sort.Strings(seatIDs)
			sort.Strings(loanIDs)
			mustEqual(t, "seats are the loans", seatIDs, loanIDs)
			queue, err := s.Ebooks.ActiveHoldsForTitle(ctx, "t")
			must(t, "ActiveHoldsForTitle", err)
			if len(queue) != holds {
				t.Fatalf("queue of %d, want %d", len(queue), holds)
			}
			counts, err := s.Ebooks.ActiveHoldCounts(ctx, []string{"t"})
			must(t, "ActiveHoldCounts", err)
			if counts["t"] != holds {
				t.Fatalf("ActiveHoldCounts %d, want %d", counts["t"], holds)
			}
		}},
		{"Concurrency/EbookExpiryRacesReturn", func(t *testing.T, s *store.Set) {
			const readers, runners = 12, 4
			e := newEbookEnv(t, s)
			ctx := t.Context()
			rs := e.readers("r", readers, "lib-tuson")
			e.title("t")
			lic := e.license("t", ebooks.License{Model: ebooks.MeteredCheckouts, Concurrency: readers, CheckoutsTotal: 100})
			loans := make([]*ebooks.Loan, readers)
			for i, r := range rs {
				loans[i] = e.borrow(r, "t")
			}
			e.clock.Add(14 * 24 * time.Hour) // every loan is due
			returned := make([]bool, readers)
			expired := make([]int, runners)
			errs := race(readers+runners, func(i int) error {
				if i < readers {
					_, err := e.svc.Return(ctx, rs[i], loans[i].ID)
					if err == nil {
						returned[i] = true
					} else if errors.Is(err, ebooks.ErrLoanNotActive) {
						err = nil
					}
					return err
				}
				rep, err := e.svc.RunExpiry(ctx, e.clock.Now())
				expired[i-readers] = rep.LoansExpired
				return err
			})
			for i, err := range errs {
				must(t, fmt.Sprintf("goroutine %d", i), err)
			}
			nReturned, nExpired := 0, 0
			for _, r := range returned {
				if r {
					nReturned++
				}
			}
			for _, x := range expired {
				nExpired += x
			}
			if nReturned+nExpired != readers {
				t.Fatalf("%d returned + %d expired, want exactly %d endings", nReturned, nExpired, readers)
			}
			l := e.exact("after the race", lic.ID)
			if l.InUse != 0 || l.Available != readers || l.CheckoutsLeft != 100-readers {
				t.Fatalf("license after the race: %+v", l)
			}
			for _, x := range loans {
				got, err := s.Ebooks.Loan(ctx, x.ID)
				must(t, "Loan", err)
				if got.State == ebooks.LoanActive {
					t.Fatalf("loan %s still active", x.ID)
				}
			}
			// One "ended" event per loan.
			evs, err := s.Events.UnhandledEvents(ctx, 1000)
			must(t, "UnhandledEvents", err)
			ended := map[string]int{}
			for _, ev := range evs {
				if ev.Kind == events.EbookLoanEnded {
					ended[ev.SubjectID]++
				}
			}
			if len(ended) != readers {
				t.Fatalf("%d loans have an ended event, want %d", len(ended), readers)
			}
		}},
		{"Concurrency/EbookLoanLimitPerReader", func(t *testing.T, s *store.Set) {
			const titles = 10
			e := newEbookEnv(t, s)
			ctx := t.Context()
			r := e.readers("r", 1, "lib-tuson")[0]
			for i := range titles {
				e.title(idf("t", i))
				e.license(idf("t", i), ebooks.License{Model: ebooks.OneCopyOneUser, Concurrency: 1})
			}
			errs := race(titles, func(i int) error {
				_, err := e.svc.Borrow(ctx, r, ebooks.BorrowInput{TitleID: idf("t", i)})
				return err
			})
			ok := successes(t, "borrow", errs, ebooks.ErrLoanLimit)
			active, err := s.Ebooks.LoansForReader(ctx, r.AccountID, true)
			must(t, "LoansForReader", err)
			max := ebooks.DefaultConfig().MaxLoans
			if len(active) > max || len(active) != ok || ok == 0 {
				t.Fatalf("%d active loans (%d successes), want at most %d", len(active), ok, max)
			}
			for i := range titles {
				ls, err := s.Ebooks.LicensesForTitles(ctx, []string{idf("t", i)})
				must(t, "LicensesForTitles", err)
				e.exact("title "+idf("t", i), ls[0].ID)
			}
		}},
		{"Concurrency/EbookCopiesReturnedAtOnceAreReservedOncePerHold", func(t *testing.T, s *store.Set) {
			// Every return serves the queue, and so does every instance's
			// expiry pass: racing, they reserve the same copy for the same
			// first hold. The loser must not give back the copy the winner
			// reserved (a RESERVED hold holding nothing, a copy lent twice).
			const copies, waiting, runners = 4, 6, 3
			rounds := 5
			if o.SerialisedCommands {
				rounds = 2 // FerretDB serialises every command: each round takes seconds
			}
			e := newEbookEnv(t, s)
			ctx := t.Context()
			for round := range rounds {
				title := idf("t", round)
				rs := e.readers(title+"-r", copies+waiting, "lib-tuson")
				e.title(title)
				lic := e.license(title, ebooks.License{Model: ebooks.MeteredCheckouts, Concurrency: copies, CheckoutsTotal: 100})
				loans := make([]*ebooks.Loan, copies)
				for i := range copies {
					loans[i] = e.borrow(rs[i], title)
				}
				for _, r := range rs[copies:] {
					e.hold(r, title)
				}
				errs := race(copies+runners, func(i int) error {
					if i < copies {
						_, err := e.svc.Return(ctx, rs[i], loans[i].ID)
						return err
					}
					_, err := e.svc.RunExpiry(ctx, e.clock.Now())
					return err
				})
				for i, err := range errs {
					must(t, fmt.Sprintf("round %d, goroutine %d", round, i), err)
				}
				l := e.exact(fmt.Sprintf("round %d, after the returns", round), lic.ID)
				queue, err := s.Ebooks.ActiveHoldsForTitle(ctx, title)
				must(t, "ActiveHoldsForTitle", err)
				reserved := 0
				for _, h := range queue {
					if h.State == ebooks.HoldReserved {
						reserved++
					}
				}
				if reserved != copies || l.InUse != copies || l.CheckoutsLeft != 100-copies-reserved {
					t.Fatalf("round %d: %d holds reserved, %d copies in use, %d checkouts left; want %d, %d, %d",
						round, reserved, l.InUse, l.CheckoutsLeft, copies, copies, 100-copies-copies)
				}
			}
		}},
		{"Concurrency/EbookBorrowsThatMakeNoLoanUseNoCheckout", func(t *testing.T, s *store.Set) {
			// A metered license counts checkouts: only a loan uses one. A
			// borrow that takes a copy and then cannot record its loan (the
			// reader's twin request won, the loan limit was reached
			// meanwhile) gives the checkout back with the copy; so does the
			// expiry pass reclaiming a copy that a crash left taken by a
			// loan never recorded.
			const tries = 8
			e := newEbookEnv(t, s)
			ctx := t.Context()
			r := e.readers("r", 1, "lib-tuson")[0]
			e.title("t")
			lic := e.license("t", ebooks.License{Model: ebooks.MeteredCheckouts, Concurrency: tries, CheckoutsTotal: 100})
			errs := race(tries, func(int) error {
				_, err := e.svc.Borrow(ctx, r, ebooks.BorrowInput{TitleID: "t"})
				return err
			})
			ok := successes(t, "borrow", errs, ebooks.ErrAlreadyBorrowed)
			if l := e.exact("after the twin borrows", lic.ID); ok != 1 || l.CheckoutsLeft != 99 {
				t.Fatalf("%d of %d twin borrows lent, %d checkouts left; want 1 and 99", ok, tries, l.CheckoutsLeft)
			}
			// A crash between "take the copy" and "record the loan".
			_, err := s.Ebooks.AcquireSeat(ctx, lic.ID, ebooks.Seat{HolderID: "loan-never-recorded", Kind: ebooks.SeatLoan,
				AcquiredAt: e.clock.Now()}, e.clock.Now())
			must(t, "AcquireSeat", err)
			e.clock.Add(ebooks.DefaultConfig().SeatGrace + time.Minute)
			rep, err := e.svc.RunExpiry(ctx, e.clock.Now())
			must(t, "RunExpiry", err)
			if l := e.exact("after the expiry pass", lic.ID); rep.SeatsReclaimed != 1 || l.CheckoutsLeft != 99 {
				t.Fatalf("the expiry pass reclaimed %d copies, %d checkouts left; want 1 and 99", rep.SeatsReclaimed, l.CheckoutsLeft)
			}
		}},
	}
}

// successes counts the calls of a race that succeeded, failing the test on
// an error other than expected (the refusal the race is meant to provoke).
func successes(t *testing.T, what string, errs []error, expected error) int {
	t.Helper()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, expected):
		default:
			t.Fatalf("%s %d: %v", what, i, err)
		}
	}
	return ok
}
