package circulation_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/events"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/sqlite"
	"github.com/bacninh/thuvienso/store"
)

// clock is the injectable clock: time moves only when a test moves it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Libraries of the tests: Từ Sơn (district library) and Đông Ngàn
// (commune) in one district, Quế Võ in another, and a private library.
const (
	tuSon    = "tuson"
	dongNgan = "dongngan"
	queVo    = "quevo"
	private  = "private"
)

// env is the circulation service on a real SQLite store.
type env struct {
	t     testing.TB
	ctx   context.Context
	set   *store.Set
	svc   *circulation.Service
	clock *clock
	staff map[string]auth.Actor
}

// ict is the province's zone as the tests write times.
var ict = thuvienso.Zone

// newEnv opens a fresh database with the libraries, at now.
func newEnv(t testing.TB, now time.Time, opts ...circulation.Option) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "thuvienso.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	set := db.Stores()
	t.Cleanup(func() { _ = set.Close(context.Background()) })
	e := &env{t: t, ctx: ctx, set: set, clock: &clock{now: now}, staff: map[string]auth.Actor{}}
	for _, l := range []*library.Library{
		{ID: tuSon, Code: "BN-TS", Name: "Thư viện thị xã Từ Sơn", Type: library.TypeDistrict, District: "Từ Sơn", PickupPoint: true},
		{ID: dongNgan, Code: "BN-DN", Name: "Thư viện phường Đông Ngàn", Type: library.TypeCommune, District: "Từ Sơn", PickupPoint: true},
		{ID: queVo, Code: "BN-QV", Name: "Thư viện thị xã Quế Võ", Type: library.TypeDistrict, District: "Quế Võ", PickupPoint: true},
		{ID: private, Code: "BN-TN", Name: "Tủ sách tư nhân Tâm An", Type: library.TypePrivate, District: "Quế Võ", PickupPoint: true},
	} {
		if err := set.Libraries.CreateLibrary(ctx, l); err != nil {
			t.Fatalf("CreateLibrary: %v", err)
		}
		e.staff[l.ID] = auth.Actor{AccountID: "staff-" + l.ID, Role: auth.RoleLibrarian, LibraryID: l.ID}
	}
	opts = append([]circulation.Option{circulation.WithClock(e.clock.Now), circulation.WithCards(set.Cards)}, opts...)
	e.svc = circulation.NewService(set.Circulation, set.Events, set.Catalog, set.Auth, set.Libraries, opts...)
	return e
}

