package notifications_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/ebooks"
	"github.com/bacninh/thuvienso/events"
	"github.com/bacninh/thuvienso/fcm/fcmtest"
	"github.com/bacninh/thuvienso/lock"
	"github.com/bacninh/thuvienso/notifications"
	"github.com/bacninh/thuvienso/pubsub"
	"github.com/bacninh/thuvienso/search"
	"github.com/bacninh/thuvienso/sqlite"
	"github.com/bacninh/thuvienso/store"
)

// clock is a clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// ict makes a time in the province's zone.
func ict(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, thuvienso.Zone)
}

// env is the notification service on a real SQLite store, pushing to a
// fake FCM server through the real Firebase Admin SDK, on a test clock.
type env struct {
	t      testing.TB
	stores *store.Set
	path   string
	fcm    *fcmtest.Server
	clock  *clock
	broker *pubsub.Memory
	svc    *notifications.Service
	disp   *notifications.Dispatcher
	loans  *fakeLoans
	// index is the catalog search that saved searches run on.
	index *search.Index
	// slots numbers each reader's circulation loans and holds.
	slots map[string]int
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "thuvienso.db"), fcm: fcmtest.NewServer(t),
		clock: &clock{t: ict(3, 16, 10, 0)}, broker: pubsub.NewMemory(16), loans: &fakeLoans{}, slots: map[string]int{}}
	t.Cleanup(func() { _ = e.broker.Close() })
	idx, err := search.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idx.Close() })
	e.index = idx
	e.stores = e.open()
	e.svc, e.disp = e.instance(e.stores)
	return e
}

