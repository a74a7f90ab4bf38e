package storetest

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/store"
)

// circEnv is a circulation service on the Set under test: three libraries
// in two districts, one work with copies, readers, a fake clock.
type circEnv struct {
	t      *testing.T
	s      *store.Set
	svc    *circulation.Service
	clock  *fakeClock
	workID string
	// staff of each library, by library ID.
	staff map[string]auth.Actor
}

// Libraries of the circulation tests: two in Từ Sơn (libTuSon of the
// catalog tests and Đông Ngàn), one in Quế Võ.
const (
	libDongNgan = "lib-dongngan"
	libQueVo    = "lib-quevo"
)

// newCircEnv sets the libraries up and a work whose copies are
// barcodes, each owned by the library given.
func newCircEnv(t *testing.T, s *store.Set, copies map[string]string) *circEnv {
	t.Helper()
	if s.Circulation == nil {
		t.Fatal("Set.Circulation is nil")
	}
	ctx := t.Context()
	e := &circEnv{t: t, s: s, clock: &fakeClock{now: t0}, staff: map[string]auth.Actor{}}
	for _, l := range []*library.Library{
		newLibraryIn(libTuSon, "BN-TS", districtTuSon),
		newLibraryIn(libDongNgan, "BN-TS-DN", districtTuSon),
		newLibraryIn(libQueVo, "BN-QV", districtQueVo),
	} {
		l.Hours = nil // open every day but holidays
		must(t, "CreateLibrary", s.Libraries.CreateLibrary(ctx, l))
		e.staff[l.ID] = auth.Actor{AccountID: "staff-" + l.ID, Role: auth.RoleLibrarian, LibraryID: l.ID}
	}
	byLib := map[string][]catalog.Item{}
	for bc, lib := range copies {
		byLib[lib] = append(byLib[lib], newItem(lib, "rec-kieu", bc))
	}
	for lib, items := range byLib {
		apply(t, s, &catalog.Batch{LibraryID: lib, At: t0, Items: items,
			Records: []catalog.Record{newRecord(lib, "rec-kieu", "Truyện Kiều", "Nguyễn Du", 2019, isbn(t, "978-604-69-1234-7"))}})
	}
	if len(copies) > 0 {
		for _, lib := range copies {
			e.workID = workOf(t, s, lib, "rec-kieu")
			break
		}
	}
	e.svc = circulation.NewService(s.Circulation, s.Events, s.Catalog, s.Auth, s.Libraries,
		circulation.WithClock(e.clock.Now))
	return e
}

// readers creates n readers with card numbers and returns them as actors.
func (e *circEnv) readers(prefix string, n int) []auth.Actor {
	e.t.Helper()
	out := make([]auth.Actor, n)
	for i := range n {
		a := newAccount(idf(prefix, i), "", "", cardOf(prefix, i))
		a.Category = auth.CategoryAdult
		must(e.t, "CreateAccount", e.s.Auth.CreateAccount(e.t.Context(), a))
		out[i] = auth.Actor{AccountID: a.ID, Role: auth.RoleReader}
	}
	return out
}

func cardOf(prefix string, i int) string { return fmt.Sprintf("BN%s%05d", prefix, i) }

// lend checks a copy out at its desk to reader i of prefix.
func (e *circEnv) lend(desk, barcode, card string) *circulation.Loan {
	e.t.Helper()
	l, err := e.svc.CheckOut(e.t.Context(), e.staff[desk], circulation.CheckOutInput{LibraryID: desk, CardNumber: card, Barcode: barcode})
	must(e.t, "CheckOut "+barcode, err)
	return l
}

// gate bounds how many of a test's goroutines use the store at once: all
// of them, unless the store runs one command at a time
// (Options.SerialisedCommands), where hundreds of waiting callers only
// test the client's pool timeout.
func gate(o Options) func(func() error) error {
	if !o.SerialisedCommands {
		return func(f func() error) error { return f() }
	}
	sem := make(chan struct{}, 4)
	return func(f func() error) error {
		sem <- struct{}{}
		defer func() { <-sem }()
		return f()
	}
}

