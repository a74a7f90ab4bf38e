package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/ebooks"
	"github.com/bacninh/thuvienso/store"
)

// The fault tests of this file and faults_kill_test.go break what the
// service runs on while readers use it (Redis stopped and restarted under
// load; the server process killed in the middle of borrows) and then check
// that every request was answered and that nothing was lost or doubled:
// loans, licenses' copies, holds and notifications.

// faultHTTP is the HTTP client of the load goroutines: a request that
// hangs past its timeout is a failure the test reports, never a stall.
var faultHTTP = &http.Client{Timeout: 60 * time.Second}

// try sends one GraphQL operation and returns the response, or the
// transport error, without failing the test: load goroutines count
// errors instead (t.Fatal belongs to the test's own goroutine).
func (c *client) try(query string, vars map[string]any) (gqlResponse, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, c.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return gqlResponse{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json, application/json")
	req.Header.Set("Accept-Language", "en")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := faultHTTP.Do(req)
	if err != nil {
		return gqlResponse{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return gqlResponse{}, err
	}
	out := gqlResponse{Status: resp.StatusCode}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("status %d, body is not a GraphQL response: %q", resp.StatusCode, raw)
	}
	return out, nil
}

// tally counts the answers of a load run by outcome: "ok", or the error
// code. Safe for concurrent use.
type tally struct {
	mu    sync.Mutex
	codes map[string]int
}

func (t *tally) add(outcome string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.codes == nil {
		t.codes = map[string]int{}
	}
	t.codes[outcome]++
}

// total is how many answers were counted.
func (t *tally) total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.codes {
		n += c
	}
	return n
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.codes))
	for k := range t.codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, t.codes[k])
	}
	return strings.Join(parts, ", ")
}

// answered classifies a response for the tally and says what is wrong
// with it when it is not an answer a reader can act on: a 5xx or an
// INTERNAL error. Business errors (CONFLICT, NO_COPY_AVAILABLE, …) are
// answers.
func answered(r gqlResponse) (outcome string, problem error) {
	code := r.code()
	switch {
	case r.Status >= 500:
		return fmt.Sprint("HTTP ", r.Status), fmt.Errorf("HTTP %d: %+v", r.Status, r.Errors)
	case code == "INTERNAL":
		return code, fmt.Errorf("INTERNAL: %+v", r.Errors)
	case len(r.Errors) > 0 && code == "":
		return "no code", fmt.Errorf("an error without a code: %+v", r.Errors)
	case code != "":
		return code, nil
	}
	return "ok", nil
}

// lendingState is what the store says about the lending of some titles
// to some readers: their licenses with seats, and every loan and hold of
// the readers.
type lendingState struct {
	licenses []*ebooks.License
	loans    map[string]*ebooks.Loan
	holds    map[string]*ebooks.Hold
}

