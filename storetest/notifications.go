package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/notifications"
	"github.com/bacninh/thuvienso/store"
)

// newNotification returns a notification with every field set, created
// at t0 plus created.
func newNotification(id, reader, subject string, created time.Duration) *notifications.Notification {
	moment := at(48 * time.Hour)
	return &notifications.Notification{
		ID: id, ReaderID: reader, Kind: notifications.EbookExpiring, SubjectID: subject, Moment: moment,
		DedupKey:  notifications.DedupKey(reader, notifications.EbookExpiring, subject, moment),
		EventKey:  "ebook-loan-expiring:" + subject,
		Data:      map[string]string{"title": "Truyện Kiều", "titleId": "title-1", "ghi chú": communeNFD},
		CreatedAt: at(created),
		Push: notifications.Push{State: notifications.PushPending, At: at(created), SentTo: []string{},
			Error: ""},
	}
}

// wantNotification fails t unless got is want as a store returns it.
func wantNotification(t *testing.T, what string, got, want *notifications.Notification) {
	t.Helper()
	w := *want
	w.Moment, w.CreatedAt, w.ReadAt = w.Moment.UTC(), w.CreatedAt.UTC(), utcPtr(w.ReadAt)
	w.Push.At, w.Push.ClaimedUntil = w.Push.At.UTC(), utcPtr(w.Push.ClaimedUntil)
	if w.Push.SentTo == nil {
		w.Push.SentTo = []string{}
	}
	if w.Data == nil {
		w.Data = map[string]string{}
	}
	wantUTC(t, what, got.Moment, got.CreatedAt, got.Push.At)
	mustEqual(t, what, *got, w)
}

