package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/store"
)

// race runs f(i) for i in [0, n) on n goroutines released at the same
// moment, and returns the error of each.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

var concurrencyTests = []test{
	{"Concurrency/RefreshTokenUsedOnce", func(t *testing.T, s *store.Set) {
		const n = 64
		ctx, as := t.Context(), s.Auth
		tok := newToken("3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7", "sess-1", "acc-1")
		must(t, "CreateRefreshToken", as.CreateRefreshToken(ctx, tok))
		got := make([]*auth.RefreshToken, n)
		errs := race(n, func(i int) error {
			var err error
			got[i], err = as.UseRefreshToken(ctx, tok.Hash, at(3*time.Hour+time.Duration(i)*time.Microsecond+time.Duration(i)))
			return err
		})
		winner, ok, reused := -1, 0, 0
		for i, err := range errs {
			switch {
			case err == nil:
				winner = i
				ok++
			case errors.Is(err, auth.ErrRefreshTokenReused):
				reused++
			default:
				t.Errorf("goroutine %d: unexpected error %v", i, err)
			}
		}
		if ok != 1 || reused != n-1 {
			t.Fatalf("of %d concurrent uses %d succeeded (want 1) and %d saw reuse (want %d)", n, ok, reused, n-1)
		}
		want := *tok
		want.UsedAt = got[winner].UsedAt
		wantToken(t, "the winning use", got[winner], &want)
		if !got[winner].UsedAt.Equal(at(3*time.Hour + time.Duration(winner)*time.Microsecond + time.Duration(winner))) {
			t.Errorf("winner %d: UsedAt %v is not its own time", winner, got[winner].UsedAt)
		}
		for i, g := range got {
			if i != winner {
				wantToken(t, fmt.Sprintf("reuse by goroutine %d", i), g, &want)
			}
		}
	}},
	{"Concurrency/OneAccountPerEmail", func(t *testing.T, s *store.Set) {
		const n = 50
		ctx, as := t.Context(), s.Auth
		errs := race(n, func(i int) error {
			return as.CreateAccount(ctx, newAccount(idf("acc", i), "same@example.vn",
				fmt.Sprintf("+849%08d", i), fmt.Sprintf("BN-%04d", i)))
		})
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Errorf("goroutines %d and %d both created an account with the same email", winner, i)
				}
				winner = i
			case errors.Is(err, auth.ErrEmailTaken):
			default:
				t.Errorf("goroutine %d: got %v, want nil or %v", i, err, auth.ErrEmailTaken)
			}
		}
		if winner < 0 {
			t.Fatal("no goroutine created the account")
		}
		got, err := as.AccountByLogin(ctx, "same@example.vn")
		must(t, "AccountByLogin", err)
		mustEqual(t, "the account with the email", got.ID, idf("acc", winner))
		for i := range n {
			if i == winner {
				continue
			}
			if _, err := as.AccountByLogin(ctx, fmt.Sprintf("BN-%04d", i)); err == nil {
				t.Errorf("the account of goroutine %d was stored though its create failed", i)
			}
		}
	}},
}