var circulationStoreTests = []test{
	{"Circulation/HoldsRoundTripAndKeepTheirKeys", func(t *testing.T, s *store.Set) {
		ctx, cs := t.Context(), s.Circulation
		h := &circulation.Hold{ID: "h1", ReaderID: "r1", WorkID: "w1", PickupLibraryID: libTuSon, State: circulation.HoldWaiting,
			CreatedAt: at(0), SuspendedUntil: ptr(at(time.Hour)), Slot: 0, IdempotencyKey: "k1"}
		must(t, "CreateHold", cs.CreateHold(ctx, h))
		got, err := cs.Hold(ctx, "h1")
		must(t, "Hold", err)
		want := *h
		want.CreatedAt, want.SuspendedUntil = h.CreatedAt.UTC(), utcPtr(h.SuspendedUntil)
		mustEqual(t, "hold", got, &want)
		wantUTC(t, "hold", got.CreatedAt, *got.SuspendedUntil)
		byKey, err := cs.HoldByIdempotencyKey(ctx, "r1", "k1")
		must(t, "HoldByIdempotencyKey", err)
		mustEqual(t, "hold by key", byKey.ID, "h1")

		err = cs.CreateHold(ctx, &circulation.Hold{ID: "h2", ReaderID: "r1", WorkID: "w1", State: circulation.HoldWaiting, CreatedAt: at(1), Slot: 1})
		wantErr(t, "a second active hold on the work", err, circulation.ErrAlreadyOnHold)
		err = cs.CreateHold(ctx, &circulation.Hold{ID: "h3", ReaderID: "r1", WorkID: "w2", State: circulation.HoldWaiting, CreatedAt: at(1), Slot: 1, IdempotencyKey: "k1"})
		wantErr(t, "a reused key", err, circulation.ErrIdempotencyKeyUsed)
		err = cs.CreateHold(ctx, &circulation.Hold{ID: "h4", ReaderID: "r1", WorkID: "w3", State: circulation.HoldWaiting, CreatedAt: at(1), Slot: 0})
		wantErr(t, "a taken slot", err, circulation.ErrHoldSlotTaken)

		// Attach a copy; a second hold cannot have it.
		got.State, got.Barcode, got.TargetedAt = circulation.HoldInTransit, "B1", ptr(at(2*time.Hour))
		must(t, "UpdateHold", cs.UpdateHold(ctx, got))
		mustEqual(t, "version", got.Version, 2)
		h5 := &circulation.Hold{ID: "h5", ReaderID: "r2", WorkID: "w1", State: circulation.HoldWaiting, CreatedAt: at(3)}
		must(t, "CreateHold h5", cs.CreateHold(ctx, h5))
		h5.State, h5.Barcode = circulation.HoldReady, "B1"
		wantErr(t, "attaching an attached copy", cs.UpdateHold(ctx, h5), circulation.ErrCopyAttached)
		h5.State, h5.Barcode = circulation.HoldWaiting, ""
		stale := *got
		stale.Version = 1
		wantErr(t, "a stale update", cs.UpdateHold(ctx, &stale), circulation.ErrStale)
		byCopy, err := cs.HoldForCopy(ctx, "B1")
		must(t, "HoldForCopy", err)
		mustEqual(t, "hold of B1", byCopy.ID, "h1")
		transit, err := cs.HoldsAtPickup(ctx, libTuSon, circulation.HoldInTransit)
		must(t, "HoldsAtPickup", err)
		if len(transit) != 1 || transit[0].ID != "h1" {
			t.Fatalf("in transit to Từ Sơn: %+v", transit)
		}
		// Queue order and counts.
		q, err := cs.ActiveHoldsForWork(ctx, "w1")
		must(t, "ActiveHoldsForWork", err)
		if len(q) != 2 || q[0].ID != "h1" || q[1].ID != "h5" {
			t.Fatalf("queue of w1: %+v", q)
		}
		counts, err := cs.ActiveHoldCounts(ctx, []string{"w1", "w9"})
		must(t, "ActiveHoldCounts", err)
		mustEqual(t, "counts", counts, map[string]int{"w1": 2})
		// Ending frees the keys.
		got.State, got.EndedAt = circulation.HoldCancelled, ptr(at(4*time.Hour))
		must(t, "UpdateHold cancel", cs.UpdateHold(ctx, got))
		h5.State, h5.Barcode = circulation.HoldReady, "B1"
		h5.ReadyAt, h5.PickupDeadline = ptr(at(5*time.Hour)), ptr(at(7*24*time.Hour))
		must(t, "attaching the freed copy", cs.UpdateHold(ctx, h5))
		must(t, "a new hold of r1 on w1", cs.CreateHold(ctx, &circulation.Hold{ID: "h6", ReaderID: "r1", WorkID: "w1",
			State: circulation.HoldWaiting, CreatedAt: at(6)}))
		mine, err := cs.HoldsForReader(ctx, "r1", true)
		must(t, "HoldsForReader", err)
		if len(mine) != 1 || mine[0].ID != "h6" {
			t.Fatalf("r1's active holds: %+v", mine)
		}
		all, err := cs.HoldsForReader(ctx, "r1", false)
		must(t, "HoldsForReader all", err)
		mustEqual(t, "r1's holds", len(all), 2)
		due, err := cs.HoldsDue(ctx, circulation.HoldReady, at(7*24*time.Hour), 10)
		must(t, "HoldsDue", err)
		if len(due) != 1 || due[0].ID != "h5" {
			t.Fatalf("due READY holds: %+v", due)
		}
		if due, _ = cs.HoldsDue(ctx, circulation.HoldReady, at(7*24*time.Hour-1), 10); len(due) != 0 {
			t.Fatalf("a hold due a nanosecond later is listed: %+v", due)
		}
		for _, c := range []struct {
			since time.Time
			want  []string
		}{{at(5 * time.Hour), []string{"h5"}}, {at(5*time.Hour + 1), nil}} {
			ready, err := cs.HoldsReadySince(ctx, c.since, 10)
			must(t, "HoldsReadySince", err)
			var ids []string
			for _, h := range ready {
				ids = append(ids, h.ID)
			}
			mustEqual(t, fmt.Sprintf("HoldsReadySince(%v)", c.since), ids, c.want)
		}
		byID, err := cs.HoldsByID(ctx, []string{"h1", "h5", "nope"})
		must(t, "HoldsByID", err)
		mustEqual(t, "holds by id", len(byID), 2)
	}},
	{"Circulation/LoansRoundTripAndKeepACopyOnOneLoan", func(t *testing.T, s *store.Set) {
		ctx, cs := t.Context(), s.Circulation
		l := &circulation.Loan{ID: "l1", ReaderID: "r1", Barcode: "B1", WorkID: "w1", LibraryID: libTuSon, ItemLibraryID: libQueVo,
			HoldID: "h1", State: circulation.LoanActive, CheckedOutAt: at(0), DueAt: at(14 * 24 * time.Hour), IdempotencyKey: "k"}
		must(t, "CreateLoan", cs.CreateLoan(ctx, l))
		got, err := cs.Loan(ctx, "l1")
		must(t, "Loan", err)
		want := *l
		want.CheckedOutAt, want.DueAt = l.CheckedOutAt.UTC(), l.DueAt.UTC()
		mustEqual(t, "loan", got, &want)
		err = cs.CreateLoan(ctx, &circulation.Loan{ID: "l2", ReaderID: "r2", Barcode: "B1", State: circulation.LoanActive, CheckedOutAt: at(1), DueAt: at(2)})
		wantErr(t, "a second loan of the copy", err, circulation.ErrCopyOnLoan)
		err = cs.CreateLoan(ctx, &circulation.Loan{ID: "l3", ReaderID: "r1", Barcode: "B2", State: circulation.LoanActive, CheckedOutAt: at(1), DueAt: at(2)})
		wantErr(t, "a taken slot", err, circulation.ErrLoanSlotTaken)
		err = cs.CreateLoan(ctx, &circulation.Loan{ID: "l4", ReaderID: "r1", Barcode: "B3", State: circulation.LoanActive, CheckedOutAt: at(1), DueAt: at(2), Slot: 1, IdempotencyKey: "k"})
		wantErr(t, "a reused key", err, circulation.ErrIdempotencyKeyUsed)
		byCopy, err := cs.ActiveLoanForCopy(ctx, "B1")
		must(t, "ActiveLoanForCopy", err)
		mustEqual(t, "loan of B1", byCopy.ID, "l1")
		// Reminders are listed until marked.
		n, err := cs.LoansToNotify(ctx, circulation.NoticeDueSoon, at(14*24*time.Hour), 10)
		must(t, "LoansToNotify", err)
		mustEqual(t, "loans to remind", len(n), 1)
		got.Notice = circulation.NoticeDueSoon
		must(t, "UpdateLoan", cs.UpdateLoan(ctx, got))
		if n, _ = cs.LoansToNotify(ctx, circulation.NoticeDueSoon, at(14*24*time.Hour), 10); len(n) != 0 {
			t.Fatalf("a reminded loan is listed again: %+v", n)
		}
		stale := *got
		stale.Version = 1
		wantErr(t, "a stale update", cs.UpdateLoan(ctx, &stale), circulation.ErrStale)
		got.State, got.ReturnedAt, got.ReturnLibraryID = circulation.LoanReturned, ptr(at(time.Hour)), libQueVo
		must(t, "returning", cs.UpdateLoan(ctx, got))
		_, err = cs.ActiveLoanForCopy(ctx, "B1")
		wantCode(t, "the returned copy's loan", err, "NOT_FOUND")
		must(t, "lending the copy again", cs.CreateLoan(ctx, &circulation.Loan{ID: "l5", ReaderID: "r2", Barcode: "B1",
			State: circulation.LoanActive, CheckedOutAt: at(2 * time.Hour), DueAt: at(3 * time.Hour)}))
		active, err := cs.ActiveLoansForCopies(ctx, []string{"B1", "B9"})
		must(t, "ActiveLoansForCopies", err)
		if len(active) != 1 || active[0].ID != "l5" {
			t.Fatalf("active loans of B1: %+v", active)
		}
		mine, err := cs.LoansForReader(ctx, "r1", false)
		must(t, "LoansForReader", err)
		if len(mine) != 1 || mine[0].State != circulation.LoanReturned || !mine[0].ReturnedAt.Equal(at(time.Hour)) {
			t.Fatalf("r1's loans: %+v", mine)
		}
	}},
	{"Circulation/ActiveLoansDuePageByDueDateThenID", func(t *testing.T, s *store.Set) {
		ctx, cs := t.Context(), s.Circulation
		whole := time.Date(2025, time.March, 28, 23, 59, 59, 0, ict) // the end of a due day
		type loan struct {
			id     string
			due    time.Time
			active bool
		}
		loans := []loan{
			{"l-c", whole, true}, {"l-a", whole, true}, {"l-b", whole, true}, // one due time, three loans
			{"l-n2", at(time.Nanosecond), true}, {"l-n1", at(time.Nanosecond), true}, // nanoseconds within one millisecond
			{"l-n0", at(0), true},
			{"l-ret", whole, false},                      // returned: not listed
			{"l-late", whole.Add(time.Nanosecond), true}, // after until
			{"l-next-ms", at(time.Millisecond), true},    // the next millisecond
		}
		for i, l := range loans {
			must(t, "CreateLoan "+l.id, cs.CreateLoan(ctx, &circulation.Loan{ID: l.id, ReaderID: idf("r", i), Barcode: "B-" + l.id,
				State: circulation.LoanActive, CheckedOutAt: at(-time.Hour), DueAt: l.due}))
			if !l.active {
				got, err := cs.Loan(ctx, l.id)
				must(t, "Loan", err)
				got.State, got.ReturnedAt = circulation.LoanReturned, ptr(at(0))
				must(t, "returning", cs.UpdateLoan(ctx, got))
			}
		}
		want := []string{"l-n0", "l-n1", "l-n2", "l-next-ms", "l-a", "l-b", "l-c"}
		var got []string
		afterDue, afterID := time.Time{}, ""
		for page := 0; page < 10; page++ {
			ls, err := cs.ActiveLoansDue(ctx, afterDue, afterID, whole, 2)
			must(t, "ActiveLoansDue", err)
			for _, l := range ls {
				got = append(got, l.ID)
				wantUTC(t, "due date", l.DueAt)
			}
			if len(ls) < 2 {
				break
			}
			afterDue, afterID = ls[len(ls)-1].DueAt, ls[len(ls)-1].ID
		}
		mustEqual(t, "loans due, page by page", got, want)
		ls, err := cs.ActiveLoansDue(ctx, at(time.Nanosecond), "l-n1", whole, 10)
		must(t, "ActiveLoansDue after a position", err)
		if len(ls) == 0 || ls[0].ID != "l-n2" {
			t.Fatalf("after (t0+1ns, l-n1): %v, want l-n2 first", ls)
		}
	}},
	{"Circulation/CopyClaimChangesHandsOnce", func(t *testing.T, s *store.Set) {
		ctx, cs := t.Context(), s.Circulation
		_, err := cs.CopyClaim(ctx, "B1")
		wantCode(t, "a copy never claimed", err, "NOT_FOUND")
		const n = 16
		run := gate(Options{})
		errs := race(n, func(i int) error {
			return run(func() error { return cs.ClaimCopy(ctx, "B1", "", fmt.Sprintf("loan:%d", i), at(time.Duration(i))) })
		})
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("claims %d and %d both took the free copy", winner, i)
				}
				winner = i
			case errors.Is(err, circulation.ErrClaimLost):
			default:
				t.Fatalf("claim %d: %v", i, err)
			}
		}
		c, err := cs.CopyClaim(ctx, "B1")
		must(t, "CopyClaim", err)
		if c.Holder != fmt.Sprintf("loan:%d", winner) || !c.ClaimedAt.Equal(at(time.Duration(winner))) {
			t.Fatalf("claim %+v, want the winner %d", c, winner)
		}
		wantErr(t, "from the wrong holder", cs.ClaimCopy(ctx, "B1", "loan:x", "hold:y", at(time.Hour)), circulation.ErrClaimLost)
		must(t, "releasing", cs.ClaimCopy(ctx, "B1", c.Holder, "", at(time.Hour)))
		must(t, "claiming the released copy", cs.ClaimCopy(ctx, "B1", "", "hold:h", at(2*time.Hour)))
		wantErr(t, "claiming a held copy as free", cs.ClaimCopy(ctx, "B1", "", "hold:z", at(3*time.Hour)), circulation.ErrClaimLost)
	}},
	{"Circulation/HistorySettingStartsOffAndCountsItsChanges", testHistorySettingStartsOffAndCountsItsChanges},
	{"Circulation/HistoryPagesNewestFirstAndClears", testHistoryPagesNewestFirstAndClears},
	{"Circulation/WaitingHoldWorksListsEachWorkOnce", testWaitingHoldWorksListsEachWorkOnce},
	{"Circulation/ClosedDays", func(t *testing.T, s *store.Set) {
		ctx, cs := t.Context(), s.Circulation
		must(t, "Put", cs.PutClosedDay(ctx, &circulation.ClosedDay{LibraryID: libTuSon, Date: "2025-03-20", Reason: "Kiểm kê kho"}))
		must(t, "Put again", cs.PutClosedDay(ctx, &circulation.ClosedDay{LibraryID: libTuSon, Date: "2025-03-20", Reason: "Kiểm kê kho sách"}))
		must(t, "Put network", cs.PutClosedDay(ctx, &circulation.ClosedDay{Date: "2025-03-18", Reason: "Nghỉ bù"}))
		must(t, "Put other", cs.PutClosedDay(ctx, &circulation.ClosedDay{LibraryID: libQueVo, Date: "2025-03-19", Reason: "Sửa chữa"}))
		ds, err := cs.ClosedDays(ctx, []string{"", libTuSon}, "2025-03-01", "2025-03-31")
		must(t, "ClosedDays", err)
		mustEqual(t, "closed days", ds, []*circulation.ClosedDay{
			{LibraryID: "", Date: "2025-03-18", Reason: "Nghỉ bù"},
			{LibraryID: libTuSon, Date: "2025-03-20", Reason: "Kiểm kê kho sách"},
		})
		must(t, "Delete", cs.DeleteClosedDay(ctx, libTuSon, "2025-03-20"))
		wantCode(t, "Delete again", cs.DeleteClosedDay(ctx, libTuSon, "2025-03-20"), "NOT_FOUND")
	}},
}