func (e *env) must(what string, err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// work adds a work titled title with copies (barcode → owning library)
// and returns its ID. loanType applies to every copy.
func (e *env) work(title string, loanType string, copies map[string]string) string {
	byLib := map[string][]catalog.Item{}
	for bc, lib := range copies {
		byLib[lib] = append(byLib[lib], catalog.Item{Barcode: bc, LibraryID: lib, RecordSourceID: "rec-" + title,
			LoanType: loanType, Status: catalog.StatusAvailable})
	}
	workID := ""
	for lib, items := range byLib {
		r := catalog.Record{LibraryID: lib, SourceID: "rec-" + title, SourceFormat: catalog.SourceCSV, Title: title,
			Authors: []catalog.Author{{Name: "Nguyễn Du", Role: catalog.RoleAuthor, Kind: catalog.AuthorPerson}},
			Format:  catalog.FormatBook, Languages: []string{"vie"}, Year: 2020}
		r.Normalize()
		if _, err := e.set.Catalog.Apply(e.ctx, &catalog.Batch{LibraryID: lib, Records: []catalog.Record{r}, Items: items, At: e.clock.Now()}); err != nil {
			e.t.Fatalf("Apply: %v", err)
		}
		rec, err := e.set.Catalog.Record(e.ctx, lib, "rec-"+title)
		e.must("Record", err)
		if workID != "" && rec.WorkID != workID {
			e.t.Fatalf("the copies of %q fell into two works", title)
		}
		workID = rec.WorkID
	}
	return workID
}

// reader creates a reader of category c whose card number is "27"+id.
func (e *env) reader(id string, c auth.Category) auth.Actor {
	e.must("CreateAccount", e.set.Auth.CreateAccount(e.ctx, &auth.Account{ID: id, Name: "Bạn đọc " + id, CardNumber: cardOf(id),
		Role: auth.RoleReader, Category: c, HomeLibraryID: tuSon, Language: "vi", CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}))
	return auth.Actor{AccountID: id, Role: auth.RoleReader}
}

func cardOf(readerID string) string { return "27" + readerID }

func (e *env) checkOut(desk, readerID, barcode string) (*circulation.Loan, error) {
	return e.svc.CheckOut(e.ctx, e.staff[desk], circulation.CheckOutInput{LibraryID: desk, CardNumber: cardOf(readerID), Barcode: barcode})
}

func (e *env) lend(desk, readerID, barcode string) *circulation.Loan {
	e.t.Helper()
	l, err := e.checkOut(desk, readerID, barcode)
	e.must("CheckOut "+barcode, err)
	return l
}

func (e *env) checkIn(desk, barcode string) *circulation.CheckInResult {
	e.t.Helper()
	r, err := e.svc.CheckIn(e.ctx, e.staff[desk], circulation.CheckInInput{LibraryID: desk, Barcode: barcode})
	e.must("CheckIn "+barcode, err)
	return r
}

func (e *env) hold(who auth.Actor, workID, pickup string) *circulation.Hold {
	e.t.Helper()
	h, err := e.svc.PlaceHold(e.ctx, who, circulation.PlaceHoldInput{WorkID: workID, PickupLibraryID: pickup})
	e.must("PlaceHold", err)
	return h
}

func (e *env) holdOf(id string) *circulation.Hold {
	e.t.Helper()
	h, err := e.set.Circulation.Hold(e.ctx, id)
	e.must("Hold", err)
	return h
}

func (e *env) status(id string) *circulation.HoldStatus {
	e.t.Helper()
	sts, err := e.svc.HoldStatuses(e.ctx, []*circulation.Hold{e.holdOf(id)})
	e.must("HoldStatuses", err)
	return sts[0]
}

func (e *env) itemStatus(barcode string) catalog.ItemStatus {
	e.t.Helper()
	it, err := e.set.Catalog.Item(e.ctx, barcode)
	e.must("Item", err)
	return it.Status
}

// kinds returns the kinds of a reader's events, oldest first.
func (e *env) kinds(readerID string) []events.Kind {
	e.t.Helper()
	evs, err := e.set.Events.EventsForReader(e.ctx, readerID, 100)
	e.must("EventsForReader", err)
	var out []events.Kind
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].Kind)
	}
	return out
}

// wantRefusal fails unless err is target, with a message in both languages.
func wantRefusal(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got %v, want %v", what, err, target)
	}
	var te *thuvienso.Error
	if !errors.As(err, &te) || te.Message("vi") == "" || te.Message("en") == "" || te.Message("vi") == te.Message("en") {
		t.Fatalf("%s: %v has no message in both languages", what, err)
	}
}

// friday is a working Friday morning in the province.
var friday = time.Date(2025, time.March, 14, 9, 30, 0, 0, ict)

func TestRenewalIsRefusedWithItsReasonWhileSomeoneWaits(t *testing.T) {
	e := newEnv(t, friday)
	w := e.work("Truyện Kiều", "BOOK", map[string]string{"K-1": tuSon})
	a, b := e.reader("a", auth.CategoryAdult), e.reader("b", auth.CategoryAdult)
	loan := e.lend(tuSon, "a", "K-1")
	wantDue := time.Date(2025, time.March, 28, 23, 59, 59, 0, ict)
	if !loan.DueAt.Equal(wantDue) {
		t.Fatalf("due %v, want %v (14 days, end of day)", loan.DueAt.In(ict), wantDue)
	}
	// Nobody waits: renewed from the due date, once per key.
	r1, err := e.svc.RenewLoan(e.ctx, a, loan.ID, "tap-1")
	e.must("RenewLoan", err)
	again, err := e.svc.RenewLoan(e.ctx, a, loan.ID, "tap-1")
	e.must("RenewLoan retried", err)
	if r1.Renewals != 1 || again.Renewals != 1 || !r1.DueAt.Equal(wantDue.AddDate(0, 0, 14)) {
		t.Fatalf("renewed: %+v, retried: %+v", r1, again)
	}
	// Someone waits: refused, and MyLoans says why.
	hb := e.hold(b, w, tuSon)
	_, err = e.svc.RenewLoan(e.ctx, a, loan.ID, "tap-2")
	wantRefusal(t, "renewing while B waits", err, circulation.ErrRenewOnHold)
	if te := (*thuvienso.Error)(nil); errors.As(err, &te) && te.Message("vi") != "có bạn đọc khác đang chờ tài liệu này nên không thể gia hạn; vui lòng trả đúng hạn" {
		t.Fatalf("the Vietnamese reason: %q", te.Message("vi"))
	}
	mine, err := e.svc.MyLoans(e.ctx, a, false)
	e.must("MyLoans", err)
	if len(mine) != 1 || mine[0].Renewable || !errors.Is(mine[0].NotRenewable, circulation.ErrRenewOnHold) {
		t.Fatalf("MyLoans while B waits: %+v", mine[0])
	}
	// A suspended hold does not wait: renewing works again, up to the limit.
	_, err = e.svc.SuspendHold(e.ctx, b, hb.ID, nil)
	e.must("SuspendHold", err)
	_, err = e.svc.RenewLoan(e.ctx, a, loan.ID, "")
	e.must("RenewLoan with B suspended", err)
	_, err = e.svc.RenewLoan(e.ctx, a, loan.ID, "")
	wantRefusal(t, "a third renewal", err, circulation.ErrRenewLimit)
	if got := e.kinds("a"); !slices.Equal(got, []events.Kind{events.LoanRenewed, events.LoanRenewed}) {
		t.Fatalf("A's events: %v", got)
	}
	// RenewAll says per loan why not.
	res, err := e.svc.RenewAll(e.ctx, a)
	e.must("RenewAll", err)
	if len(res) != 1 || !errors.Is(res[0].Err, circulation.ErrRenewLimit) {
		t.Fatalf("RenewAll: %+v", res)
	}
}