// ids returns the IDs of ns.
func ids(ns []*notifications.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// notificationsOf fails t unless the Set has a notification store.
func notificationsOf(t *testing.T, s *store.Set) notifications.Store {
	t.Helper()
	if s.Notifications == nil {
		t.Fatal("Set.Notifications is nil")
	}
	return s.Notifications
}

// notificationTests are the contract of notifications.Store. The
// concurrency tests race 50 goroutines (10 on a server that runs one
// command at a time, see Options).
func notificationTests(o Options) []test {
	racers := 50
	if o.SerialisedCommands {
		racers = 10
	}
	return append([]test{
		{"Notifications/DevicesRoundTripAndTokenMovesToTheNewReader", func(t *testing.T, s *store.Set) {
			ctx, ns := t.Context(), notificationsOf(t, s)
			a1 := &notifications.Device{Token: "tok-a1", ReaderID: "reader-a", Platform: notifications.Android, Locale: "vi", RegisteredAt: at(time.Second)}
			a2 := &notifications.Device{Token: "tok-a2", ReaderID: "reader-a", Platform: notifications.IOS, Locale: "en", RegisteredAt: at(2 * time.Second)}
			b1 := &notifications.Device{Token: "tok-b1", ReaderID: "reader-b", Platform: notifications.Web, Locale: "", RegisteredAt: at(3 * time.Second)}
			for _, d := range []*notifications.Device{a2, b1, a1} {
				must(t, "SaveDevice "+d.Token, ns.SaveDevice(ctx, d))
			}
			got, err := ns.Devices(ctx, "reader-a")
			must(t, "Devices", err)
			want := []notifications.Device{*a1, *a2}
			for i := range want {
				want[i].RegisteredAt = want[i].RegisteredAt.UTC()
			}
			if len(got) != 2 {
				t.Fatalf("Devices(reader-a): %d devices, want 2", len(got))
			}
			mustEqual(t, "Devices(reader-a)", []notifications.Device{*got[0], *got[1]}, want)

			// The phone of reader A is logged in by reader B: the token moves.
			moved := &notifications.Device{Token: "tok-a1", ReaderID: "reader-b", Platform: notifications.Android, Locale: "en", RegisteredAt: at(time.Hour)}
			must(t, "SaveDevice (move)", ns.SaveDevice(ctx, moved))
			got, err = ns.Devices(ctx, "reader-a")
			must(t, "Devices", err)
			if len(got) != 1 || got[0].Token != "tok-a2" {
				t.Fatalf("after the move, reader A has %+v, want only tok-a2", got)
			}
			got, err = ns.Devices(ctx, "reader-b")
			must(t, "Devices", err)
			if len(got) != 2 || got[0].Token != "tok-b1" || got[1].Token != "tok-a1" || got[1].Locale != "en" {
				t.Fatalf("after the move, reader B has %+v, want tok-b1 then tok-a1 (en)", got)
			}

			ok, err := ns.DeleteDevice(ctx, "reader-a", "tok-a1")
			must(t, "DeleteDevice by the former owner", err)
			if ok {
				t.Fatal("the former owner deleted a token that moved to another reader")
			}
			ok, err = ns.DeleteDevice(ctx, "reader-b", "tok-a1")
			must(t, "DeleteDevice", err)
			if !ok {
				t.Fatal("DeleteDevice by the owner reported false")
			}
			if got, _ = ns.Devices(ctx, "reader-b"); len(got) != 1 {
				t.Fatalf("after deleting, reader B has %d devices, want 1", len(got))
			}
		}},
		{"Notifications/ATokenRegisteredByManyReadersAtOnceBelongsToOne", func(t *testing.T, s *store.Set) {
			n := min(racers, 20)
			ctx, ns := t.Context(), notificationsOf(t, s)
			errs := race(n, func(i int) error {
				return ns.SaveDevice(ctx, &notifications.Device{Token: "shared-phone", ReaderID: idf("reader", i),
					Platform: notifications.Android, Locale: "vi", RegisteredAt: at(time.Duration(i) * time.Second)})
			})
			owners := 0
			for i, err := range errs {
				must(t, fmt.Sprintf("SaveDevice %d", i), err)
				ds, err := ns.Devices(ctx, idf("reader", i))
				must(t, "Devices", err)
				owners += len(ds)
			}
			if owners != 1 {
				t.Fatalf("the token belongs to %d readers, want 1", owners)
			}
		}},
		{"Notifications/PreferencesRoundTrip", func(t *testing.T, s *store.Set) {
			ctx, ns := t.Context(), notificationsOf(t, s)
			p := &notifications.Preferences{ReaderID: "reader-1", Disabled: []notifications.Kind{notifications.LibraryNews, notifications.SavedSearch},
				DaysBeforeDue: []int{5, 2, 1}, Quiet: notifications.QuietHours{Start: 22 * 60, End: 6*60 + 30}, Language: "en", UpdatedAt: at(time.Minute)}
			must(t, "SavePreferences", ns.SavePreferences(ctx, p))
			got, err := ns.Preferences(ctx, []string{"reader-1", "reader-without"})
			must(t, "Preferences", err)
			if len(got) != 1 || got["reader-1"] == nil {
				t.Fatalf("Preferences: %+v, want only reader-1", got)
			}
			want := *p
			want.UpdatedAt = want.UpdatedAt.UTC()
			mustEqual(t, "Preferences", *got["reader-1"], want)

			p2 := &notifications.Preferences{ReaderID: "reader-1", Disabled: []notifications.Kind{}, DaysBeforeDue: []int{},
				Quiet: notifications.QuietHours{}, Language: "", UpdatedAt: at(time.Hour)}
			must(t, "SavePreferences again", ns.SavePreferences(ctx, p2))
			got, err = ns.Preferences(ctx, []string{"reader-1"})
			must(t, "Preferences", err)
			want = *p2
			want.UpdatedAt = want.UpdatedAt.UTC()
			mustEqual(t, "Preferences replaced", *got["reader-1"], want)
			if none, err := ns.Preferences(ctx, nil); err != nil || len(none) != 0 {
				t.Fatalf("Preferences(nil) = %v, %v; want empty", none, err)
			}
		}},
		{"Notifications/CreateRoundTrip", func(t *testing.T, s *store.Set) {
			ctx, ns := t.Context(), notificationsOf(t, s)
			n := newNotification("n-1", "reader-1", "loan-1", time.Second)
			n.ReadAt = ptr(at(time.Minute))
			n.Push = notifications.Push{State: notifications.PushSending, At: at(2 * time.Second), Attempts: 2,
				ClaimedUntil: ptr(at(3 * time.Minute)), SentTo: []string{"tok-1", "tok-2"}, Error: "UNAVAILABLE: thử lại"}
			created, err := ns.CreateNotification(ctx, n)
			must(t, "CreateNotification", err)
			if !created {
				t.Fatal("CreateNotification reported not created")
			}
			got, err := ns.Notification(ctx, "n-1")
			must(t, "Notification", err)
			wantNotification(t, "Notification", got, n)
			got, err = ns.NotificationByKey(ctx, n.DedupKey)
			must(t, "NotificationByKey", err)
			wantNotification(t, "NotificationByKey", got, n)

			bare := newNotification("", "reader-1", "loan-2", 0)
			bare.Data = nil
			created, err = ns.CreateNotification(ctx, bare)
			must(t, "CreateNotification (no ID, no data)", err)
			if !created || bare.ID == "" {
				t.Fatalf("CreateNotification without an ID: created %v, ID %q", created, bare.ID)
			}
			got, err = ns.Notification(ctx, bare.ID)
			must(t, "Notification", err)
			wantNotification(t, "the notification without data", got, bare)

			_, err = ns.Notification(ctx, "no-such")
			wantErr(t, "Notification(unknown)", err, thuvienso.ErrNotFound)
			_, err = ns.NotificationByKey(ctx, "no-such")
			wantErr(t, "NotificationByKey(unknown)", err, thuvienso.ErrNotFound)
			again := newNotification("n-1", "reader-1", "loan-3", 0)
			_, err = ns.CreateNotification(ctx, again)
			wantCode(t, "CreateNotification with a taken ID", err, thuvienso.CodeConflict)
		}},
		{"Notifications/CreatedOnceUnderManyGoroutines", func(t *testing.T, s *store.Set) {
			n := racers
			ctx, ns := t.Context(), notificationsOf(t, s)
			created := make([]bool, n)
			errs := race(n, func(i int) error {
				var err error
				created[i], err = ns.CreateNotification(ctx, newNotification(idf("n", i), "reader-1", "loan-1", time.Duration(i)*time.Second))
				return err
			})
			winner := -1
			for i, err := range errs {
				must(t, fmt.Sprintf("CreateNotification %d", i), err)
				if created[i] {
					if winner >= 0 {
						t.Fatalf("goroutines %d and %d both created the notification", winner, i)
					}
					winner = i
				}
			}
			if winner < 0 {
				t.Fatal("no goroutine created the notification")
			}
			count, err := ns.CountNotifications(ctx, "reader-1", false)
			must(t, "CountNotifications", err)
			if count != 1 {
				t.Fatalf("%d notifications stored, want 1", count)
			}
			got, err := ns.NotificationByKey(ctx, newNotification("", "reader-1", "loan-1", 0).DedupKey)
			must(t, "NotificationByKey", err)
			if got.ID != idf("n", winner) {
				t.Fatalf("the stored notification is %s, want the winner's %s", got.ID, idf("n", winner))
			}
			other := newNotification("n-other", "reader-1", "loan-2", 0)
			keys, err := ns.ExistingKeys(ctx, []string{got.DedupKey, other.DedupKey})
			must(t, "ExistingKeys", err)
			mustEqual(t, "ExistingKeys", keys, map[string]bool{got.DedupKey: true})
		}},
		{"Notifications/InboxPagesNewestFirst", func(t *testing.T, s *store.Set) {
			ctx, ns := t.Context(), notificationsOf(t, s)
			// Seven notifications; n-3 and n-4 were created at the same moment
			// (then ID decides), and another reader's in between.
			created := []time.Duration{1, 2, 3, 4, 4, 5, 6}
			for i, c := range created {
				n := newNotification(idf("n", i), "reader-1", idf("loan", i), c*time.Second+time.Duration(i%2))
				if c == 4 {
					n.CreatedAt = at(4 * time.Second)
				}
				_, err := ns.CreateNotification(ctx, n)
				must(t, "CreateNotification", err)
			}
			_, err := ns.CreateNotification(ctx, newNotification("x-1", "reader-2", "loan-x", 3*time.Second))
			must(t, "CreateNotification", err)

			var seen []string
			var after *notifications.Cursor
			for page := 0; page < 5; page++ {
				got, err := ns.Notifications(ctx, notifications.ListQuery{ReaderID: "reader-1", After: after, Limit: 3})
				must(t, "Notifications", err)
				seen = append(seen, ids(got)...)
				if len(got) < 3 {
					break
				}
				c := notifications.CursorOf(got[len(got)-1])
				after = &c
			}
			mustEqual(t, "the inbox page by page", seen, []string{"n-006", "n-005", "n-004", "n-003", "n-002", "n-001", "n-000"})

			_, err = ns.MarkRead(ctx, "reader-1", "n-005", at(time.Hour))
			must(t, "MarkRead", err)
			_, err = ns.MarkRead(ctx, "reader-1", "n-001", at(time.Hour))
			must(t, "MarkRead", err)
			c := notifications.CursorOf(&notifications.Notification{ID: "n-006", CreatedAt: at(6 * time.Second)})
			got, err := ns.Notifications(ctx, notifications.ListQuery{ReaderID: "reader-1", After: &c, Limit: 10, UnreadOnly: true})
			must(t, "Notifications (unread, after n-006)", err)
			mustEqual(t, "unread after n-006", ids(got), []string{"n-004", "n-003", "n-002", "n-000"})
			for _, tc := range []struct {
				unread bool
				want   int
			}{{false, 7}, {true, 5}} {
				n, err := ns.CountNotifications(ctx, "reader-1", tc.unread)
				must(t, "CountNotifications", err)
				if n != tc.want {
					t.Errorf("CountNotifications(unread %v) = %d, want %d", tc.unread, n, tc.want)
				}
			}
		}},
		{"Notifications/UnreadCountNeverNegativeWhenMarkedReadConcurrently", func(t *testing.T, s *store.Set) {
			const notes = 10
			n := max(racers, notes)
			ctx, ns := t.Context(), notificationsOf(t, s)
			for i := range notes {
				_, err := ns.CreateNotification(ctx, newNotification(idf("n", i), "reader-1", idf("loan", i), time.Duration(i)*time.Second))
				must(t, "CreateNotification", err)
			}
			_, err := ns.CreateNotification(ctx, newNotification("other", "reader-2", "loan-x", 0))
			must(t, "CreateNotification", err)
			changed := make([]int, n)
			errs := race(n, func(i int) error {
				var err error
				if i%5 == 4 {
					changed[i], err = ns.MarkAllRead(ctx, "reader-1", at(time.Hour))
					return err
				}
				ok, err := ns.MarkRead(ctx, "reader-1", idf("n", i%notes), at(time.Hour))
				if ok {
					changed[i] = 1
				}
				return err
			})
			total := 0
			for i, err := range errs {
				must(t, fmt.Sprintf("goroutine %d", i), err)
				total += changed[i]
			}
			if total != notes {
				t.Fatalf("the marks changed %d notifications in all, want %d (each once)", total, notes)
			}
			unread, err := ns.CountNotifications(ctx, "reader-1", true)
			must(t, "CountNotifications", err)
			if unread != 0 {
				t.Fatalf("unread count %d, want 0", unread)
			}
			if k, err := ns.MarkAllRead(ctx, "reader-1", at(2*time.Hour)); err != nil || k != 0 {
				t.Fatalf("MarkAllRead again = %d, %v; want 0", k, err)
			}
			if unread, _ = ns.CountNotifications(ctx, "reader-1", true); unread != 0 {
				t.Fatalf("unread count %d after marking again, want 0", unread)
			}
			if other, _ := ns.CountNotifications(ctx, "reader-2", true); other != 1 {
				t.Fatalf("another reader's unread count %d, want 1", other)
			}
			_, err = ns.MarkRead(ctx, "reader-1", "other", at(time.Hour))
			wantErr(t, "MarkRead of another reader's notification", err, thuvienso.ErrNotFound)
			_, err = ns.MarkRead(ctx, "reader-1", "no-such", at(time.Hour))
			wantErr(t, "MarkRead(unknown)", err, thuvienso.ErrNotFound)
			got, err := ns.Notification(ctx, "n-000")
			must(t, "Notification", err)
			if got.ReadAt == nil || !got.ReadAt.Equal(at(time.Hour)) {
				t.Fatalf("ReadAt = %v, want %v", got.ReadAt, at(time.Hour))
			}
		}},
		{"Notifications/PushClaimedOnceUnderManyGoroutines", func(t *testing.T, s *store.Set) {
			n := racers
			ctx, ns := t.Context(), notificationsOf(t, s)
			due := newNotification("due", "reader-1", "loan-1", 0)
			due.Push.At = at(time.Minute)
			later := newNotification("later", "reader-1", "loan-2", 0)
			later.Push.At = at(time.Minute + time.Nanosecond)
			early := newNotification("early", "reader-1", "loan-3", 0)
			early.Push.At = at(time.Second)
			sent := newNotification("sent", "reader-1", "loan-4", 0)
			sent.Push.State = notifications.PushSent
			for _, x := range []*notifications.Notification{due, later, early, sent} {
				_, err := ns.CreateNotification(ctx, x)
				must(t, "CreateNotification", err)
			}
			now := at(time.Minute)
			got, err := ns.DuePushes(ctx, now, 10)
			must(t, "DuePushes", err)
			mustEqual(t, "DuePushes (soonest first, none later than now)", ids(got), []string{"early", "due"})

			_, err = ns.ClaimPush(ctx, "later", now, now.Add(time.Minute))
			wantErr(t, "ClaimPush of a push not due yet", err, notifications.ErrNotClaimed)
			_, err = ns.ClaimPush(ctx, "sent", now, now.Add(time.Minute))
			wantErr(t, "ClaimPush of a sent push", err, notifications.ErrNotClaimed)

			claims := make([]*notifications.Notification, n)
			errs := race(n, func(i int) error {
				var err error
				claims[i], err = ns.ClaimPush(ctx, "due", now, now.Add(time.Duration(i+1)*time.Minute))
				return err
			})
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil:
					if winner >= 0 {
						t.Fatalf("goroutines %d and %d both claimed the push", winner, i)
					}
					winner = i
				case errors.Is(err, notifications.ErrNotClaimed):
				default:
					t.Fatalf("goroutine %d: %v", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no goroutine claimed the push")
			}
			c := claims[winner]
			want := *due
			want.Push.State, want.Push.Attempts, want.Push.ClaimedUntil = notifications.PushSending, 1, ptr(now.Add(time.Duration(winner+1)*time.Minute))
			wantNotification(t, "the claimed notification", c, &want)

			if ok, err := ns.FinishPush(ctx, "due", 2, notifications.Push{State: notifications.PushSent, At: now}); err != nil || ok {
				t.Fatalf("FinishPush with another claim's attempts = %v, %v; want false", ok, err)
			}
			fin := notifications.Push{State: notifications.PushPending, At: now.Add(30 * time.Second), Attempts: 1,
				SentTo: []string{"tok-1"}, Error: "UNAVAILABLE"}
			ok, err := ns.FinishPush(ctx, "due", 1, fin)
			must(t, "FinishPush", err)
			if !ok {
				t.Fatal("FinishPush by the claim's holder reported false")
			}
			if ok, _ := ns.FinishPush(ctx, "due", 1, fin); ok {
				t.Fatal("FinishPush twice succeeded twice")
			}
			got1, err := ns.Notification(ctx, "due")
			must(t, "Notification", err)
			want.Push = fin
			wantNotification(t, "after FinishPush", got1, &want)
			_, err = ns.ClaimPush(ctx, "due", now, now.Add(time.Minute))
			wantErr(t, "ClaimPush before the retry time", err, notifications.ErrNotClaimed)
			again, err := ns.ClaimPush(ctx, "due", now.Add(30*time.Second), now.Add(2*time.Minute))
			must(t, "ClaimPush at the retry time", err)
			if again.Push.Attempts != 2 || !slices.Equal(again.Push.SentTo, []string{"tok-1"}) {
				t.Fatalf("the second claim has attempts %d and tokens %v, want 2 and [tok-1]", again.Push.Attempts, again.Push.SentTo)
			}
		}},
		{"Notifications/ClaimsOfDeadSendersFailAndAreNotSentAgain", func(t *testing.T, s *store.Set) {
			ctx, ns := t.Context(), notificationsOf(t, s)
			for _, id := range []string{"a", "b"} {
				_, err := ns.CreateNotification(ctx, newNotification(id, "reader-1", "loan-"+id, 0))
				must(t, "CreateNotification", err)
			}
			now := at(time.Minute)
			_, err := ns.ClaimPush(ctx, "a", now, now.Add(2*time.Minute))
			must(t, "ClaimPush a", err)
			_, err = ns.ClaimPush(ctx, "b", now, now.Add(10*time.Minute))
			must(t, "ClaimPush b", err)
			k, err := ns.FailStaleClaims(ctx, now.Add(time.Minute))
			must(t, "FailStaleClaims", err)
			if k != 0 {
				t.Fatalf("FailStaleClaims before any claim ended = %d, want 0", k)
			}
			k, err = ns.FailStaleClaims(ctx, now.Add(3*time.Minute))
			must(t, "FailStaleClaims", err)
			if k != 1 {
				t.Fatalf("FailStaleClaims = %d, want 1", k)
			}
			a, err := ns.Notification(ctx, "a")
			must(t, "Notification", err)
			if a.Push.State != notifications.PushFailed || a.Push.ClaimedUntil != nil || a.Push.Error == "" {
				t.Fatalf("the stale claim's push is %+v, want FAILED with a reason and no claim", a.Push)
			}
			b, err := ns.Notification(ctx, "b")
			must(t, "Notification", err)
			if b.Push.State != notifications.PushSending {
				t.Fatalf("the live claim's push is %s, want SENDING", b.Push.State)
			}
			if due, _ := ns.DuePushes(ctx, now.Add(time.Hour), 10); len(due) != 0 {
				t.Fatalf("DuePushes after failing a claim: %v, want none", ids(due))
			}
		}},
	}, broadcastTests(racers)...)
}