// circulationConcurrencyTests are the invariants of circulation under
// many goroutines, on a store that o describes.
func circulationConcurrencyTests(o Options) []test {
	return []test{
		{"Concurrency/Circulation200HoldsWhile3CopiesComeBack", func(t *testing.T, s *store.Set) {
			const n, copies = 200, 3
			e := newCircEnv(t, s, map[string]string{"K-1": libTuSon, "K-2": libTuSon, "K-3": libTuSon})
			ctx := t.Context()
			e.readers("b", copies)
			rs := e.readers("r", n)
			for i := range copies {
				e.lend(libTuSon, fmt.Sprintf("K-%d", i+1), cardOf("b", i))
			}
			// The copies come back while the holds are placed: the first check-in
			// waits for the first holds, the rest race the remaining readers.
			run := gate(o)
			var placed atomic.Int32
			someHolds := make(chan struct{})
			var once sync.Once
			holds := make([]*circulation.Hold, n)
			results := make([]*circulation.CheckInResult, copies)
			errs := race(n+copies, func(i int) error {
				if i >= n {
					<-someHolds
					var err error
					return run(func() error {
						results[i-n], err = e.svc.CheckIn(ctx, e.staff[libTuSon], circulation.CheckInInput{LibraryID: libTuSon, Barcode: fmt.Sprintf("K-%d", i-n+1)})
						return err
					})
				}
				err := run(func() error {
					var err error
					holds[i], err = e.svc.PlaceHold(ctx, rs[i], circulation.PlaceHoldInput{WorkID: e.workID, PickupLibraryID: libTuSon})
					return err
				})
				if placed.Add(1) >= 10 {
					once.Do(func() { close(someHolds) })
				}
				return err
			})
			for i, err := range errs {
				must(t, fmt.Sprintf("goroutine %d", i), err)
			}
			// Each copy went to exactly one hold, each hold got at most one copy.
			served := map[string]string{}
			for i, r := range results {
				if r.Action != circulation.ActionHoldShelf || r.Hold == nil || r.Loan == nil {
					t.Fatalf("check-in %d: %+v", i, r)
				}
				if prev, ok := served[r.Hold.ID]; ok {
					t.Fatalf("hold %s got copies %s and %s", r.Hold.ID, prev, r.Item.Barcode)
				}
				served[r.Hold.ID] = r.Item.Barcode
				if r.Item.Status != catalog.StatusOnHoldShelf {
					t.Fatalf("copy %s is %s", r.Item.Barcode, r.Item.Status)
				}
			}
			queue, err := s.Circulation.ActiveHoldsForWork(ctx, e.workID)
			must(t, "ActiveHoldsForWork", err)
			if len(queue) != n {
				t.Fatalf("%d active holds, want %d: none lost", len(queue), n)
			}
			ready := 0
			for _, h := range queue {
				if h.State == circulation.HoldReady {
					ready++
					if served[h.ID] != h.Barcode {
						t.Fatalf("hold %s is READY with %q, but check-ins gave it %q", h.ID, h.Barcode, served[h.ID])
					}
				} else if h.State != circulation.HoldWaiting || h.Barcode != "" {
					t.Fatalf("hold %s: %s with copy %q", h.ID, h.State, h.Barcode)
				}
			}
			if ready != copies {
				t.Fatalf("%d holds READY, want %d", ready, copies)
			}
			// Positions of the waiting holds are 1 … n−3, in queue order.
			sts, err := e.svc.HoldStatuses(ctx, queue)
			must(t, "HoldStatuses", err)
			var positions []int
			for _, st := range sts {
				if st.State == circulation.HoldReady {
					if st.Position != 0 {
						t.Fatalf("READY hold %s has position %d", st.ID, st.Position)
					}
					continue
				}
				positions = append(positions, st.Position)
				if st.QueueLength != n-copies {
					t.Fatalf("queue length %d, want %d", st.QueueLength, n-copies)
				}
			}
			for i, p := range positions {
				if p != i+1 {
					t.Fatalf("position %d is %d: %v", i+1, p, positions)
				}
			}
			// Every copy's claim names its hold.
			for holdID, bc := range served {
				c, err := s.Circulation.CopyClaim(ctx, bc)
				must(t, "CopyClaim", err)
				mustEqual(t, "holder of "+bc, c.Holder, "hold:"+holdID)
			}
		}},
		{"Concurrency/CirculationOneCopyScannedAtOnceGoesToOneHold", func(t *testing.T, s *store.Set) {
			const scans = 8
			e := newCircEnv(t, s, map[string]string{"K-1": libQueVo})
			ctx := t.Context()
			rs := e.readers("r", 3)
			e.lend(libQueVo, "K-1", cardOf("r", 0))
			for i := 1; i < 3; i++ {
				_, err := e.svc.PlaceHold(ctx, rs[i], circulation.PlaceHoldInput{WorkID: e.workID, PickupLibraryID: libTuSon})
				must(t, "PlaceHold", err)
				e.clock.Add(time.Second)
			}
			run := gate(o)
			res := make([]*circulation.CheckInResult, scans)
			errs := race(scans, func(i int) error {
				return run(func() error {
					var err error
					res[i], err = e.svc.CheckIn(ctx, e.staff[libQueVo], circulation.CheckInInput{LibraryID: libQueVo, Barcode: "K-1"})
					return err
				})
			})
			returned := 0
			for i, err := range errs {
				must(t, fmt.Sprintf("scan %d", i), err)
				if res[i].Loan != nil {
					returned++
				}
				if res[i].Action != circulation.ActionTransitToPickup || res[i].Destination != libTuSon || res[i].Hold == nil {
					t.Fatalf("scan %d: %+v", i, res[i])
				}
			}
			if returned != 1 {
				t.Fatalf("%d scans ended the loan, want 1", returned)
			}
			queue, err := s.Circulation.ActiveHoldsForWork(ctx, e.workID)
			must(t, "ActiveHoldsForWork", err)
			var states []string
			for _, h := range queue {
				states = append(states, string(h.State)+":"+h.Barcode)
			}
			sort.Strings(states)
			mustEqual(t, "the holds after the scans", states, []string{"IN_TRANSIT:K-1", "WAITING:"})
			if queue[0].State != circulation.HoldInTransit {
				t.Fatalf("the copy went to the second hold in the queue: %+v", queue)
			}
		}},
	}
}