func TestLimitsAndBlocksAreEnforcedWithReadableReasons(t *testing.T) {
	rules := circulation.DefaultRules()
	rules.LocalOnly = map[string]bool{private: true}
	tests := []struct {
		name string
		// do sets up and makes the refused request at e.
		do   func(e *env) error
		want error
	}{
		{"a child borrows a sixth item", func(e *env) error {
			e.reader("kid", auth.CategoryChild)
			for i := range 5 {
				e.work(fmt.Sprintf("Dế Mèn %d", i), "BOOK", map[string]string{fmt.Sprintf("D-%d", i): tuSon})
				e.lend(tuSon, "kid", fmt.Sprintf("D-%d", i))
			}
			e.work("Dế Mèn 5", "BOOK", map[string]string{"D-5": tuSon})
			_, err := e.checkOut(tuSon, "kid", "D-5")
			return err
		}, circulation.ErrLoanLimit},
		{"a child places a sixth hold", func(e *env) error {
			kid := e.reader("kid", auth.CategoryChild)
			for i := range 5 {
				e.hold(kid, e.work(fmt.Sprintf("Kính vạn hoa %d", i), "BOOK", map[string]string{fmt.Sprintf("H-%d", i): queVo}), tuSon)
			}
			w := e.work("Kính vạn hoa 5", "BOOK", map[string]string{"H-5": queVo})
			_, err := e.svc.PlaceHold(e.ctx, kid, circulation.PlaceHoldInput{WorkID: w, PickupLibraryID: tuSon})
			return err
		}, circulation.ErrHoldLimit},
		{"an adult may have ten loans, not eleven", func(e *env) error {
			e.reader("a", auth.CategoryAdult)
			for i := range 10 {
				e.work(fmt.Sprintf("Số đỏ %d", i), "BOOK", map[string]string{fmt.Sprintf("S-%d", i): tuSon})
				e.lend(tuSon, "a", fmt.Sprintf("S-%d", i))
			}
			e.work("Số đỏ 10", "BOOK", map[string]string{"S-10": tuSon})
			_, err := e.checkOut(tuSon, "a", "S-10")
			return err
		}, circulation.ErrLoanLimit},
		{"an expired card", func(e *env) error {
			e.reader("a", auth.CategoryAdult)
			e.must("CreateCard", e.set.Cards.CreateCard(e.ctx, &card.Card{Number: cardOf("a"), AccountID: "a", Symbology: card.Code128,
				Status: card.StatusActive, Current: true, HomeLibraryID: tuSon, IssuedAt: friday.AddDate(-1, 0, 0),
				ExpiresAt: friday.AddDate(0, 0, -1), CreatedAt: friday, UpdatedAt: friday}))
			e.work("Tắt đèn", "BOOK", map[string]string{"T-1": tuSon})
			_, err := e.checkOut(tuSon, "a", "T-1")
			return err
		}, circulation.ErrBlockedCardExpired},
		{"an item overdue more than 30 days blocks holds", func(e *env) error {
			a := e.reader("a", auth.CategoryAdult)
			e.work("Vợ nhặt", "BOOK", map[string]string{"V-1": tuSon})
			e.lend(tuSon, "a", "V-1")
			e.clock.Add(45 * 24 * time.Hour)
			w := e.work("Chí Phèo", "BOOK", map[string]string{"C-1": queVo})
			_, err := e.svc.PlaceHold(e.ctx, a, circulation.PlaceHoldInput{WorkID: w, PickupLibraryID: tuSon})
			return err
		}, circulation.ErrBlockedLongOverdue},
		{"five overdue items block borrowing", func(e *env) error {
			e.reader("a", auth.CategoryAdult)
			for i := range 5 {
				e.work(fmt.Sprintf("Lão Hạc %d", i), "BOOK", map[string]string{fmt.Sprintf("L-%d", i): tuSon})
				e.lend(tuSon, "a", fmt.Sprintf("L-%d", i))
			}
			e.clock.Add(16 * 24 * time.Hour) // two days overdue
			e.work("Lão Hạc 5", "BOOK", map[string]string{"L-5": tuSon})
			_, err := e.checkOut(tuSon, "a", "L-5")
			return err
		}, circulation.ErrBlockedTooManyOverdue},
		{"a reference copy", func(e *env) error {
			e.reader("a", auth.CategoryAdult)
			e.work("Từ điển tiếng Việt", "REFERENCE", map[string]string{"R-1": tuSon})
			_, err := e.checkOut(tuSon, "a", "R-1")
			return err
		}, circulation.ErrNotForLoan},
		{"a private library's copy lent at another desk", func(e *env) error {
			e.reader("a", auth.CategoryAdult)
			e.work("Gia phả họ Nguyễn", "BOOK", map[string]string{"P-1": private})
			_, err := e.checkOut(tuSon, "a", "P-1")
			return err
		}, circulation.ErrNotLentToNetwork},
		{"a private library's copy held for pickup elsewhere", func(e *env) error {
			a := e.reader("a", auth.CategoryAdult)
			w := e.work("Gia phả họ Trần", "BOOK", map[string]string{"P-2": private})
			_, err := e.svc.PlaceHold(e.ctx, a, circulation.PlaceHoldInput{WorkID: w, PickupLibraryID: tuSon})
			return err
		}, circulation.ErrNoHoldableCopy},
		{"another reader's copy on the hold shelf", func(e *env) error {
			a, _ := e.reader("a", auth.CategoryAdult), e.reader("b", auth.CategoryAdult)
			w := e.work("Nhật ký trong tù", "BOOK", map[string]string{"N-1": tuSon})
			e.hold(a, w, tuSon)
			e.checkIn(tuSon, "N-1")
			_, err := e.checkOut(tuSon, "b", "N-1")
			return err
		}, circulation.ErrCopyHeldForOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, friday, circulation.WithRules(rules))
			wantRefusal(t, tc.name, tc.do(e), tc.want)
		})
	}
}

