package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/config"
	"github.com/bacninh/thuvienso/demo"
	"github.com/bacninh/thuvienso/events"
	"github.com/bacninh/thuvienso/notifications"
)

// The test binary doubles as the server a fault test kills: run with
// faultChildEnv naming a data folder, it serves the service on that folder
// (as `thuvienso serve` does, on a free loopback port it prints as
// "listening <addr>") until it is signalled or killed. Re-running the test
// binary costs no build, and the child runs under the race detector too.
const (
	faultChildEnv = "THUVIENSO_FAULT_CHILD_DATA_DIR"
	// faultClockEnv moves the child's clock (a Go duration), so that the
	// scheduler finds deadlines due without the test waiting days.
	faultClockEnv = "THUVIENSO_FAULT_CHILD_CLOCK"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(faultChildEnv); dir != "" {
		os.Exit(runFaultChild(dir))
	}
	os.Exit(m.Run())
}

// runFaultChild serves the service on dir until SIGTERM; it returns the
// exit code.
func runFaultChild(dir string) int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := config.Load([]string{"-data-dir", dir, "-addr", "127.0.0.1:0", "-demo", "auto", "-demo-catalog=false",
		"-rate-limit-ip", "0", "-rate-limit-reader", "0"}, func(string) string { return "" })
	if err != nil {
		logger.Error("fault child: config", "err", err)
		return 2
	}
	var opts []Option
	if v := os.Getenv(faultClockEnv); v != "" {
		offset, err := time.ParseDuration(v)
		if err != nil {
			logger.Error("fault child: clock offset", "err", err)
			return 2
		}
		opts = append(opts, WithClock(func() time.Time { return time.Now().Add(offset) }))
	}
	a, err := New(ctx, cfg, logger, opts...)
	if err != nil {
		logger.Error("fault child: start", "err", err)
		return 1
	}
	defer func() { _ = a.Close(context.Background()) }()
	errc := make(chan error, 1)
	go func() { errc <- a.Server.ListenAndServe(ctx, cfg.Addr) }()
	select {
	case <-a.Server.Listening():
	case err := <-errc:
		logger.Error("fault child: listen", "err", err)
		return 1
	}
	fmt.Printf("listening %s\n", a.Server.Addr())
	if err := <-errc; err != nil {
		logger.Error("fault child: serve", "err", err)
		return 1
	}
	return 0
}

// childServer is the service running in a child process on a data folder.
type childServer struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	logs *syncLog
	done chan struct{}
}

// syncLog keeps a child's standard error for the failure report.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// childStartDeadline bounds a child's start: the first one seeds the demo
// province (hundreds of accounts, argon2id) under the race detector on a
// busy machine.
const childStartDeadline = 3 * time.Minute

// startChild runs the service on dir in a child process, its clock moved
// by offset, and waits until it listens. The child is killed when the test
// ends.
func startChild(t *testing.T, dir string, offset time.Duration) *childServer {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), faultChildEnv+"="+dir, faultClockEnv+"="+offset.String())
	logs := &syncLog{}
	cmd.Stderr = logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &childServer{t: t, cmd: cmd, logs: logs, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				addr <- a
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() { _ = cmd.Wait(); close(c.done) }()
	t.Cleanup(c.kill)
	select {
	case a := <-addr:
		c.url = "http://" + a
	case <-c.done:
		t.Fatalf("the server exited at start: %v\n%s", cmd.ProcessState, logs)
	case <-time.After(childStartDeadline):
		c.kill()
		t.Fatalf("the server did not listen within %v\n%s", childStartDeadline, logs)
	}
	return c
}

// kill ends the child with SIGKILL, as a crash or the OOM killer would,
// and waits for it.
func (c *childServer) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// stop ends the child with SIGTERM (a graceful shutdown) and waits for it.
func (c *childServer) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(time.Minute):
		c.kill()
	}
}

// checkRaces fails the test if the child, which runs under the race
// detector when the test does, reported a data race.
func (c *childServer) checkRaces() {
	c.t.Helper()
	if logs := c.logs.String(); strings.Contains(logs, "DATA RACE") {
		c.t.Errorf("the server reported a data race:\n%s", logs)
	}
}

// as is a client of the child with token.
func (c *childServer) as(token string) *client {
	return &client{t: c.t, url: c.url, token: token, lang: "en"}
}

// killReader is one reader of the kill test.
type killReader struct {
	token, id, card, barcode string
}

