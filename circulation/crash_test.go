package circulation_test

import (
	"slices"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/events"
	"github.com/bacninh/thuvienso/storetest"
)

// TestACheckOutRetriedAfterACrashShowsTheCopyOnLoan: a server that dies
// after recording a loan and before setting its copy's status leaves the
// copy AVAILABLE in the catalog (found on the shelf by search) though it
// is lent. The desk's retry with the same idempotency key, or scanning the
// copy again, gets the loan and shows the copy ON_LOAN.
func TestACheckOutRetriedAfterACrashShowsTheCopyOnLoan(t *testing.T) {
	e := newEnv(t, time.Date(2026, 3, 2, 9, 0, 0, 0, ict))
	e.work("Truyện Kiều", "", map[string]string{"TS-1": tuSon})
	e.reader("r1", auth.CategoryAdult)
	in := circulation.CheckOutInput{LibraryID: tuSon, CardNumber: cardOf("r1"), Barcode: "TS-1", IdempotencyKey: "desk-1"}
	crashed := func() {
		t.Helper()
		// What the crash leaves: the loan recorded, the status not set.
		if _, err := e.set.Catalog.SetItemStatus(e.ctx, "TS-1", []catalog.ItemStatus{catalog.StatusOnLoan}, catalog.StatusAvailable, e.clock.Now()); err != nil {
			t.Fatalf("SetItemStatus: %v", err)
		}
	}
	first, err := e.svc.CheckOut(e.ctx, e.staff[tuSon], in)
	e.must("CheckOut", err)
	crashed()
	again, err := e.svc.CheckOut(e.ctx, e.staff[tuSon], in)
	e.must("CheckOut retried", err)
	if again.ID != first.ID || e.itemStatus("TS-1") != catalog.StatusOnLoan {
		t.Fatalf("retried check-out: loan %s (first %s), copy %s; want the same loan and ON_LOAN", again.ID, first.ID, e.itemStatus("TS-1"))
	}
	crashed()
	if l := e.lend(tuSon, "r1", "TS-1"); l.ID != first.ID || e.itemStatus("TS-1") != catalog.StatusOnLoan {
		t.Fatalf("the copy scanned again: loan %s (first %s), copy %s; want the same loan and ON_LOAN", l.ID, first.ID, e.itemStatus("TS-1"))
	}
	// Checked in, the copy is on the shelf again, and a late retry of the
	// first request does not say otherwise.
	e.checkIn(tuSon, "TS-1")
	if _, err := e.svc.CheckOut(e.ctx, e.staff[tuSon], in); err != nil || e.itemStatus("TS-1") != catalog.StatusAvailable {
		t.Fatalf("a retry after the check-in: %v, copy %s; want AVAILABLE", err, e.itemStatus("TS-1"))
	}
}

// TestAHoldMadeReadyJustBeforeACrashIsStillAnnounced: a server that dies
// after making a hold READY and before recording its event would leave the
// reader untold (the hold shelf shows the copy, the app does not hear of
// it). The next expiry pass, on any instance, records the event, once.
func TestAHoldMadeReadyJustBeforeACrashIsStillAnnounced(t *testing.T) {
	e := newEnv(t, friday)
	w := e.work("Số đỏ", "BOOK", map[string]string{"SD-1": tuSon})
	e.reader("x", auth.CategoryAdult)
	r := e.reader("r", auth.CategoryAdult)
	e.lend(tuSon, "x", "SD-1")
	h := e.hold(r, w, tuSon)

	normal := e.svc
	e.svc = circulation.NewService(e.set.Circulation, storetest.LosingEvents{Store: e.set.Events, Kind: events.HoldReady}, e.set.Catalog,
		e.set.Auth, e.set.Libraries, circulation.WithClock(e.clock.Now), circulation.WithCards(e.set.Cards))
	e.clock.Add(24 * time.Hour)
	if res := e.checkIn(tuSon, "SD-1"); res.Action != circulation.ActionHoldShelf || e.holdOf(h.ID).State != circulation.HoldReady {
		t.Fatalf("returned at the pickup library: %+v, hold %s", res, e.holdOf(h.ID).State)
	}
	if got := e.kinds("r"); slices.Contains(got, events.HoldReady) {
		t.Fatalf("the crash should have lost the event: %v", got)
	}

	e.svc = normal
	for i, want := range []int{1, 0} {
		rep, err := e.svc.RunExpiry(e.ctx, e.clock.Now().Add(time.Minute))
		e.must("RunExpiry", err)
		if rep.EventsRecovered != want {
			t.Fatalf("pass %d recovered %d events, want %d", i+1, rep.EventsRecovered, want)
		}
	}
	if got := e.kinds("r"); !slices.Equal(got, []events.Kind{events.HoldReady}) {
		t.Fatalf("the reader's events after the pass: %v", got)
	}
}