func TestSuspendedHoldKeepsItsPlaceIsSkippedAndResumesByItself(t *testing.T) {
	e := newEnv(t, friday)
	w := e.work("Đất rừng phương Nam", "BOOK", map[string]string{"DR-1": tuSon})
	e.reader("x", auth.CategoryAdult)
	e.lend(tuSon, "x", "DR-1")
	var hs []*circulation.Hold
	for _, id := range []string{"a", "b", "c"} {
		hs = append(hs, e.hold(e.reader(id, auth.CategoryAdult), w, tuSon))
		e.clock.Add(time.Minute)
	}
	until := e.clock.Now().Add(3 * 24 * time.Hour)
	_, err := e.svc.SuspendHold(e.ctx, auth.Actor{AccountID: "a"}, hs[0].ID, &until)
	e.must("SuspendHold", err)
	for i, want := range []int{1, 2, 3} {
		if st := e.status(hs[i].ID); st.Position != want || st.QueueLength != 3 {
			t.Fatalf("hold %d: position %d of %d, want %d of 3", i, st.Position, st.QueueLength, want)
		}
	}
	// The copy comes back: A is passed over, B gets it.
	res := e.checkIn(tuSon, "DR-1")
	if res.Action != circulation.ActionHoldShelf || res.Hold.ID != hs[1].ID {
		t.Fatalf("check-in served %+v, want B's hold", res.Hold)
	}
	if st := e.status(hs[0].ID); st.State != circulation.HoldSuspended || st.Position != 1 {
		t.Fatalf("A after B was served: %s at %d", st.State, st.Position)
	}
	if st := e.status(hs[2].ID); st.Position != 2 {
		t.Fatalf("C after B was served: position %d, want 2", st.Position)
	}
	// Three days later A waits again, first in the queue.
	e.clock.Add(3 * 24 * time.Hour)
	rep, err := e.svc.RunExpiry(e.ctx, e.clock.Now())
	e.must("RunExpiry", err)
	if rep.HoldsResumed != 1 {
		t.Fatalf("RunExpiry: %+v, want A resumed", rep)
	}
	if st := e.status(hs[0].ID); st.State != circulation.HoldWaiting || st.Position != 1 || st.SuspendedUntil != nil {
		t.Fatalf("A after resuming: %+v", st.Hold)
	}
	// B borrows and returns it: now A gets it.
	e.lend(tuSon, "b", "DR-1")
	if got := e.holdOf(hs[1].ID); got.State != circulation.HoldFulfilled || got.LoanID == "" {
		t.Fatalf("B's hold after borrowing: %+v", got)
	}
	if res := e.checkIn(tuSon, "DR-1"); res.Hold == nil || res.Hold.ID != hs[0].ID {
		t.Fatalf("the second return served %+v, want A", res.Hold)
	}
}