// open opens the database file (a second Open is what another instance
// of the server does).
func (e *env) open() *store.Set {
	e.t.Helper()
	db, err := sqlite.Open(context.Background(), e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	s := db.Stores()
	e.t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// instance builds a service and a dispatcher on s, as one server does
// (see app.openNotifications): the sources are the fake e-book loans and
// circulation's loans and holds, broadcasts go to the readers of s, and
// saved searches run on the env's search index.
func (e *env) instance(s *store.Set) (*notifications.Service, *notifications.Dispatcher) {
	return e.instanceWith(s, lock.NewMemory(), notifications.DefaultDispatcherConfig())
}

// instanceWith is instance with a locker, a dispatcher configuration and
// more options of the service.
func (e *env) instanceWith(s *store.Set, locker lock.Locker, cfg notifications.DispatcherConfig, opts ...notifications.Option) (*notifications.Service, *notifications.Dispatcher) {
	svc := notifications.NewService(s.Notifications, e.fcm.Sender(e.t), append([]notifications.Option{notifications.WithClock(e.clock.Now),
		notifications.WithBroker(e.broker), notifications.WithLogger(quiet),
		notifications.WithReaders(s.Auth), notifications.WithSearcher(e.index),
		notifications.WithDescriber(func(_ context.Context, data map[string]string) map[string]string {
			switch {
			case data["titleId"] != "":
				return map[string]string{"title": "Truyện Kiều"}
			case data["workId"] != "":
				return map[string]string{"title": "Số đỏ"}
			}
			return nil
		})}, opts...)...)
	disp := notifications.NewDispatcher(svc, s.Events, locker, cfg,
		notifications.EbookLoanSource{Loans: e.loans},
		notifications.CirculationLoanSource{Loans: s.Circulation, Reminds: notifications.DueSoon},
		notifications.CirculationLoanSource{Loans: s.Circulation, Reminds: notifications.Overdue},
		notifications.CirculationHoldSource{Holds: s.Circulation})
	return svc, disp
}

func reader(id string) auth.Actor { return auth.Actor{AccountID: id, Role: auth.RoleReader} }

func (e *env) device(readerID, token string, p notifications.Platform, locale string) {
	e.t.Helper()
	if _, err := e.svc.RegisterDevice(e.t.Context(), reader(readerID), token, p, locale); err != nil {
		e.t.Fatalf("RegisterDevice: %v", err)
	}
}

// reserved records the event of an e-book copy reserved for a reader.
func (e *env) reserved(readerID, holdID string) *events.Event {
	e.t.Helper()
	now := e.clock.Now()
	ev := &events.Event{Key: "ebook-hold-reserved:" + holdID, Kind: events.EbookHoldReserved, ReaderID: readerID,
		SubjectID: holdID, At: now, RecordedAt: now,
		Data: map[string]string{"titleId": "title-1", "deadline": now.Add(72 * time.Hour).UTC().Format(time.RFC3339)}}
	if _, err := e.stores.Events.RecordEvent(e.t.Context(), ev); err != nil {
		e.t.Fatal(err)
	}
	return ev
}

func (e *env) run() notifications.Report {
	e.t.Helper()
	rep, err := e.disp.RunOnce(e.t.Context())
	if err != nil {
		e.t.Fatalf("RunOnce: %v", err)
	}
	return rep
}

func (e *env) inbox(readerID string) []*notifications.Notification {
	e.t.Helper()
	p, err := e.svc.Inbox(e.t.Context(), reader(readerID), 100, "", false)
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Notifications
}

// fakeLoans is the e-book loans a source reads.
type fakeLoans struct {
	mu    sync.Mutex
	loans []*ebooks.Loan
}

func (f *fakeLoans) add(l *ebooks.Loan) { f.mu.Lock(); f.loans = append(f.loans, l); f.mu.Unlock() }

func (f *fakeLoans) ActiveLoansEndingBefore(_ context.Context, t time.Time, limit int) ([]*ebooks.Loan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*ebooks.Loan
	for _, l := range f.loans {
		if !l.EndsAt.After(t) && len(out) < limit {
			out = append(out, l)
		}
	}
	return out, nil
}

func TestAPushReachesEveryDeviceOfTheReaderInItsLanguage(t *testing.T) {
	e := newEnv(t)
	e.device("reader-1", "phone-vi", notifications.Android, "vi-VN")
	e.device("reader-1", "tablet-en", notifications.IOS, "en-US")
	e.device("reader-1", "browser", notifications.Web, "")
	e.device("reader-2", "other-phone", notifications.Android, "vi")
	ev := e.reserved("reader-1", "hold-1")

	rep := e.run()
	if rep.FromEvents != 1 || rep.Events != 1 || rep.Pushes.Sent != 1 || rep.Pushes.Messages != 3 {
		t.Fatalf("report %+v, want one notification pushed to three devices", rep)
	}
	reqs := e.fcm.Requests()
	got := map[string]string{}
	for _, r := range reqs {
		n, _ := r.Message["notification"].(map[string]any)
		got[r.Token], _ = n["title"].(string)
	}
	want := map[string]string{"phone-vi": "Sách điện tử đã sẵn sàng cho bạn", "tablet-en": "Your e-book is ready", "browser": "Sách điện tử đã sẵn sàng cho bạn"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pushes by token %v, want %v", got, want)
	}
	in := e.inbox("reader-1")
	if len(in) != 1 || in[0].Push.State != notifications.PushSent || len(in[0].Push.SentTo) != 3 || in[0].EventKey != ev.Key {
		t.Fatalf("inbox %+v, want one SENT notification of the event reaching 3 devices", in)
	}
	if body := notifications.Render(in[0], "vi").Body; !strings.Contains(body, "Truyện Kiều") {
		t.Errorf("the text %q does not name the title", body)
	}
	if left, _ := e.stores.Events.UnhandledEvents(t.Context(), 10); len(left) != 0 {
		t.Fatalf("%d events left unhandled", len(left))
	}
	if rep := e.run(); rep.FromEvents != 0 || rep.Pushes.Messages != 0 {
		t.Fatalf("a second pass did %+v, want nothing", rep)
	}
	if n := len(e.fcm.Requests()); n != 3 {
		t.Fatalf("%d pushes after two passes, want 3", n)
	}
}

func TestAnUnregisteredTokenIsRemovedAndTheOthersStillGetThePush(t *testing.T) {
	e := newEnv(t)
	e.device("reader-1", "old-phone", notifications.Android, "vi")
	e.device("reader-1", "new-phone", notifications.Android, "vi")
	e.fcm.Script("old-phone", fcmtest.Fixture(t, "404-unregistered.json"))
	e.reserved("reader-1", "hold-1")
	rep := e.run()
	if rep.Pushes.TokensPruned != 1 || rep.Pushes.Sent != 1 {
		t.Fatalf("report %+v, want one token pruned and the push sent", rep.Pushes)
	}
	ds, err := e.svc.Devices(t.Context(), reader("reader-1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Token != "new-phone" {
		t.Fatalf("devices after pruning: %+v, want only new-phone", ds)
	}
	e.reserved("reader-1", "hold-2")
	e.run()
	if got := e.fcm.Delivered(); !slices.Equal(got, []string{"new-phone", "new-phone"}) {
		t.Fatalf("delivered to %v, want new-phone twice", got)
	}
	if s := e.svc.Stats(); s.TokensPruned != 1 || s.Sent != 2 {
		t.Fatalf("stats %+v, want 1 token pruned and 2 pushes sent", s)
	}
}

func TestATransientFailureIsRetriedLaterOnlyForTheDevicesItMissed(t *testing.T) {
	e := newEnv(t)
	e.device("reader-1", "phone", notifications.Android, "vi")
	e.device("reader-1", "tablet", notifications.Android, "vi")
	// FCM is overloaded for the tablet and asks for five minutes: more
	// than the SDK waits, so the service retries on its own.
	e.fcm.Script("tablet", fcmtest.Response{Status: 503, Header: map[string]string{"Retry-After": "300"},
		Body: fcmtest.Fixture(t, "503-unavailable.json").Body})
	e.reserved("reader-1", "hold-1")
	rep := e.run()
	if rep.Pushes.Retrying != 1 {
		t.Fatalf("report %+v, want the push rescheduled", rep.Pushes)
	}
	n := e.inbox("reader-1")[0]
	if n.Push.State != notifications.PushPending || n.Push.Attempts != 1 || !slices.Equal(n.Push.SentTo, []string{"phone"}) ||
		n.Push.At.Before(e.clock.Now().Add(300*time.Second)) {
		t.Fatalf("push %+v, want PENDING after Retry-After, having reached the phone", n.Push)
	}
	e.run() // too early: nothing is sent
	if got := len(e.fcm.Requests()); got != 2 {
		t.Fatalf("%d requests before the retry time, want 2", got)
	}
	e.clock.Add(10 * time.Minute)
	rep = e.run()
	if rep.Pushes.Sent != 1 {
		t.Fatalf("report %+v, want the push sent on retry", rep.Pushes)
	}
	if got := e.fcm.Delivered(); !slices.Equal(got, []string{"phone", "tablet"}) {
		t.Fatalf("delivered to %v, want the phone once and the tablet once", got)
	}
	n = e.inbox("reader-1")[0]
	if n.Push.State != notifications.PushSent || n.Push.Attempts != 2 {
		t.Fatalf("push %+v, want SENT after 2 attempts", n.Push)
	}
}

func TestAPushThatKeepsFailingIsGivenUpButStaysInTheInbox(t *testing.T) {
	e := newEnv(t)
	e.device("reader-1", "phone", notifications.Android, "vi")
	internal := fcmtest.Response{Status: 500, Body: fcmtest.Body(500, "INTERNAL", "Internal error encountered.", "INTERNAL")}
	max := e.svc.Config().MaxAttempts
	for range max {
		e.fcm.Script("phone", internal)
	}
	e.reserved("reader-1", "hold-1")
	for range max {
		e.run()
		e.clock.Add(2 * time.Hour)
	}
	n := e.inbox("reader-1")
	if len(n) != 1 || n[0].Push.State != notifications.PushFailed || n[0].Push.Attempts != max || n[0].Read() {
		t.Fatalf("inbox %+v, want the unread notification with its push FAILED after %d attempts", n, max)
	}
	if got := len(e.fcm.Requests()); got != max {
		t.Fatalf("%d requests, want %d", got, max)
	}
	if unread, _ := e.svc.UnreadCount(t.Context(), reader("reader-1")); unread != 1 {
		t.Fatalf("unread count %d, want 1", unread)
	}
}

func TestQuietHoursDeferThePushButTheInboxHasItAtOnce(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(ict(3, 16, 22, 30))
	e.device("reader-1", "phone", notifications.Android, "vi")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	live, err := e.svc.Subscribe(ctx, reader("reader-1"))
	if err != nil {
		t.Fatal(err)
	}
	e.reserved("reader-1", "hold-1")
	rep := e.run()
	if rep.FromEvents != 1 || rep.Pushes.Claimed != 0 {
		t.Fatalf("report %+v, want the notification created and no push claimed", rep)
	}
	if unread, _ := e.svc.UnreadCount(t.Context(), reader("reader-1")); unread != 1 {
		t.Fatalf("unread count %d at 22:30, want 1", unread)
	}
	select {
	case n := <-live:
		if n.Kind != notifications.EbookHoldReserved {
			t.Fatalf("the open app got %+v", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the open app was not told")
	}
	n := e.inbox("reader-1")[0]
	if want := ict(3, 17, 7, 0); n.Push.State != notifications.PushPending || !n.Push.At.Equal(want) {
		t.Fatalf("push %+v, want PENDING until %v", n.Push, want)
	}
	e.clock.Set(ict(3, 17, 6, 59))
	e.run()
	if got := len(e.fcm.Requests()); got != 0 {
		t.Fatalf("%d pushes before 07:00, want 0", got)
	}
	e.clock.Set(ict(3, 17, 7, 0))
	e.run()
	if got := e.fcm.Delivered(); !slices.Equal(got, []string{"phone"}) {
		t.Fatalf("delivered %v at 07:00, want the phone", got)
	}
}

func TestAReaderWhoChangesQuietHoursGetsTheWaitingPushDeferredAgain(t *testing.T) {
	e := newEnv(t)
	e.device("reader-1", "phone", notifications.Android, "vi")
	e.clock.Set(ict(3, 16, 12, 0))
	// A push is due at noon, but the reader now naps from 11:30 to 13:30.
	if _, err := e.svc.UpdatePreferences(t.Context(), reader("reader-1"), notifications.PreferencesUpdate{
		Quiet: &notifications.QuietHours{Start: 11*60 + 30, End: 13*60 + 30}}); err != nil {
		t.Fatal(err)
	}
	e.reserved("reader-1", "hold-1")
	e.run()
	if n := len(e.fcm.Requests()); n != 0 {
		t.Fatalf("%d pushes in quiet hours", n)
	}
	e.clock.Set(ict(3, 16, 13, 30))
	e.run()
	if n := len(e.fcm.Delivered()); n != 1 {
		t.Fatalf("%d pushes after quiet hours, want 1", n)
	}
}

func TestTwoDispatchersRacingOnOneEventLogNotifyAndPushOnce(t *testing.T) {
	e := newEnv(t)
	// A second server instance: its own connection to the database file,
	// its own service and dispatcher, the same push service.
	svc2, disp2 := e.instance(e.open())
	_ = svc2
	const readers = 20
	for i := range readers {
		id := fmt.Sprintf("reader-%02d", i)
		e.device(id, "phone-"+id, notifications.Android, "vi")
		e.reserved(id, "hold-"+id)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for _, d := range []*notifications.Dispatcher{e.disp, disp2, e.disp, disp2, e.disp, disp2} {
		wg.Go(func() {
			if _, err := d.RunOnce(context.Background()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	delivered := e.fcm.Delivered()
	sort.Strings(delivered)
	if len(delivered) != readers || len(slices.Compact(delivered)) != readers {
		t.Fatalf("%d pushes to %d devices, want %d, each once", len(delivered), len(slices.Compact(delivered)), readers)
	}
	for i := range readers {
		id := fmt.Sprintf("reader-%02d", i)
		if in := e.inbox(id); len(in) != 1 || in[0].Push.State != notifications.PushSent {
			t.Fatalf("inbox of %s: %+v, want one sent notification", id, in)
		}
	}
	if left, _ := e.stores.Events.UnhandledEvents(t.Context(), 100); len(left) != 0 {
		t.Fatalf("%d events unhandled", len(left))
	}
}

func TestTheDispatcherWorksOnlyUnderTheLock(t *testing.T) {
	e := newEnv(t)
	locker := lock.NewMemory()
	disp := notifications.NewDispatcher(e.svc, e.stores.Events, locker, notifications.DefaultDispatcherConfig())
	e.device("reader-1", "phone", notifications.Android, "vi")
	e.reserved("reader-1", "hold-1")
	lease, err := locker.TryObtain(t.Context(), notifications.DefaultDispatcherConfig().LockKey, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := disp.Pass(t.Context()); err != nil || !rep.Empty() {
		t.Fatalf("a pass while another instance holds the lock did %+v, %v; want nothing", rep, err)
	}
	if len(e.inbox("reader-1")) != 0 {
		t.Fatal("a notification was created without the lock")
	}
	if err := lease.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rep, err := disp.Pass(t.Context()); err != nil || rep.FromEvents != 1 || rep.Pushes.Sent != 1 {
		t.Fatalf("a pass with the lock did %+v, %v; want the event notified and pushed", rep, err)
	}
	if _, err := locker.TryObtain(t.Context(), notifications.DefaultDispatcherConfig().LockKey, time.Minute); err != nil {
		t.Fatalf("the pass did not release the lock: %v", err)
	}
}

func TestEbookLoansEndingWithinTwoDaysAreRemindedOnce(t *testing.T) {
	e := newEnv(t)
	e.device("reader-1", "phone", notifications.Android, "en")
	ends := e.clock.Now().Add(72 * time.Hour)
	e.loans.add(&ebooks.Loan{ID: "loan-1", TitleID: "title-1", ReaderID: "reader-1", State: ebooks.LoanActive, EndsAt: ends})
	if rep := e.run(); rep.Reminders != 0 {
		t.Fatalf("a loan ending in 3 days was reminded: %+v", rep)
	}
	e.clock.Add(25 * time.Hour)
	if rep := e.run(); rep.Reminders != 1 || rep.Pushes.Sent != 1 {
		t.Fatalf("report %+v, want one reminder pushed", rep)
	}
	// The e-book expiry pass records its event for the same loan end: the
	// same notification, not a second one.
	if _, err := e.stores.Events.RecordEvent(t.Context(), &events.Event{Key: "ebook-loan-expiring:loan-1", Kind: events.EbookLoanExpiring,
		ReaderID: "reader-1", SubjectID: "loan-1", At: ends, Data: map[string]string{"titleId": "title-1"}}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Minute)
	if rep := e.run(); rep.Reminders != 0 || rep.FromEvents != 0 || rep.Events != 1 {
		t.Fatalf("report %+v, want the event handled without a second notification", rep)
	}
	in := e.inbox("reader-1")
	if len(in) != 1 || in[0].Kind != notifications.EbookExpiring || !in[0].Moment.Equal(ends) {
		t.Fatalf("inbox %+v, want one EBOOK_EXPIRING about the loan's end", in)
	}
	if text := notifications.Render(in[0], "en"); !strings.Contains(text.Body, "Truyện Kiều") || !strings.Contains(text.Body, "19 Mar 2026, 10:00") {
		t.Errorf("text %+v, want the title and the end in the province's time", text)
	}
	if got := len(e.fcm.Requests()); got != 1 {
		t.Fatalf("%d pushes, want 1", got)
	}
}

func TestADisabledKindReachesTheInboxButIsNotPushed(t *testing.T) {
	e := newEnv(t)
	e.device("reader-1", "phone", notifications.Android, "vi")
	kinds := []notifications.Kind{notifications.DueSoon, notifications.Overdue}
	if _, err := e.svc.UpdatePreferences(t.Context(), reader("reader-1"), notifications.PreferencesUpdate{Kinds: &kinds}); err != nil {
		t.Fatal(err)
	}
	e.reserved("reader-1", "hold-1")
	e.run()
	in := e.inbox("reader-1")
	if len(in) != 1 || in[0].Push.State != notifications.PushSkipped {
		t.Fatalf("inbox %+v, want the notification with its push skipped", in)
	}
	if n := len(e.fcm.Requests()); n != 0 {
		t.Fatalf("%d pushes of a disabled kind", n)
	}
}

func TestAClaimWhoseSenderDiedIsNotSentAgain(t *testing.T) {
	e := newEnv(t)
	e.device("reader-1", "phone", notifications.Android, "vi")
	n, created, err := e.svc.Notify(t.Context(), notifications.Request{ReaderID: "reader-1", Kind: notifications.LibraryNews,
		SubjectID: "news-1", Moment: e.clock.Now(), Data: map[string]string{"title": "Ngày hội đọc sách", "body": "Mời bạn đến thư viện."}})
	if err != nil || !created {
		t.Fatalf("Notify: %v, %v", created, err)
	}
	// Another instance claimed it and died while sending.
	if _, err := e.stores.Notifications.ClaimPush(t.Context(), n.ID, e.clock.Now(), e.clock.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Minute)
	rep, err := e.svc.DeliverDue(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.StaleClaims != 1 || rep.Messages != 0 {
		t.Fatalf("report %+v, want the stale claim failed and nothing sent", rep)
	}
	got, err := e.svc.Notification(t.Context(), reader("reader-1"), n.ID)
	if err != nil || got.Push.State != notifications.PushFailed {
		t.Fatalf("notification %+v, %v; want its push FAILED", got, err)
	}
}

func TestTheInboxPagesNewestFirstAndMarksRead(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		if _, _, err := e.svc.Notify(t.Context(), notifications.Request{ReaderID: "reader-1", Kind: notifications.LibraryNews,
			SubjectID: fmt.Sprintf("news-%d", i), Moment: e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Minute)
	}
	r := reader("reader-1")
	var seen []string
	after := ""
	for {
		p, err := e.svc.Inbox(t.Context(), r, 2, after, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range p.Notifications {
			seen = append(seen, n.SubjectID)
		}
		if !p.HasNextPage {
			break
		}
		after = notifications.EncodeCursor(notifications.CursorOf(p.Notifications[len(p.Notifications)-1]))
	}
	if want := []string{"news-4", "news-3", "news-2", "news-1", "news-0"}; !slices.Equal(seen, want) {
		t.Fatalf("pages gave %v, want %v", seen, want)
	}
	if _, err := e.svc.Inbox(t.Context(), r, 2, "not-a-cursor", false); !errors.Is(err, notifications.ErrBadCursor) {
		t.Fatalf("a bad cursor gave %v", err)
	}
	first := e.inbox("reader-1")[0]
	if _, err := e.svc.MarkRead(t.Context(), reader("reader-2"), first.ID); !errors.Is(err, thuvienso.ErrNotFound) {
		t.Fatalf("another reader marking it read: %v, want not found", err)
	}
	n, err := e.svc.MarkRead(t.Context(), r, first.ID)
	if err != nil || !n.Read() {
		t.Fatalf("MarkRead: %+v, %v", n, err)
	}
	if unread, _ := e.svc.UnreadCount(t.Context(), r); unread != 4 {
		t.Fatalf("unread %d, want 4", unread)
	}
	if k, err := e.svc.MarkAllRead(t.Context(), r); err != nil || k != 4 {
		t.Fatalf("MarkAllRead = %d, %v; want 4", k, err)
	}
	if unread, _ := e.svc.UnreadCount(t.Context(), r); unread != 0 {
		t.Fatalf("unread %d, want 0", unread)
	}
	if _, err := e.svc.Inbox(t.Context(), auth.Actor{}, 10, "", false); !errors.Is(err, thuvienso.ErrUnauthenticated) {
		t.Fatalf("an anonymous inbox: %v", err)
	}
}

func TestDevicesMoveBetweenAccountsAndAreCapped(t *testing.T) {
	e := newEnv(t)
	e.device("reader-1", "shared-tablet", notifications.Android, "vi")
	e.device("reader-2", "shared-tablet", notifications.Android, "en")
	if ds, _ := e.svc.Devices(t.Context(), reader("reader-1")); len(ds) != 0 {
		t.Fatalf("reader-1 still has %+v after the tablet was logged in by reader-2", ds)
	}
	for i := range 12 {
		e.clock.Add(time.Second)
		e.device("reader-3", fmt.Sprintf("d-%02d", i), notifications.IOS, "vi")
	}
	ds, _ := e.svc.Devices(t.Context(), reader("reader-3"))
	if len(ds) != 10 || ds[0].Token != "d-02" {
		t.Fatalf("reader-3 has %d devices from %s, want the newest 10", len(ds), ds[0].Token)
	}
	for _, tc := range []struct {
		token    string
		platform notifications.Platform
		want     error
	}{
		{"", notifications.Android, notifications.ErrBadToken},
		{strings.Repeat("x", 5000), notifications.Android, notifications.ErrBadToken},
		{"t", "BLACKBERRY", notifications.ErrBadPlatform},
	} {
		if _, err := e.svc.RegisterDevice(t.Context(), reader("reader-1"), tc.token, tc.platform, "vi"); !errors.Is(err, tc.want) {
			t.Errorf("RegisterDevice(%.10q, %s) = %v, want %v", tc.token, tc.platform, err, tc.want)
		}
	}
	if ok, err := e.svc.UnregisterDevice(t.Context(), reader("reader-1"), "shared-tablet"); err != nil || ok {
		t.Fatalf("reader-1 unregistered reader-2's tablet: %v, %v", ok, err)
	}
	if ok, err := e.svc.UnregisterDevice(t.Context(), reader("reader-2"), "shared-tablet"); err != nil || !ok {
		t.Fatalf("UnregisterDevice: %v, %v", ok, err)
	}
}
