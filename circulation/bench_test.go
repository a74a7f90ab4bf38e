package circulation_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/circulation"
)

// BenchmarkPlaceHoldAndCheckInUnderContention measures holds and check-ins
// on a few popular works on the embedded SQLite store, from parallel
// goroutines (-cpu sets how many): each iteration a new reader places a
// hold on one of 4 works (pickup at the library of its copies), then a copy
// of that work is checked in — it goes to the first hold waiting, READY on
// the hold shelf — and lent to that hold's reader, which fulfils the hold;
// so every iteration is one placeHold, one checkIn (a claim, a hold update,
// an item update, an event) and one checkOut, all competing for the same
// queues and copies. ops/s counts the three requests; refused/op the
// requests refused with CONFLICT because another goroutine was handling
// the same copy (scanning it in again, lending it): two desks fighting
// over one physical copy, which only happens here with several goroutines
// on 8 copies.
//
//	go test -run '^$' -bench PlaceHoldAndCheckIn -benchtime 2000x -cpu 1,4,16 ./circulation/
func BenchmarkPlaceHoldAndCheckInUnderContention(b *testing.B) {
	const works, copiesPerWork = 4, 2
	rules := circulation.DefaultRules()
	rules.MaxHolds = map[auth.Category]int{auth.CategoryAdult: 1000}
	rules.MaxLoans = map[auth.Category]int{auth.CategoryAdult: 1000}
	e := newEnv(b, friday, circulation.WithRules(rules))
	workIDs := make([]string, works)
	var copies [][]string
	for w := range works {
		m := map[string]string{}
		var bcs []string
		for c := range copiesPerWork {
			bc := fmt.Sprintf("W%d-C%d", w, c)
			m[bc] = tuSon
			bcs = append(bcs, bc)
		}
		workIDs[w] = e.work(fmt.Sprintf("Tác phẩm %d", w), "BOOK", m)
		copies = append(copies, bcs)
	}
	readers := make([]auth.Actor, b.N)
	for i := range b.N {
		readers[i] = e.reader(fmt.Sprintf("r%07d", i), auth.CategoryAdult)
	}
	var next, refused atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1) - 1)
			w := i % works
			if _, err := e.svc.PlaceHold(e.ctx, readers[i], circulation.PlaceHoldInput{WorkID: workIDs[w], PickupLibraryID: tuSon}); err != nil {
				b.Errorf("PlaceHold: %v", err)
				return
			}
			bc := copies[w][(i/works)%copiesPerWork]
			res, err := e.svc.CheckIn(e.ctx, e.staff[tuSon], circulation.CheckInInput{LibraryID: tuSon, Barcode: bc})
			switch {
			case thuvienso.ErrorCode(err) == thuvienso.CodeConflict:
				refused.Add(1) // "scan it again": another desk holds the copy
				continue
			case err != nil:
				b.Errorf("CheckIn: %v", err)
				return
			}
			if res.Hold != nil && res.Hold.State == circulation.HoldReady {
				_, err := e.svc.CheckOut(e.ctx, e.staff[tuSon], circulation.CheckOutInput{LibraryID: tuSon,
					ReaderID: res.Hold.ReaderID, Barcode: bc})
				switch {
				case thuvienso.ErrorCode(err) == thuvienso.CodeConflict:
					// Another goroutine scanned the copy in again meanwhile
					// and it moved on: a refusal a librarian would see.
					refused.Add(1)
				case err != nil:
					b.Errorf("CheckOut: %v", err)
					return
				}
			}
		}
	})
	b.ReportMetric(float64(3*b.N)/time.Since(start).Seconds(), "ops/s")
	b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
}