func TestDueDatesAndPickupDeadlinesMoveToTheNextOpenDay(t *testing.T) {
	mondayToFriday := []library.OpeningHours{}
	for d := time.Monday; d <= time.Friday; d++ {
		mondayToFriday = append(mondayToFriday, library.OpeningHours{Weekday: d, Opens: "07:30", Closes: "17:00"})
	}
	tests := []struct {
		name     string
		checkout time.Time
		hours    []library.OpeningHours
		closed   []string
		want     string
	}{
		{"a due date on Tết moves past the five Tết days", time.Date(2026, time.February, 3, 10, 0, 0, 0, ict), nil, nil, "2026-02-21"},
		{"and past a closed day the library adds", time.Date(2026, time.February, 3, 10, 0, 0, 0, ict), nil, []string{"2026-02-21"}, "2026-02-22"},
		{"Tết 2025 (29 January)", time.Date(2025, time.January, 15, 10, 0, 0, 0, ict), nil, nil, "2025-02-02"},
		{"an open day stays", time.Date(2026, time.February, 1, 10, 0, 0, 0, ict), nil, nil, "2026-02-15"},
		{"a Saturday moves to Monday where the library opens on weekdays", friday.AddDate(0, 0, 1), mondayToFriday, nil, "2025-03-31"},
		{"30 April and 1 May", time.Date(2025, time.April, 16, 10, 0, 0, 0, ict), nil, nil, "2025-05-02"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.checkout)
			lib, err := e.set.Libraries.Library(e.ctx, tuSon)
			e.must("Library", err)
			lib.Hours = tc.hours
			e.must("UpdateLibrary", e.set.Libraries.UpdateLibrary(e.ctx, lib))
			for _, d := range tc.closed {
				_, err := e.svc.AddClosedDay(e.ctx, e.staff[tuSon], circulation.ClosedDay{LibraryID: tuSon, Date: d, Reason: "Kiểm kê kho"})
				e.must("AddClosedDay", err)
			}
			e.work("Bỉ vỏ", "BOOK", map[string]string{"B-1": tuSon})
			e.reader("a", auth.CategoryAdult)
			l := e.lend(tuSon, "a", "B-1")
			if got := l.DueAt.In(ict); got.Format(time.DateOnly) != tc.want || got.Format("15:04:05") != "23:59:59" {
				t.Fatalf("due %v, want the end of %s", got, tc.want)
			}
		})
	}
}

