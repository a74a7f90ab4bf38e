package circulation_test

import (
	"testing"
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/circulation"
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