// pendingOp is a request whose answer the client never got: the server
// died while it was in flight. The client retries it after the restart.
type pendingOp struct {
	reader int
	kind   string // "borrow", "return", "checkOut", "checkIn"
	title  string
	key    string
	loanID string
}

// keyedAnswer is the e-book loan a borrow with an idempotency key was
// answered with.
type keyedAnswer struct {
	reader int
	title  string
	loanID string
}

// killRound is what the load of one round between two kills saw.
type killRound struct {
	mu sync.Mutex
	// keyed are the e-book loans answered, by idempotency key.
	keyed map[string]keyedAnswer
	// holds are the e-book holds placed.
	holds   map[string]bool
	pending []pendingOp
	// ops counts answered requests (for the kill point).
	ops    atomic.Int64
	killed atomic.Bool
	tally  tally
}

func (k *killRound) pend(p pendingOp) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.pending = append(k.pending, p)
}

const (
	killBorrowM   = `mutation($in: BorrowEbookInput!) { borrowEbook(input: $in) { loan { id state } hold { id state } } }`
	killReturnM   = `mutation($id: ID!) { returnEbook(input: {loanId: $id}) { loan { id state } } }`
	killCheckInM  = `mutation($lib: ID!, $bc: String!) { checkIn(input: {libraryId: $lib, barcode: $bc}) { action loan { state } } }`
	killAccountQ  = `{ me { id } myEbookLoans { edges { node { id state } } } myEbookHolds { edges { node { id state } } } myLoans { totalCount } }`
	killCheckOutM = `mutation($in: CheckOutInput!) { checkOut(input: $in) { loan { id state } } }`
)

// killLoad is the load of the kill test: each reader borrows the titles
// in turn with an idempotency key (every third time joining the queue
// when no copy is free), returns the older of two loans, has their own
// copy checked out and in at the desk, and looks at their account, until
// the server dies under it.
type killLoad struct {
	t       *testing.T
	round   int
	url     string
	desk    string // the librarian's token
	deskLib string
	titles  []string
	readers []killReader
	r       *killRound
}

// run is reader i's loop; it returns once a request fails because the
// server was killed (recording it as pending), or on a failure the test
// reports.
func (l *killLoad) run(i int) {
	rd := &client{t: l.t, url: l.url, token: l.readers[i].token}
	desk := &client{t: l.t, url: l.url, token: l.desk}
	var mine []string // this reader's active loans, oldest first
	// call sends one request; false means stop (the server is gone).
	call := func(c *client, what string, q string, vars map[string]any, p pendingOp) (gqlResponse, bool) {
		r, err := c.try(q, vars)
		if err != nil {
			if l.r.killed.Load() {
				l.r.pend(p)
			} else {
				l.t.Errorf("reader %d, %s: %v", i, what, err)
			}
			return r, false
		}
		outcome, problem := answered(r)
		l.r.tally.add(what + " " + outcome)
		if problem != nil {
			l.t.Errorf("reader %d, %s: %v", i, what, problem)
		}
		l.r.ops.Add(1)
		return r, true
	}
	// The reader's app shows their loans first (those of earlier rounds
	// included).
	r, ok := call(rd, "account", killAccountQ, nil, pendingOp{reader: i, kind: "account"})
	if !ok {
		return
	}
	edges, _ := field(r.Data, "myEbookLoans", "edges").([]any)
	for _, e := range edges {
		if n, _ := e.(map[string]any)["node"].(map[string]any); n != nil && n["state"] == "ACTIVE" {
			mine = append(mine, n["id"].(string))
		}
	}
	for seq := 0; ; seq++ {
		title := l.titles[(i+seq)%len(l.titles)]
		key := fmt.Sprintf("round%d-reader%d-%d", l.round, i, seq)
		r, ok := call(rd, "borrowEbook", killBorrowM, map[string]any{"in": map[string]any{
			"titleId": title, "idempotencyKey": key, "holdIfUnavailable": seq%3 == 0}},
			pendingOp{reader: i, kind: "borrow", title: title, key: key})
		if !ok {
			return
		}
		if id, _ := field(r.Data, "borrowEbook", "loan", "id").(string); id != "" {
			l.r.mu.Lock()
			l.r.keyed[key] = keyedAnswer{reader: i, title: title, loanID: id}
			l.r.mu.Unlock()
			if !slices.Contains(mine, id) {
				mine = append(mine, id)
			}
		}
		if id, _ := field(r.Data, "borrowEbook", "hold", "id").(string); id != "" {
			l.r.mu.Lock()
			l.r.holds[id] = true
			l.r.mu.Unlock()
		}
		if len(mine) > 1 {
			id := mine[0]
			if _, ok := call(rd, "returnEbook", killReturnM, map[string]any{"id": id}, pendingOp{reader: i, kind: "return", loanID: id}); !ok {
				return
			}
			mine = mine[1:]
		}
		// The reader's own copy goes out at the desk and comes back at
		// the next visit.
		switch bc := l.readers[i].barcode; seq % 3 {
		case 1:
			if _, ok := call(desk, "checkOut", killCheckOutM, map[string]any{"in": map[string]any{"libraryId": l.deskLib,
				"cardNumber": l.readers[i].card, "barcode": bc, "idempotencyKey": key}},
				pendingOp{reader: i, kind: "checkOut", key: key}); !ok {
				return
			}
		case 2:
			if _, ok := call(desk, "checkIn", killCheckInM, map[string]any{"lib": l.deskLib, "bc": bc},
				pendingOp{reader: i, kind: "checkIn"}); !ok {
				return
			}
		}
		if seq%4 == 3 {
			if _, ok := call(rd, "account", killAccountQ, nil, pendingOp{reader: i, kind: "account"}); !ok {
				return
			}
		}
	}
}