func TestTransitFromAnotherDistrictToReadyToLoanFulfilsTheHold(t *testing.T) {
	e := newEnv(t, friday)
	w := e.work("Nỗi buồn chiến tranh", "BOOK", map[string]string{"NB-1": queVo})
	e.reader("x", auth.CategoryAdult)
	r := e.reader("r", auth.CategoryAdult)
	e.lend(queVo, "x", "NB-1") // every copy is out
	h := e.hold(r, w, tuSon)
	if st := e.status(h.ID); st.Position != 1 || st.Estimate == nil || !st.Estimate.Latest.After(st.Estimate.Earliest) {
		t.Fatalf("the hold's place and wait: %+v, %+v", st, st.Estimate)
	}

	// Returned in Quế Võ: off to Từ Sơn.
	e.clock.Add(3 * 24 * time.Hour)
	res := e.checkIn(queVo, "NB-1")
	if res.Action != circulation.ActionTransitToPickup || res.Destination != tuSon || res.Loan == nil || res.Hold.ID != h.ID {
		t.Fatalf("check-in in Quế Võ: %+v", res)
	}
	if got := e.holdOf(h.ID); got.State != circulation.HoldInTransit || got.Barcode != "NB-1" || e.itemStatus("NB-1") != catalog.StatusInTransit {
		t.Fatalf("in transit: %+v, copy %s", got, e.itemStatus("NB-1"))
	}
	incoming, err := e.svc.IncomingTransits(e.ctx, e.staff[tuSon], tuSon)
	e.must("IncomingTransits", err)
	if len(incoming) != 1 || incoming[0].ID != h.ID {
		t.Fatalf("incoming at Từ Sơn: %+v", incoming)
	}
	_, err = e.checkOut(queVo, "r", "NB-1")
	wantRefusal(t, "lending a copy in transit", err, circulation.ErrCopyInTransit)

	// Received in Từ Sơn the next day: READY until the end of the 7th day.
	e.clock.Add(24 * time.Hour)
	res, err = e.svc.ReceiveTransit(e.ctx, e.staff[tuSon], circulation.CheckInInput{LibraryID: tuSon, Barcode: "NB-1"})
	e.must("ReceiveTransit", err)
	ready := e.holdOf(h.ID)
	wantDeadline := time.Date(2025, time.March, 25, 23, 59, 59, 0, ict)
	if res.Action != circulation.ActionHoldShelf || ready.State != circulation.HoldReady || !ready.PickupDeadline.Equal(wantDeadline) {
		t.Fatalf("received: %+v, hold %+v (deadline %v, want %v)", res, ready, ready.PickupDeadline, wantDeadline)
	}
	shelf, err := e.svc.HoldShelf(e.ctx, e.staff[tuSon], tuSon)
	e.must("HoldShelf", err)
	if len(shelf) != 1 || shelf[0].ID != h.ID || e.itemStatus("NB-1") != catalog.StatusOnHoldShelf {
		t.Fatalf("hold shelf: %+v", shelf)
	}
	if _, err := e.svc.HoldShelf(e.ctx, e.staff[queVo], tuSon); !errors.Is(err, thuvienso.ErrForbidden) {
		t.Fatalf("Quế Võ's librarian read Từ Sơn's shelf: %v", err)
	}

	// Collected: the hold is fulfilled by the loan.
	loan := e.lend(tuSon, "r", "NB-1")
	done := e.holdOf(h.ID)
	if done.State != circulation.HoldFulfilled || done.LoanID != loan.ID || loan.HoldID != h.ID || e.itemStatus("NB-1") != catalog.StatusOnLoan {
		t.Fatalf("after the check-out: hold %+v, loan %+v", done, loan)
	}
	if got := e.kinds("r"); !slices.Equal(got, []events.Kind{events.HoldInTransit, events.HoldReady}) {
		t.Fatalf("the reader's events: %v", got)
	}
	evs, err := e.set.Events.EventsForReader(e.ctx, "r", 10)
	e.must("EventsForReader", err)
	if ev := evs[0]; ev.SubjectID != h.ID || ev.LibraryID != tuSon || ev.Data["deadline"] != wantDeadline.UTC().Format(time.RFC3339) {
		t.Fatalf("the hold-ready event: %+v", ev)
	}

	// Returned in Từ Sơn with nobody waiting: home to Quế Võ, then shelved.
	if res := e.checkIn(tuSon, "NB-1"); res.Action != circulation.ActionTransitHome || res.Destination != queVo {
		t.Fatalf("returned away from home: %+v", res)
	}
	if res := e.checkIn(queVo, "NB-1"); res.Action != circulation.ActionShelve || res.Item.Status != catalog.StatusAvailable {
		t.Fatalf("back home: %+v", res)
	}
}

func TestTargetingPrefersThisLibraryThenTheDistrictThenTheProvince(t *testing.T) {
	e := newEnv(t, friday)
	w := e.work("Mắt biếc", "BOOK", map[string]string{"M-1": tuSon, "M-2": tuSon, "M-3": tuSon})
	for i, pickup := range []string{queVo, dongNgan, tuSon} {
		e.hold(e.reader(fmt.Sprintf("r%d", i), auth.CategoryAdult), w, pickup)
		e.clock.Add(time.Minute)
	}
	var got []string
	for _, bc := range []string{"M-1", "M-2", "M-3"} {
		res := e.checkIn(tuSon, bc)
		got = append(got, res.Hold.PickupLibraryID+":"+string(res.Hold.State))
	}
	want := []string{tuSon + ":READY", dongNgan + ":IN_TRANSIT", queVo + ":IN_TRANSIT"}
	if !slices.Equal(got, want) {
		t.Fatalf("served %v, want %v", got, want)
	}
}

