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
	"sync/atomic"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/demo"
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

// outageLoad is the load of the Redis test: readers, each on one of two
// instances, search, open work pages, look at their account, borrow and
// return e-books (joining the queue every other time when no copy is
// free) and place holds on physical copies, until stopped. It records
// what was answered in each phase (before, during and after the outage).
type outageLoad struct {
	t       *testing.T
	c       *cluster
	readers []*client
	titles  []string
	works   []string
	queries []string
	pickup  string

	phase   atomic.Int32
	stop    atomic.Bool
	answers [3]atomic.Int64
	tallies [3]tally

	mu sync.Mutex
	// loans are the e-book loans answered, with the state their reader
	// expects: ACTIVE, or RETURNED once the return was answered.
	loans map[string]string
	// ebookHolds are the e-book holds placed.
	ebookHolds map[string]bool
	// holds are the holds on works placed: "placed", or "CANCELLED" once
	// the cancellation was answered.
	holds map[string]string
}

// phaseNames name the phases of outageLoad.
var phaseNames = [3]string{"before the outage", "during the outage", "after the outage"}

const (
	outageWorkQ = `query($id: ID!) { work(id: $id) { title holdings { library { code } total available items { barcode status } }
  availability { total available libraries } } }`
	outageAccountQ = `{ me { id name } myEbookLoans { edges { node { id state } } } myHolds { totalCount } unreadNotificationCount }`
	outageHoldM    = `mutation($in: PlaceHoldInput!) { placeHold(input: $in) { hold { id state } } }`
	outageCancelM  = `mutation($id: ID!) { cancelHold(input: {holdId: $id}) { hold { id state } } }`
)

// run is reader i's loop, on instance i%2.
func (l *outageLoad) run(i int) {
	rd := l.readers[i].on(l.c, i%2)
	anon := l.c.client(i%2, "")
	var mine []string // the reader's active e-book loans, oldest first
	held := ""        // the reader's hold on a work, to cancel next
	for seq := 0; !l.stop.Load(); seq++ {
		phase := l.phase.Load()
		send := func(what string, c *client, q string, vars map[string]any) (gqlResponse, bool) {
			r, err := c.try(q, vars)
			if err != nil {
				l.t.Errorf("reader %d, %s %s: %v", i, what, phaseNames[phase], err)
				return r, false
			}
			outcome, problem := answered(r)
			l.tallies[phase].add(what + " " + outcome)
			l.answers[phase].Add(1)
			if problem != nil {
				l.t.Errorf("reader %d, %s %s: %v", i, what, phaseNames[phase], problem)
			}
			return r, true
		}
		var ok bool
		switch seq % 5 {
		case 0:
			_, ok = send("search", anon, searchQuery, map[string]any{"q": l.queries[(i+seq)%len(l.queries)]})
		case 1:
			_, ok = send("work", rd, outageWorkQ, map[string]any{"id": l.works[(i+seq)%len(l.works)]})
		case 2:
			_, ok = send("account", rd, outageAccountQ, nil)
		case 3:
			var r gqlResponse
			r, ok = send("borrowEbook", rd, killBorrowM, map[string]any{"in": map[string]any{
				"titleId": l.titles[(i+seq/5)%len(l.titles)], "idempotencyKey": fmt.Sprintf("outage-%d-%d", i, seq),
				"holdIfUnavailable": seq%2 == 0}})
			l.mu.Lock()
			if id, _ := field(r.Data, "borrowEbook", "loan", "id").(string); id != "" {
				l.loans[id] = "ACTIVE"
				if !slices.Contains(mine, id) {
					mine = append(mine, id)
				}
			}
			if id, _ := field(r.Data, "borrowEbook", "hold", "id").(string); id != "" {
				l.ebookHolds[id] = true
			}
			l.mu.Unlock()
			if ok && len(mine) > 1 {
				r, ok = send("returnEbook", rd, killReturnM, map[string]any{"id": mine[0]})
				if field(r.Data, "returnEbook", "loan", "state") == "RETURNED" {
					l.mu.Lock()
					l.loans[mine[0]] = "RETURNED"
					l.mu.Unlock()
					mine = mine[1:]
				}
			}
		case 4: // a hold on a work, cancelled at the next turn
			if held != "" {
				var r gqlResponse
				r, ok = send("cancelHold", rd, outageCancelM, map[string]any{"id": held})
				if field(r.Data, "cancelHold", "hold", "state") == "CANCELLED" {
					l.mu.Lock()
					l.holds[held] = "CANCELLED"
					l.mu.Unlock()
					held = ""
				}
				break
			}
			var r gqlResponse
			r, ok = send("placeHold", rd, outageHoldM, map[string]any{"in": map[string]any{
				"workId": l.works[(i+seq/5)%len(l.works)], "pickupLibraryId": l.pickup, "idempotencyKey": fmt.Sprintf("outage-hold-%d-%d", i, seq)}})
			if id, _ := field(r.Data, "placeHold", "hold", "id").(string); id != "" {
				l.mu.Lock()
				l.holds[id] = "placed"
				l.mu.Unlock()
				held = id
			}
		}
		if !ok {
			return
		}
	}
}

