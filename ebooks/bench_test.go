package ebooks_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/ebooks"
	"github.com/bacninh/thuvienso/sqlite"
)

// BenchmarkBorrowReturnUnderContention measures the exam-season rush on the
// embedded SQLite store: parallel readers (-cpu sets how many goroutines)
// borrow and return the same few titles of 10 copies each, so every
// iteration competes for the same licenses. An iteration is one borrow and,
// when it got a copy, one return; a borrow refused with NO_COPY_AVAILABLE
// (all 10 copies out at that instant) counts in refused/op.
//
//	go test -run '^$' -bench BorrowReturn -benchtime 3000x -cpu 1,4,16 ./ebooks/
func BenchmarkBorrowReturnUnderContention(b *testing.B) {
	const titles, copies, readers = 4, 10, 400
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	s := db.Stores()
	svc := ebooks.NewService(s.Ebooks, s.Events, s.Auth)
	admin := auth.Actor{AccountID: "admin", Role: auth.RoleAdmin}
	for t := range titles {
		id := fmt.Sprintf("t%d", t)
		if _, err := svc.AddTitle(ctx, admin, &ebooks.Title{ID: id, WorkID: "w" + id, Format: ebooks.FormatEPUB,
			Name: "Đề thi THPT " + id, ContentRef: id + ".epub"}); err != nil {
			b.Fatal(err)
		}
		if _, err := svc.AddLicense(ctx, admin, &ebooks.License{TitleID: id, Model: ebooks.OneCopyOneUser, Scope: ebooks.ScopeProvince,
			Concurrency: copies}); err != nil {
			b.Fatal(err)
		}
	}
	actors := make([]auth.Actor, readers)
	for i := range actors {
		a := &auth.Account{ID: fmt.Sprintf("reader-%04d", i), Name: "Học sinh", Role: auth.RoleReader, Category: auth.CategoryStudent,
			PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := s.Auth.CreateAccount(ctx, a); err != nil {
			b.Fatal(err)
		}
		actors[i] = auth.Actor{AccountID: a.ID, Role: auth.RoleReader}
	}
	var next, refused atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			who := actors[i%readers]
			res, err := svc.Borrow(ctx, who, ebooks.BorrowInput{TitleID: fmt.Sprintf("t%d", i%titles), Days: 7})
			switch {
			case errors.Is(err, ebooks.ErrNoCopyAvailable), errors.Is(err, ebooks.ErrAlreadyBorrowed), errors.Is(err, ebooks.ErrLoanLimit):
				refused.Add(1)
				continue
			case err != nil:
				b.Errorf("borrow: %v", err)
				return
			}
			if _, err := svc.Return(ctx, who, res.Loan.ID); err != nil {
				b.Errorf("return: %v", err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "borrows/s")
	b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
}