// readLending reads the lending state of titles and readers from st.
func readLending(t *testing.T, st *store.Set, titles, readers []string) lendingState {
	t.Helper()
	ctx := context.Background()
	ls, err := st.Ebooks.LicensesForTitles(ctx, titles)
	if err != nil {
		t.Fatal(err)
	}
	s := lendingState{licenses: ls, loans: map[string]*ebooks.Loan{}, holds: map[string]*ebooks.Hold{}}
	for _, r := range readers {
		loans, err := st.Ebooks.LoansForReader(ctx, r, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range loans {
			s.loans[l.ID] = l
		}
		holds, err := st.Ebooks.HoldsForReader(ctx, r, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range holds {
			s.holds[h.ID] = h
		}
	}
	return s
}

// problems checks the invariants of lending that no fault may break, and
// returns what breaks them:
//   - every ACTIVE loan holds a copy (a LOAN seat) of its license, and every
//     RESERVED hold a HOLD seat: no loan without its license checkout;
//   - every license's counters agree with its seats: InUse is the number
//     of seats, Available is Concurrency − InUse and never negative, and a
//     metered license's checkouts left never go negative;
//   - with settled (after the expiry pass has reclaimed what a crash left
//     behind), every seat's holder is an ACTIVE loan or a RESERVED hold of
//     that license (no checkout without its loan), and a metered license
//     has used exactly one checkout per loan made under it and per copy
//     reserved.
//
// It also returns the seats whose holder is not live (orphans, what a
// crash between "take the copy" and "record the loan" leaves until the
// expiry pass reclaims it).
func (s lendingState) problems(settled bool) (problems []string, orphans int) {
	for _, l := range s.licenses {
		if l.InUse != len(l.Seats) {
			problems = append(problems, fmt.Sprintf("license %s (%s): %d in use but %d seats", l.ID, l.Model, l.InUse, len(l.Seats)))
		}
		if l.Limited() && (l.Available != l.Concurrency-l.InUse || l.Available < 0) {
			problems = append(problems, fmt.Sprintf("license %s (%s): %d available of %d with %d in use", l.ID, l.Model, l.Available, l.Concurrency, l.InUse))
		}
		if l.Metered() && l.CheckoutsLeft < 0 {
			problems = append(problems, fmt.Sprintf("license %s: %d checkouts left", l.ID, l.CheckoutsLeft))
		}
		reserved := 0
		for id, seat := range l.Seats {
			live := false
			switch seat.Kind {
			case ebooks.SeatLoan:
				lo := s.loans[id]
				live = lo != nil && lo.State == ebooks.LoanActive && lo.LicenseID == l.ID
			case ebooks.SeatHold:
				reserved++
				h := s.holds[id]
				live = h != nil && h.State == ebooks.HoldReserved && h.LicenseID == l.ID
			}
			if !live {
				orphans++
				if settled {
					problems = append(problems, fmt.Sprintf("license %s: a %s seat of %s, which is not a live loan or reservation of it", l.ID, seat.Kind, id))
				}
			}
		}
		if settled && l.Metered() {
			made := 0
			for _, lo := range s.loans {
				if lo.LicenseID == l.ID {
					made++
				}
			}
			if want := l.CheckoutsTotal - made - reserved; l.CheckoutsLeft != want {
				problems = append(problems, fmt.Sprintf("metered license %s: %d checkouts left, want %d (%d bought, %d loans made, %d copies reserved)",
					l.ID, l.CheckoutsLeft, want, l.CheckoutsTotal, made, reserved))
			}
		}
	}
	byID := map[string]*ebooks.License{}
	for _, l := range s.licenses {
		byID[l.ID] = l
	}
	for _, lo := range s.loans {
		if lo.State != ebooks.LoanActive {
			continue
		}
		if seat, ok := byID[lo.LicenseID].Seats[lo.ID]; !ok || seat.Kind != ebooks.SeatLoan {
			problems = append(problems, fmt.Sprintf("active loan %s holds no copy of its license %s", lo.ID, lo.LicenseID))
		}
	}
	for _, h := range s.holds {
		if h.State != ebooks.HoldReserved {
			continue
		}
		if seat, ok := byID[h.LicenseID].Seats[h.ID]; !ok || seat.Kind != ebooks.SeatHold {
			problems = append(problems, fmt.Sprintf("reserved hold %s holds no copy of its license %s", h.ID, h.LicenseID))
		}
	}
	slices.Sort(problems)
	return problems, orphans
}

// copyProblems checks that every ACTIVE physical loan of the readers owns
// its copy's claim, that no copy is on two active loans, and that the
// catalog shows each lent copy ON_LOAN.
func copyProblems(t *testing.T, st *store.Set, readers []string) []string {
	t.Helper()
	ctx := context.Background()
	var problems []string
	lent := map[string]string{}
	for _, r := range readers {
		loans, err := st.Circulation.LoansForReader(ctx, r, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range loans {
			if other, ok := lent[l.Barcode]; ok {
				problems = append(problems, fmt.Sprintf("copy %s is on two active loans, %s and %s", l.Barcode, other, l.ID))
			}
			lent[l.Barcode] = l.ID
			claim, err := st.Circulation.CopyClaim(ctx, l.Barcode)
			if err != nil || claim.Holder != "loan:"+l.ID {
				problems = append(problems, fmt.Sprintf("copy %s is lent by loan %s but its claim is %+v (%v)", l.Barcode, l.ID, claim, err))
			}
			it, err := st.Catalog.Item(ctx, l.Barcode)
			if err != nil {
				t.Fatal(err)
			}
			if it.Status != catalog.StatusOnLoan {
				problems = append(problems, fmt.Sprintf("copy %s is lent by loan %s but the catalog says %s", l.Barcode, l.ID, it.Status))
			}
		}
	}
	return problems
}