func TestAnUncollectedHoldExpiresAndItsCopyGoesToTheNextHold(t *testing.T) {
	e := newEnv(t, friday)
	w := e.work("Những ngôi sao xa xôi", "BOOK", map[string]string{"S-1": tuSon})
	ha := e.hold(e.reader("a", auth.CategoryAdult), w, tuSon)
	e.clock.Add(time.Minute)
	hb := e.hold(e.reader("b", auth.CategoryAdult), w, tuSon)
	e.checkIn(tuSon, "S-1") // pulled from the shelf for A
	deadline := *e.holdOf(ha.ID).PickupDeadline
	// Half a day before the deadline: "expiring", once.
	for range 2 {
		rep, err := e.svc.RunExpiry(e.ctx, deadline.Add(-12*time.Hour))
		e.must("RunExpiry", err)
		if rep.HoldsExpired != 0 {
			t.Fatalf("expired early: %+v", rep)
		}
	}
	e.clock.now = deadline.Add(time.Second)
	rep, err := e.svc.RunExpiry(e.ctx, e.clock.Now())
	e.must("RunExpiry", err)
	again, err := e.svc.RunExpiry(e.ctx, e.clock.Now())
	e.must("RunExpiry again", err)
	if rep.HoldsExpired != 1 || again.HoldsExpired != 0 {
		t.Fatalf("RunExpiry: %+v then %+v", rep, again)
	}
	if a, b := e.holdOf(ha.ID), e.holdOf(hb.ID); a.State != circulation.HoldExpired || b.State != circulation.HoldReady || b.Barcode != "S-1" {
		t.Fatalf("after the deadline: A %s, B %s with %q", a.State, b.State, b.Barcode)
	}
	if got := e.kinds("a"); !slices.Equal(got, []events.Kind{events.HoldReady, events.HoldExpiring, events.HoldExpired}) {
		t.Fatalf("A's events: %v", got)
	}
	// B does not come either: back to the shelf.
	e.clock.now = e.holdOf(hb.ID).PickupDeadline.Add(time.Second)
	_, err = e.svc.RunExpiry(e.ctx, e.clock.Now())
	e.must("RunExpiry", err)
	if e.itemStatus("S-1") != catalog.StatusAvailable {
		t.Fatalf("the copy after both holds lapsed: %s", e.itemStatus("S-1"))
	}
	c, err := e.set.Circulation.CopyClaim(e.ctx, "S-1")
	e.must("CopyClaim", err)
	if c.Holder != "" {
		t.Fatalf("the shelved copy is still claimed by %q", c.Holder)
	}
}

func TestCancellingAReadyHoldPassesTheCopyOn(t *testing.T) {
	e := newEnv(t, friday)
	w := e.work("Tuổi thơ dữ dội", "BOOK", map[string]string{"T-1": tuSon})
	a := e.reader("a", auth.CategoryAdult)
	ha := e.hold(a, w, tuSon)
	hb := e.hold(e.reader("b", auth.CategoryAdult), w, dongNgan)
	e.checkIn(tuSon, "T-1")
	_, err := e.svc.ChangePickupLibrary(e.ctx, a, ha.ID, dongNgan)
	wantRefusal(t, "changing the pickup of a ready hold", err, circulation.ErrPickupFixed)
	_, err = e.svc.CancelHold(e.ctx, a, ha.ID)
	e.must("CancelHold", err)
	if b := e.holdOf(hb.ID); b.State != circulation.HoldInTransit || b.Barcode != "T-1" || e.itemStatus("T-1") != catalog.StatusInTransit {
		t.Fatalf("B after A cancelled: %+v", b)
	}
	if _, err := e.svc.CancelHold(e.ctx, a, ha.ID); err != nil {
		t.Fatalf("cancelling twice: %v", err)
	}
	if _, err := e.svc.CancelHold(e.ctx, auth.Actor{AccountID: "b"}, ha.ID); !errors.Is(err, thuvienso.ErrNotFound) {
		t.Fatalf("B cancelled A's hold: %v", err)
	}
}