// TestFaultKilledServerLosesNoLoanOrCopyAndDoublesNoNotification runs the
// server as a child process on a data folder and, three times, kills it
// with SIGKILL in the middle of concurrent e-book borrows, returns, holds
// and desk check-outs, at a random point, then restarts it on the same
// folder. Clients retry what was in flight with the same idempotency key
// and get one answer, the same on every retry, and every key answered
// before the kill gets that answer again after it. Through the store: no
// active loan lacks its copy, no license's counters disagree with its
// copies in use or go negative, and once the restarted scheduler has
// reclaimed what a crash left between "take the copy" and "record the
// loan", no copy is held by anything but a live loan or reservation and
// metered licenses used one checkout per loan. Finally the scheduler, with
// the clock moved so that every loan's end is near, is killed while it
// makes reminders and run again: each active loan gets its reminder once.
func TestFaultKilledServerLosesNoLoanOrCopyAndDoublesNoNotification(t *testing.T) {
	started := time.Now()
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	ctx := context.Background()
	dir := t.TempDir()
	srv := startChild(t, dir, 0)
	t.Logf("first start (seeding the demo province) took %v", time.Since(started).Round(time.Millisecond))

	cfg, err := config.Load([]string{"-data-dir", dir}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	st, err := OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })

	anon := srv.as("")
	loginAs := func(email string) string {
		t.Helper()
		r := anon.do(loginMutation, map[string]any{"login": email, "pw": demo.Password})
		tok, _ := field(r.Data, "login", "accessToken").(string)
		if tok == "" {
			t.Fatalf("login %s: %+v", email, r.Errors)
		}
		return tok
	}
	shop := &demoEnv{t: t, admin: srv.as(loginAs("admin@" + demo.StaffEmailDomain))}
	titles := []string{
		shop.title("kill-copies", map[string]any{"model": "ONE_COPY_ONE_USER", "concurrency": 3}),
		shop.title("kill-metered", map[string]any{"model": "METERED_CHECKOUTS", "concurrency": 2, "checkouts": 1000}),
		shop.title("kill-open", map[string]any{"model": "OPEN_ACCESS"}),
	}
	deskToken := loginAs(demo.LibrarianEmail("BN"))
	bn := libraryID(t, anon, "BN")
	const n = 8
	csv := "title,author,isbn,year,publisher,barcode,call number,location\n"
	for i := range n {
		csv += fmt.Sprintf("Chinh phụ ngâm,Đặng Trần Côn,,2014,NXB Văn học,KILL-%d,895.922 DA-C,Kho mở\n", i)
	}
	if r := importCSV(t, srv.as(deskToken), bn, csv); len(r.Errors) > 0 {
		t.Fatalf("import: %+v", r.Errors)
	}
	readers := make([]killReader, n)
	readerIDs := make([]string, n)
	for i := range readers {
		tok, _, id := register(t, anon, fmt.Sprintf("kill-%d@example.vn", i), "BN")
		card, _ := cardOf(t, srv.as(tok))
		readers[i] = killReader{token: tok, id: id, card: card, barcode: fmt.Sprintf("KILL-%d", i)}
		readerIDs[i] = id
	}

	const rounds = 3
	totalOrphans := 0
	for round := range rounds {
		kr := &killRound{keyed: map[string]keyedAnswer{}, holds: map[string]bool{}}
		load := &killLoad{t: t, round: round, url: srv.url, desk: deskToken, deskLib: bn, titles: titles, readers: readers, r: kr}
		var wg sync.WaitGroup
		for i := range readers {
			wg.Go(func() { load.run(i) })
		}
		killAt := int64(30 + rng.IntN(90))
		deadline := time.Now().Add(faultDeadline)
		for kr.ops.Load() < killAt && !t.Failed() && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		kr.killed.Store(true)
		srv.kill()
		srv.checkRaces()
		wg.Wait()
		if got := kr.ops.Load(); got < killAt && !t.Failed() {
			t.Fatalf("round %d: %d answers in %v, wanted %d before the kill", round+1, got, faultDeadline, killAt)
		}
		if t.Failed() {
			t.Fatalf("round %d failed under load; the server said:\n%s", round+1, srv.logs)
		}
		t.Logf("round %d: killed after %d answers (%s); %d requests in flight", round+1, kr.ops.Load(), &kr.tally, len(kr.pending))

		// The restarted server answers what was in flight, once.
		srv = startChild(t, dir, 0)
		desk := srv.as(deskToken)
		for _, p := range kr.pending {
			rd := srv.as(readers[p.reader].token)
			switch p.kind {
			case "borrow":
				in := map[string]any{"in": map[string]any{"titleId": p.title, "idempotencyKey": p.key, "holdIfUnavailable": true}}
				first, second := rd.do(killBorrowM, in), rd.do(killBorrowM, in)
				for _, r := range []gqlResponse{first, second} {
					if _, problem := answered(r); problem != nil {
						t.Errorf("borrow %s retried after the restart: %v", p.key, problem)
					}
				}
				a, _ := field(first.Data, "borrowEbook", "loan", "id").(string)
				b, _ := field(second.Data, "borrowEbook", "loan", "id").(string)
				if a != b {
					t.Errorf("borrow %s retried twice after the restart: loan %q, then %q", p.key, a, b)
				}
				if a != "" {
					kr.keyed[p.key] = keyedAnswer{reader: p.reader, title: p.title, loanID: a}
				}
				if h, _ := field(first.Data, "borrowEbook", "hold", "id").(string); h != "" {
					kr.holds[h] = true
				}
			case "return":
				r := rd.do(killReturnM, map[string]any{"id": p.loanID})
				if field(r.Data, "returnEbook", "loan", "state") != "RETURNED" {
					t.Errorf("return of %s retried after the restart: %+v %+v", p.loanID, r.Data, r.Errors)
				}
			case "checkOut":
				r := desk.do(killCheckOutM, map[string]any{"in": map[string]any{"libraryId": bn,
					"cardNumber": readers[p.reader].card, "barcode": readers[p.reader].barcode, "idempotencyKey": p.key}})
				if _, problem := answered(r); problem != nil {
					t.Errorf("checkOut %s retried after the restart: %v", p.key, problem)
				}
			case "checkIn":
				r := desk.do(killCheckInM, map[string]any{"lib": bn, "bc": readers[p.reader].barcode})
				if _, problem := answered(r); problem != nil {
					t.Errorf("checkIn of %s after the restart: %v", readers[p.reader].barcode, problem)
				}
			}
		}
		// Every borrow answered with a loan, before the kill or after it,
		// is answered with the same loan when retried now.
		for key, a := range kr.keyed {
			r := srv.as(readers[a.reader].token).do(killBorrowM, map[string]any{"in": map[string]any{"titleId": a.title, "idempotencyKey": key}})
			if got, _ := field(r.Data, "borrowEbook", "loan", "id").(string); got != a.loanID {
				t.Errorf("borrow %s retried after the restart: %+v %+v, want loan %s", key, r.Data, r.Errors, a.loanID)
			}
		}
		s := readLending(t, st, titles, readerIDs)
		for id := range kr.holds {
			if s.holds[id] == nil {
				t.Errorf("hold %s was placed but is not in the store", id)
			}
		}
		problems, orphans := s.problems(false)
		for _, p := range problems {
			t.Errorf("after kill %d: %s", round+1, p)
		}
		for _, p := range copyProblems(t, st, readerIDs) {
			t.Errorf("after kill %d: %s", round+1, p)
		}
		totalOrphans += orphans
		t.Logf("round %d: %d retried requests answered, %d keyed loans confirmed, %d copies held by nothing live (left for the expiry pass)",
			round+1, len(kr.pending), len(kr.keyed), orphans)
		if t.Failed() {
			t.Fatalf("after kill %d; the server said:\n%s", round+1, srv.logs)
		}
	}

	// The scheduler, 13 days on: every 14-day loan ends within two days,
	// so each gets an EBOOK_EXPIRING reminder; the restarted expiry pass
	// also reclaims the copies that the kills left without a loan. Kill it
	// as soon as the first reminder is made, and run it again.
	srv.kill()
	srv.checkRaces()
	const later = 13 * 24 * time.Hour
	reminders := func() (map[string]int, int) {
		byLoan, total := map[string]int{}, 0
		for _, id := range readerIDs {
			ns, err := st.Notifications.Notifications(ctx, notifications.ListQuery{ReaderID: id, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range ns {
				total++
				if n.Kind == notifications.EbookExpiring {
					byLoan[n.SubjectID]++
				}
			}
		}
		return byLoan, total
	}
	srv = startChild(t, dir, later)
	waitFor(t, "the first reminder", faultDeadline, func() bool { m, _ := reminders(); return len(m) > 0 })
	srv.kill()
	srv.checkRaces()
	first, _ := reminders()
	// An hour further on: a copy the last kill left taken between its seat
	// and its hold's reservation is past the expiry pass's grace
	// (ebooks.Config.SeatGrace), so the pass may give it back.
	srv = startChild(t, dir, later+time.Hour)
	active := map[string]bool{}
	for _, l := range readLending(t, st, titles, readerIDs).loans {
		if l.State == "ACTIVE" {
			active[l.ID] = true
		}
	}
	waitFor(t, "a reminder for every active loan, every event handled and every copy the kills left reclaimed", faultDeadline, func() bool {
		m, _ := reminders()
		for id := range active {
			if m[id] == 0 {
				return false
			}
		}
		evs, err := st.Events.UnhandledEvents(ctx, 1)
		if err != nil || len(evs) > 0 {
			return false
		}
		problems, orphans := readLending(t, st, titles, readerIDs).problems(true)
		return orphans == 0 && len(problems) == 0
	})
	srv.stop()
	srv.checkRaces()
	if code := srv.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("the server exited with %d after SIGTERM:\n%s", code, srv.logs)
	}
	byLoan, total := reminders()
	t.Logf("reminders: %d made before the kill, %d after the restart (%d active loans, %d notifications in all)", len(first), len(byLoan), len(active), total)
	for id, c := range byLoan {
		if c != 1 {
			t.Errorf("loan %s has %d EBOOK_EXPIRING notifications, want 1", id, c)
		}
		if !active[id] {
			t.Errorf("loan %s, not active, has an EBOOK_EXPIRING notification", id)
		}
	}
	// Every notification stands for one event or deadline: none twice.
	for _, id := range readerIDs {
		ns, err := st.Notifications.Notifications(ctx, notifications.ListQuery{ReaderID: id, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, n := range ns {
			k := fmt.Sprint(n.Kind, " ", n.SubjectID, " ", n.Moment.UTC())
			if seen[k] {
				t.Errorf("reader %s has the notification %s twice", id, k)
			}
			seen[k] = true
		}
	}
	evs, err := st.Events.EventsForReader(ctx, readerIDs[0], 1000)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[events.Kind]int{}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	t.Logf("events of reader 1: %v", kinds)

	// Settled: nothing holds a copy but a live loan or reservation, and
	// metered licenses used one checkout per loan.
	problems, orphans := readLending(t, st, titles, readerIDs).problems(true)
	for _, p := range problems {
		t.Errorf("after the kills and the scheduler: %s", p)
	}
	for _, p := range copyProblems(t, st, readerIDs) {
		t.Errorf("after the kills and the scheduler: %s", p)
	}
	t.Logf("%d copies found without a live holder after the kills (summed over the rounds), %d after the restarted expiry pass; whole test %v",
		totalOrphans, orphans, time.Since(started).Round(time.Millisecond))
	if t.Failed() {
		t.Logf("the server said:\n%s", srv.logs)
	}
}