// faultDeadline bounds the waits of the fault tests for a process to do
// something (answer requests, run a scheduler pass): generous, for 2 busy
// cores under the race detector; what was seen is logged.
const faultDeadline = time.Minute

// waitFor calls cond until it holds, failing the test after deadline; it
// returns how long that took.
func waitFor(t *testing.T, what string, deadline time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > deadline {
			t.Fatalf("%s: not after %v", what, deadline)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// waitAnswers waits until the load has had n answers in phase.
func (l *outageLoad) waitAnswers(phase int32, n int64) {
	l.t.Helper()
	waitFor(l.t, fmt.Sprintf("%d answers %s", n, phaseNames[phase]), faultDeadline, func() bool {
		return l.answers[phase].Load() >= n || l.t.Failed()
	})
}

// searchCacheHits reads the search cache's hits from an instance's
// /metrics, as Prometheus does.
func searchCacheHits(t *testing.T, url string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	const sample = `thuvienso_cache_lookups_total{cache="search",result="hit"} `
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, sample); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err != nil {
				t.Fatalf("metric %s%s: %v", sample, v, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", sample)
	return 0
}

// waitReadiness waits until every instance's /readyz says status (with 200).
func (c *cluster) waitReadiness(status string) {
	c.t.Helper()
	for _, n := range c.nodes {
		eventually(c.t, n.name+"'s /readyz saying "+status, func() bool {
			code, got := readiness(c.t, n.srv.URL)
			return code == http.StatusOK && got == status
		})
	}
}

// TestFaultRedisRestartedUnderLoadAnswersEveryRequestAndLosesNothing runs
// two instances on one store and one Redis under continuous load from
// eight readers (searches, work pages, account views, e-book borrows,
// returns and holds, physical holds), kills Redis for a few seconds and
// starts it again, the load going on throughout. Every request is
// answered, without a transport error or an INTERNAL error (business
// errors such as CONFLICT are counted); /readyz says "degraded" during
// the outage and "ok" after it, and the search cache serves hits again,
// without a restart; a copy lent through A during the outage leaves B's
// search results; and the store has every loan and hold that was
// answered, with every license's copies accounted for.
func TestFaultRedisRestartedUnderLoadAnswersEveryRequestAndLosesNothing(t *testing.T) {
	c := newCluster(t, 2, "-rate-limit-reader", "10000", "-rate-limit-reader-burst", "100000")
	anon := c.client(0, "")
	admin, _ := c.login(0, "admin@"+demo.StaffEmailDomain)
	titles := []string{
		c.ebookTitle(admin, "outage-copies", map[string]any{"model": "ONE_COPY_ONE_USER", "concurrency": 2}),
		c.ebookTitle(admin, "outage-open", map[string]any{"model": "OPEN_ACCESS"}),
	}
	bn := libraryID(t, anon, "BN")
	desk, _ := c.login(0, demo.LibrarianEmail("BN"))
	const csv = "title,author,isbn,year,publisher,barcode,call number,location\n" +
		"Tắt đèn,Ngô Tất Tố,,2015,NXB Văn học,OUT-TD-1,895.922 NG-T,Kho mở\n" +
		"Số đỏ,Vũ Trọng Phụng,,2016,NXB Văn học,OUT-SD-1,895.922 VU-P,Kho mở\n" +
		"Số đỏ,Vũ Trọng Phụng,,2016,NXB Văn học,OUT-SD-2,895.922 VU-P,Kho mở\n" +
		"Chí Phèo,Nam Cao,,2017,NXB Văn học,OUT-CP-1,895.922 NA-C,Kho mở\n"
	if r := importCSV(t, desk, bn, csv); len(r.Errors) > 0 {
		t.Fatalf("import: %+v", r.Errors)
	}
	onShelf := map[string]any{"availableAt": bn}
	var works []string
	for _, q := range []string{"tat den", "so do", "chi pheo"} {
		for i := range c.nodes {
			eventually(t, fmt.Sprintf("%q found on %s", q, c.nodes[i].name), func() bool {
				h, _ := doSearch(t, c.client(i, ""), q, onShelf)
				return len(h) == 1
			})
		}
		h, _ := doSearch(t, anon, q, nil)
		for id := range h {
			works = append(works, id)
		}
	}
	const n = 8
	load := &outageLoad{t: t, c: c, titles: titles, works: works, pickup: bn,
		queries: []string{"tat den", "Tắt đèn", "so do", "Vũ Trọng Phụng", "chi pheo", "nam cao"},
		loans:   map[string]string{}, ebookHolds: map[string]bool{}, holds: map[string]string{}}
	var readerIDs []string
	for i := range n {
		token, _, id := register(t, anon, fmt.Sprintf("outage-%d@example.vn", i), "BN")
		load.readers = append(load.readers, c.client(0, token))
		readerIDs = append(readerIDs, id)
	}
	lender, _, lenderID := register(t, anon, "outage-desk@example.vn", "BN")
	card, _ := cardOf(t, c.client(0, lender))

	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { load.run(i) })
	}
	t.Cleanup(func() { load.stop.Store(true); wg.Wait() })
	load.waitAnswers(0, 60)

	// Redis dies under the load.
	c.redis.Stop()
	load.phase.Store(1)
	down := time.Now()
	c.waitReadiness("degraded")
	// A copy is lent through A while Redis is down.
	r := desk.do(checkOutM, map[string]any{"in": map[string]any{"libraryId": bn, "cardNumber": card, "barcode": "OUT-TD-1"}})
	if field(r.Data, "checkOut", "loan", "state") != "ACTIVE" {
		t.Fatalf("checkOut through A during the outage: %+v %+v", r.Data, r.Errors)
	}
	// B's index follows the store, not Redis: it shows the change at once.
	took := eventually(t, "B's search without the copy lent through A, during the outage", func() bool {
		h, _ := doSearch(t, c.client(1, ""), "tat den", onShelf)
		return len(h) == 0
	})
	t.Logf("B's search dropped the copy lent through A %v after A answered, Redis down", took.Round(time.Millisecond))
	load.waitAnswers(1, 60)
	if rest := 2*time.Second - time.Since(down); rest > 0 {
		time.Sleep(rest) // the outage lasts a few seconds whatever the machine's speed
	}

	// Redis comes back empty; nothing is restarted.
	c.redis.Restart()
	load.phase.Store(2)
	outage := time.Since(down)
	hits := make([]float64, len(c.nodes))
	for i, node := range c.nodes {
		hits[i] = searchCacheHits(t, node.srv.URL)
	}
	c.waitReadiness("ok")
	for i, node := range c.nodes {
		took := eventually(t, node.name+"'s search cache serving hits again", func() bool {
			return searchCacheHits(t, node.srv.URL) > hits[i]
		})
		t.Logf("%s's search cache served a hit %v after Redis returned", node.name, took.Round(time.Millisecond))
	}
	// After it, B's answer (cached again) and A's agree.
	for i, node := range c.nodes {
		for range 2 {
			if h, _ := doSearch(t, c.client(i, ""), "tat den", onShelf); len(h) != 0 {
				t.Fatalf("%s's search after the outage shows the copy lent through A during it: %v", node.name, h)
			}
		}
	}
	load.waitAnswers(2, 60)
	load.stop.Store(true)
	wg.Wait()
	for p := range phaseNames {
		t.Logf("%s: %s", phaseNames[p], &load.tallies[p])
	}
	t.Logf("Redis was down %v", outage.Round(time.Millisecond))
	if t.Failed() {
		t.FailNow()
	}

	// Nothing answered was lost.
	st := c.nodes[0].app.Stores
	s := readLending(t, st, titles, readerIDs)
	for id, want := range load.loans {
		if got := s.loans[id]; got == nil || string(got.State) != want {
			t.Errorf("loan %s was answered (%s) but the store has %+v", id, want, got)
		}
	}
	for id := range load.ebookHolds {
		if s.holds[id] == nil {
			t.Errorf("e-book hold %s was placed but is not in the store", id)
		}
	}
	problems, _ := s.problems(true)
	for _, p := range problems {
		t.Error(p)
	}
	ids := make([]string, 0, len(load.holds))
	for id := range load.holds {
		ids = append(ids, id)
	}
	holds, err := st.Circulation.HoldsByID(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(holds) != len(ids) {
		t.Errorf("%d holds were placed, the store has %d of them", len(ids), len(holds))
	}
	for _, h := range holds {
		if want := load.holds[h.ID]; (want == "CANCELLED") != (h.State == circulation.HoldCancelled) {
			t.Errorf("hold %s is %s in the store, and the reader was told %s", h.ID, h.State, want)
		}
	}
	for _, p := range copyProblems(t, st, append(readerIDs, lenderID)) {
		t.Error(p)
	}
	t.Logf("%d e-book loans, %d e-book holds and %d holds answered are in the store", len(load.loans), len(load.ebookHolds), len(ids))
}