func TestAHoldPlacedTwiceWithOneKeyIsOneHold(t *testing.T) {
	e := newEnv(t, friday)
	w := e.work("Cánh đồng bất tận", "BOOK", map[string]string{"CD-1": queVo})
	a := e.reader("a", auth.CategoryAdult)
	in := circulation.PlaceHoldInput{WorkID: w, PickupLibraryID: tuSon, IdempotencyKey: "retry-1"}
	var wg sync.WaitGroup
	got := make([]*circulation.Hold, 8)
	for i := range got {
		wg.Go(func() {
			h, err := e.svc.PlaceHold(e.ctx, a, in)
			if err != nil {
				t.Errorf("retry %d: %v", i, err)
				return
			}
			got[i] = h
		})
	}
	wg.Wait()
	for _, h := range got {
		if h == nil || h.ID != got[0].ID {
			t.Fatalf("retries made different holds: %+v", got)
		}
	}
	_, err := e.svc.PlaceHold(e.ctx, a, circulation.PlaceHoldInput{WorkID: "other", PickupLibraryID: tuSon, IdempotencyKey: "retry-1"})
	wantRefusal(t, "the key for another work", err, circulation.ErrIdempotencyKeyUsed)
}

// Due-date reminders are package notifications' business (it reads the
// open loans by due date at the moments each reader chose): the expiry
// pass records no event for them, which would be a second notification
// at another moment, and the loan is still listed for the reminders.
func TestTheExpiryPassLeavesDueDateRemindersToNotifications(t *testing.T) {
	e := newEnv(t, friday)
	e.work("Bến không chồng", "BOOK", map[string]string{"BK-1": tuSon})
	e.reader("a", auth.CategoryAdult)
	l := e.lend(tuSon, "a", "BK-1")
	for _, at := range []time.Time{l.DueAt.Add(-24 * time.Hour), l.DueAt.Add(-23 * time.Hour), l.DueAt.Add(time.Hour), l.DueAt.Add(2 * time.Hour)} {
		_, err := e.svc.RunExpiry(e.ctx, at)
		e.must("RunExpiry", err)
	}
	if got := e.kinds("a"); len(got) != 0 {
		t.Fatalf("the expiry pass recorded %v for a loan, want no event", got)
	}
	due, err := e.set.Circulation.ActiveLoansDue(e.ctx, time.Time{}, "", l.DueAt, 10)
	e.must("ActiveLoansDue", err)
	if len(due) != 1 || due[0].ID != l.ID || !due[0].DueAt.Equal(l.DueAt) {
		t.Fatalf("loans due by %v: %+v, want the loan", l.DueAt, due)
	}
	e.clock.now = l.DueAt.Add(2 * time.Hour)
	mine, err := e.svc.MyLoans(e.ctx, auth.Actor{AccountID: "a"}, false)
	e.must("MyLoans", err)
	if !mine[0].Overdue || !mine[0].Renewable {
		t.Fatalf("an overdue loan nobody waits for: %+v", mine[0])
	}
}

func TestLostAndFoundCopies(t *testing.T) {
	e := newEnv(t, friday)
	w := e.work("Thương nhớ mười hai", "BOOK", map[string]string{"TN-1": tuSon})
	e.reader("a", auth.CategoryAdult)
	b := e.reader("b", auth.CategoryAdult)
	loan := e.lend(tuSon, "a", "TN-1")
	hb := e.hold(b, w, tuSon)
	it, err := e.svc.MarkItemLost(e.ctx, e.staff[tuSon], "TN-1")
	e.must("MarkItemLost", err)
	got, err := e.set.Circulation.Loan(e.ctx, loan.ID)
	e.must("Loan", err)
	if it.Status != catalog.StatusLost || got.State != circulation.LoanLost {
		t.Fatalf("lost: copy %s, loan %s", it.Status, got.State)
	}
	if _, err := e.svc.MarkItemLost(e.ctx, e.staff[queVo], "TN-1"); !errors.Is(err, thuvienso.ErrForbidden) {
		t.Fatalf("another library marked the copy: %v", err)
	}
	res, err := e.svc.MarkItemFound(e.ctx, e.staff[tuSon], circulation.CheckInInput{LibraryID: tuSon, Barcode: "TN-1"})
	e.must("MarkItemFound", err)
	if res.Hold == nil || res.Hold.ID != hb.ID || res.Action != circulation.ActionHoldShelf {
		t.Fatalf("found: %+v", res)
	}
	// Damaged on the hold shelf: B waits again, in place.
	if _, err := e.svc.MarkItemDamaged(e.ctx, e.staff[tuSon], "TN-1"); err != nil {
		t.Fatalf("MarkItemDamaged: %v", err)
	}
	if h := e.holdOf(hb.ID); h.State != circulation.HoldWaiting || h.Barcode != "" {
		t.Fatalf("B after the copy was damaged: %+v", h)
	}
}
