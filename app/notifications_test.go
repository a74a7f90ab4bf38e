package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/config"
	"github.com/bacninh/thuvienso/events"
	"github.com/bacninh/thuvienso/fcm/fcmtest"
	"github.com/bacninh/thuvienso/notifications"
)

// A server configured with a Firebase project pushes the notifications of
// recorded events through FCM, by its own dispatcher loop, and counts them
// in /metrics.
func TestTheServerPushesEventsThroughFirebaseWhenConfigured(t *testing.T) {
	fake := fcmtest.NewServer(t)
	cfg, err := config.Load([]string{"-data-dir", t.TempDir(), "-demo", "never",
		"-fcm-endpoint", fake.URL, "-firebase-project-id", fcmtest.ProjectID}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	// Ten in the morning in Bắc Ninh: outside the default quiet hours.
	clock := &testClock{t: time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)}
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Server)
	t.Cleanup(func() {
		srv.Close()
		_ = a.Close(context.Background())
	})
	ctx := t.Context()
	r := auth.Actor{AccountID: "reader-1", Role: auth.RoleReader}
	if _, err := a.Notifications.RegisterDevice(ctx, r, "phone", notifications.Android, "vi"); err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	if _, err := a.Stores.Events.RecordEvent(ctx, &events.Event{Key: "ebook-hold-reserved:h-1", Kind: events.EbookHoldReserved,
		ReaderID: "reader-1", SubjectID: "h-1", At: now, Data: map[string]string{"deadline": now.Add(72 * time.Hour).Format(time.RFC3339)}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * DispatchInterval)
	for len(fake.Delivered()) == 0 && time.Now().Before(deadline) {
		// The loop may be between passes: a pass of our own (or the
		// loop's, holding the lock) moves the push along.
		if _, err := a.NotificationDispatcher.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	unread, err := a.Notifications.UnreadCount(ctx, r)
	if err != nil || unread != 1 {
		t.Fatalf("unread count %d, %v; want 1", unread, err)
	}
	if got := fake.Delivered(); len(got) != 1 || got[0] != "phone" {
		t.Fatalf("FCM got %v, want one push to the phone", got)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "thuvienso_pushes_sent_total 1") {
		t.Fatalf("/metrics does not count the push:\n%s", grepLines(string(b), "thuvienso_push"))
	}
}

// Without Firebase settings, pushes are logged and the inbox works.
func TestWithoutFirebaseSettingsPushesAreLogged(t *testing.T) {
	a, _ := testApp(t, t.TempDir(), "never")
	s, err := a.pushSender(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(notifications.LogSender); !ok {
		t.Fatalf("the sender is %T, want notifications.LogSender", s)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// The server's dispatcher reminds readers of circulation's due dates,
// fans broadcasts out to the readers the accounts store lists, and runs
// saved searches on the instance's search index.
func TestTheServerRemindsOfDueDatesAndFansOutBroadcasts(t *testing.T) {
	fake := fcmtest.NewServer(t)
	cfg, err := config.Load([]string{"-data-dir", t.TempDir(), "-demo", "never",
		"-fcm-endpoint", fake.URL, "-firebase-project-id", fcmtest.ProjectID}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)} // 10:00 in Bắc Ninh
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	ctx := t.Context()
	now := clock.Now()
	if err := a.Stores.Auth.CreateAccount(ctx, &auth.Account{ID: "reader-1", Name: "Trần Thị Mai", PasswordHash: "x",
		Role: auth.RoleReader, Category: auth.CategoryAdult, HomeLibraryID: "lib-1", Language: "vi", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	r := auth.Actor{AccountID: "reader-1", Role: auth.RoleReader}
	if _, err := a.Notifications.RegisterDevice(ctx, r, "phone", notifications.Android, "vi"); err != nil {
		t.Fatal(err)
	}
	if err := a.Stores.Circulation.CreateLoan(ctx, &circulation.Loan{ID: "loan-1", ReaderID: "reader-1", Barcode: "BC-1",
		WorkID: "work-1", LibraryID: "lib-1", ItemLibraryID: "lib-1", State: circulation.LoanActive,
		CheckedOutAt: now.Add(-11 * 24 * time.Hour), DueAt: now.Add(72 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Notifications.SendBroadcast(ctx, auth.Actor{AccountID: "admin-1", Role: auth.RoleAdmin},
		notifications.BroadcastInput{Title: "Thư viện nghỉ Tết", Body: "Thư viện nghỉ từ 28 tháng Chạp."}); err != nil {
		t.Fatal(err)
	}
	saved, err := a.Notifications.SaveSearch(ctx, r, notifications.SaveSearchInput{Name: "Thơ mới", Query: "thơ"})
	if err != nil || saved.LastRunAt == nil {
		t.Fatalf("SaveSearch: %+v, %v; want it run on the index at once", saved, err)
	}
	// The dispatcher's loop may have scanned the sources before the loan
	// was made; a minute on, the next pass scans them again.
	clock.Advance(notifications.DefaultDispatcherConfig().ScanEvery)
	deadline := time.Now().Add(3 * DispatchInterval)
	for len(fake.Delivered()) < 2 && time.Now().Before(deadline) {
		if _, err := a.NotificationDispatcher.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p, err := a.Notifications.Inbox(ctx, r, 10, "", false)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[notifications.Kind]int{}
	for _, n := range p.Notifications {
		kinds[n.Kind]++
	}
	if len(p.Notifications) != 2 || kinds[notifications.DueSoon] != 1 || kinds[notifications.LibraryNews] != 1 {
		t.Fatalf("inbox %v, want a due-soon reminder and the library's news", kinds)
	}
	if got := fake.Delivered(); len(got) != 2 {
		t.Fatalf("FCM got %v, want two pushes to the phone", got)
	}
}
