package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/notifications"
	"github.com/bacninh/thuvienso/search"
	"github.com/bacninh/thuvienso/store"
)

// newBroadcast returns a broadcast with every field set, created at t0
// plus created.
func newBroadcast(id, library, key string, created time.Duration) *notifications.Broadcast {
	return &notifications.Broadcast{ID: id, SenderID: "librarian-1", LibraryID: library,
		Title: "Ngày hội đọc sách", Body: "Mời bạn đến " + nameTuSon + " sáng Chủ nhật. " + communeNFD,
		TitleEn: "Reading festival", BodyEn: "Come to the library on Sunday morning.",
		IdempotencyKey: key, CreatedAt: at(created), Cursor: "", Recipients: 0}
}

// wantBroadcast fails t unless got is want as a store returns it.
func wantBroadcast(t *testing.T, what string, got, want *notifications.Broadcast) {
	t.Helper()
	w := *want
	w.CreatedAt, w.FinishedAt = w.CreatedAt.UTC(), utcPtr(w.FinishedAt)
	wantUTC(t, what, got.CreatedAt)
	mustEqual(t, what, *got, w)
}

// broadcastIDs returns the IDs of bs.
func broadcastIDs(bs []*notifications.Broadcast) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.ID
	}
	return out
}

// newSavedSearch returns a saved search of reader with a filter of every
// kind, created at t0 plus created.
func newSavedSearch(id, reader, name string, created time.Duration) *notifications.StoredSearch {
	return &notifications.StoredSearch{ID: id, ReaderID: reader, Name: name, Query: "Nguyễn Nhật Ánh",
		Filter: search.Filter{LibraryIDs: []string{libTuSon}, Districts: []string{districtTuSon}, LibraryTypes: []string{"DISTRICT"},
			Formats: []catalog.Format{catalog.FormatBook}, Languages: []string{"vie"}, YearFrom: 2010, YearTo: 2030,
			Subject: "Văn học thiếu nhi", AvailableAt: libTuSon},
		CreatedAt: at(created), NextRunAt: at(created), Seen: []string{}}
}

// wantSavedSearch fails t unless got is want as a store returns it.
func wantSavedSearch(t *testing.T, what string, got, want *notifications.StoredSearch) {
	t.Helper()
	w := *want
	w.CreatedAt, w.NextRunAt, w.LastRunAt = w.CreatedAt.UTC(), w.NextRunAt.UTC(), utcPtr(w.LastRunAt)
	if w.Seen == nil {
		w.Seen = []string{}
	}
	wantUTC(t, what, got.CreatedAt, got.NextRunAt)
	mustEqual(t, what, *got, w)
}

// broadcastTests are the contract of the batch creation, broadcasts and
// saved searches of notifications.Store, with racers goroutines in the
// concurrency tests.
func broadcastTests(racers int) []test {
	return []test{
		{"Notifications/CreateNotificationsStoresTheNewOnesOfABatch", func(t *testing.T, s *store.Set) {
			ctx, ns := t.Context(), notificationsOf(t, s)
			_, err := ns.CreateNotification(ctx, newNotification("old", "reader-1", "loan-2", 0))
			must(t, "CreateNotification", err)
			batch := []*notifications.Notification{
				newNotification("b-1", "reader-1", "loan-1", time.Second),
				newNotification("b-2", "reader-1", "loan-2", time.Second), // key taken by "old"
				newNotification("", "reader-2", "loan-1", time.Second),
			}
			batch[0].Push = notifications.Push{State: notifications.PushSkipped, At: at(time.Second), SentTo: []string{}, Error: "kind disabled"}
			created, err := ns.CreateNotifications(ctx, batch)
			must(t, "CreateNotifications", err)
			mustEqual(t, "created", created, []bool{true, false, true})
			if batch[2].ID == "" {
				t.Fatal("CreateNotifications gave no ID to a notification without one")
			}
			got, err := ns.Notification(ctx, "b-1")
			must(t, "Notification", err)
			wantNotification(t, "a notification of the batch", got, batch[0])
			_, err = ns.Notification(ctx, "b-2")
			wantErr(t, "the duplicate of the batch", err, thuvienso.ErrNotFound)
			if created, err := ns.CreateNotifications(ctx, nil); err != nil || len(created) != 0 {
				t.Fatalf("CreateNotifications(nil) = %v, %v", created, err)
			}
		}},
		{"Notifications/BatchesRacingOnOneSetOfKeysCreateEachOnce", func(t *testing.T, s *store.Set) {
			ctx, ns := t.Context(), notificationsOf(t, s)
			const keys = 20
			n := min(racers, 10)
			created := make([][]bool, n)
			errs := race(n, func(i int) error {
				batch := make([]*notifications.Notification, keys)
				for k := range batch {
					batch[k] = newNotification(fmt.Sprintf("n-%d-%d", i, k), idf("reader", k), "loan-1", time.Duration(i)*time.Second)
				}
				var err error
				created[i], err = ns.CreateNotifications(ctx, batch)
				return err
			})
			perKey := make([]int, keys)
			for i, err := range errs {
				must(t, fmt.Sprintf("CreateNotifications %d", i), err)
				for k, c := range created[i] {
					if c {
						perKey[k]++
					}
				}
			}
			for k, c := range perKey {
				if c != 1 {
					t.Fatalf("the notification of reader %d was created %d times, want once", k, c)
				}
				if count, _ := ns.CountNotifications(ctx, idf("reader", k), false); count != 1 {
					t.Fatalf("reader %d has %d notifications, want 1", k, count)
				}
			}
		}},
		{"Notifications/PushesClaimedInBatchesOnceUnderManyGoroutines", func(t *testing.T, s *store.Set) {
			ctx, ns := t.Context(), notificationsOf(t, s)
			now := at(time.Hour)
			var all []string
			due := map[string]bool{}
			for i := range 30 {
				n := newNotification(idf("n", i), idf("reader", i), "loan-1", 0)
				switch i % 3 {
				case 0: // due
					due[n.ID] = true
				case 1: // waits for the end of quiet hours
					n.Push.At = now.Add(time.Minute)
				case 2: // not pushed at all
					n.Push.State = notifications.PushSkipped
				}
				_, err := ns.CreateNotification(ctx, n)
				must(t, "CreateNotification", err)
				all = append(all, n.ID)
			}
			n := min(racers, 10)
			claims := make([][]*notifications.Notification, n)
			errs := race(n, func(i int) error {
				var err error
				claims[i], err = ns.ClaimPushes(ctx, all, now, now.Add(time.Duration(i+1)*time.Minute))
				return err
			})
			claimedBy := map[string]int{}
			var mine []*notifications.Notification
			for i, err := range errs {
				must(t, fmt.Sprintf("ClaimPushes %d", i), err)
				for _, c := range claims[i] {
					if _, dup := claimedBy[c.ID]; dup {
						t.Fatalf("%s was claimed by goroutines %d and %d", c.ID, claimedBy[c.ID], i)
					}
					claimedBy[c.ID] = i
					if c.Push.State != notifications.PushSending || c.Push.Attempts != 1 || c.Push.ClaimedUntil == nil ||
						!c.Push.ClaimedUntil.Equal(now.Add(time.Duration(i+1)*time.Minute)) {
						t.Fatalf("the claim of %s is %+v", c.ID, c.Push)
					}
					mine = append(mine, c)
				}
			}
			if len(claimedBy) != len(due) {
				t.Fatalf("%d pushes claimed, want the %d due ones", len(claimedBy), len(due))
			}
			for id := range claimedBy {
				if !due[id] {
					t.Fatalf("%s was claimed, but it is not due", id)
				}
			}
			fs := make([]notifications.PushFinish, 0, len(mine)+1)
			for _, c := range mine {
				fs = append(fs, notifications.PushFinish{ID: c.ID, ClaimedAttempts: c.Push.Attempts,
					Push: notifications.Push{State: notifications.PushSent, At: now, Attempts: 1, SentTo: []string{"tok-" + c.ID}}})
			}
			fs = append(fs, notifications.PushFinish{ID: mine[0].ID, ClaimedAttempts: 7, Push: notifications.Push{State: notifications.PushFailed, At: now}})
			done, err := ns.FinishPushes(ctx, fs)
			must(t, "FinishPushes", err)
			if done != len(mine) {
				t.Fatalf("FinishPushes finished %d, want the %d claims (not the one with another claim's attempts)", done, len(mine))
			}
			got, err := ns.Notification(ctx, mine[0].ID)
			must(t, "Notification", err)
			if got.Push.State != notifications.PushSent || got.Push.ClaimedUntil != nil || !slices.Equal(got.Push.SentTo, []string{"tok-" + mine[0].ID}) {
				t.Fatalf("a finished push is %+v", got.Push)
			}
			if left, _ := ns.DuePushes(ctx, now, 100); len(left) != 0 {
				t.Fatalf("DuePushes after the batch: %v, want none", ids(left))
			}
			if again, err := ns.ClaimPushes(ctx, all, now.Add(time.Hour), now.Add(2*time.Hour)); err != nil || len(again) != len(due) {
				// only the ones that waited for the end of quiet hours are due now
				t.Fatalf("ClaimPushes an hour later = %d, %v; want the %d that waited", len(again), err, len(due))
			}
			if none, err := ns.ClaimPushes(ctx, nil, now, now); err != nil || len(none) != 0 {
				t.Fatalf("ClaimPushes(nil) = %v, %v", none, err)
			}
			if k, err := ns.FinishPushes(ctx, nil); err != nil || k != 0 {
				t.Fatalf("FinishPushes(nil) = %d, %v", k, err)
			}
		}},
		{"Notifications/DevicesOfManyReaders", func(t *testing.T, s *store.Set) {
			ctx, ns := t.Context(), notificationsOf(t, s)
			for i, d := range []notifications.Device{
				{Token: "tok-b2", ReaderID: "reader-b", Platform: notifications.IOS, Locale: "en", RegisteredAt: at(2 * time.Second)},
				{Token: "tok-a", ReaderID: "reader-a", Platform: notifications.Android, Locale: "vi", RegisteredAt: at(time.Second)},
				{Token: "tok-b1", ReaderID: "reader-b", Platform: notifications.Web, Locale: "", RegisteredAt: at(time.Second)},
				{Token: "tok-c", ReaderID: "reader-c", Platform: notifications.Android, Locale: "vi", RegisteredAt: at(0)},
			} {
				must(t, fmt.Sprintf("SaveDevice %d", i), ns.SaveDevice(ctx, &d))
			}
			got, err := ns.DevicesOf(ctx, []string{"reader-a", "reader-b", "reader-none"})
			must(t, "DevicesOf", err)
			tokens := map[string][]string{}
			for r, ds := range got {
				for _, d := range ds {
					tokens[r] = append(tokens[r], d.Token)
					wantUTC(t, "registered", d.RegisteredAt)
				}
			}
			mustEqual(t, "devices by reader", tokens, map[string][]string{"reader-a": {"tok-a"}, "reader-b": {"tok-b1", "tok-b2"}})
			if none, err := ns.DevicesOf(ctx, nil); err != nil || len(none) != 0 {
				t.Fatalf("DevicesOf(nil) = %v, %v", none, err)
			}
		}},
		{"Broadcasts/RoundTripAndListNewestFirst", func(t *testing.T, s *store.Set) {
			ctx, ns := t.Context(), notificationsOf(t, s)
			bs := []*notifications.Broadcast{
				newBroadcast("b-1", libTuSon, "", time.Second),
				newBroadcast("b-2", libTuSon, "", 2*time.Second),
				newBroadcast("b-3", "", "", 2*time.Second), // to every reader
				newBroadcast("b-4", libQueVo, "", 3*time.Second),
			}
			for _, b := range bs {
				got, created, err := ns.CreateBroadcast(ctx, b)
				must(t, "CreateBroadcast "+b.ID, err)
				if !created {
					t.Fatalf("CreateBroadcast %s reported not created", b.ID)
				}
				wantBroadcast(t, "the created broadcast", got, b)
			}
			got, err := ns.Broadcast(ctx, "b-1")
			must(t, "Broadcast", err)
			wantBroadcast(t, "Broadcast", got, bs[0])
			_, err = ns.Broadcast(ctx, "no-such")
			wantErr(t, "Broadcast(unknown)", err, thuvienso.ErrNotFound)

			list := func(q notifications.BroadcastQuery) []string {
				t.Helper()
				got, err := ns.Broadcasts(ctx, q)
				must(t, "Broadcasts", err)
				return broadcastIDs(got)
			}
			mustEqual(t, "Từ Sơn's", list(notifications.BroadcastQuery{LibraryID: libTuSon, Limit: 10}), []string{"b-2", "b-1"})
			mustEqual(t, "to every reader", list(notifications.BroadcastQuery{Limit: 10}), []string{"b-3"})
			mustEqual(t, "all", list(notifications.BroadcastQuery{AllLibraries: true, Limit: 10}), []string{"b-4", "b-3", "b-2", "b-1"})
			after := notifications.Cursor{CreatedAt: at(2 * time.Second), ID: "b-3"}
			mustEqual(t, "all after b-3", list(notifications.BroadcastQuery{AllLibraries: true, After: &after, Limit: 10}), []string{"b-2", "b-1"})
			mustEqual(t, "a page of two", list(notifications.BroadcastQuery{AllLibraries: true, Limit: 2}), []string{"b-4", "b-3"})
		}},
		{"Broadcasts/OneBroadcastPerSenderAndKeyUnderManyGoroutines", func(t *testing.T, s *store.Set) {
			ctx, ns := t.Context(), notificationsOf(t, s)
			n := racers
			got := make([]*notifications.Broadcast, n)
			created := make([]bool, n)
			errs := race(n, func(i int) error {
				var err error
				got[i], created[i], err = ns.CreateBroadcast(ctx, newBroadcast(idf("b", i), libTuSon, "send-1", time.Duration(i)*time.Second))
				return err
			})
			winner := -1
			for i, err := range errs {
				must(t, fmt.Sprintf("CreateBroadcast %d", i), err)
				if created[i] {
					if winner >= 0 {
						t.Fatalf("sends %d and %d both stored a broadcast with one key", winner, i)
					}
					winner = i
				}
			}
			if winner < 0 {
				t.Fatal("no send stored the broadcast")
			}
			for i := range n {
				if got[i].ID != idf("b", winner) {
					t.Fatalf("send %d got broadcast %s, want the stored %s", i, got[i].ID, idf("b", winner))
				}
			}
			other := newBroadcast("other-sender", libTuSon, "send-1", 0)
			other.SenderID = "librarian-2"
			if _, created, err := ns.CreateBroadcast(ctx, other); err != nil || !created {
				t.Fatalf("another sender's key: created %v, %v", created, err)
			}
			for _, id := range []string{"no-key-1", "no-key-2"} {
				if _, created, err := ns.CreateBroadcast(ctx, newBroadcast(id, libTuSon, "", 0)); err != nil || !created {
					t.Fatalf("a broadcast without a key: created %v, %v", created, err)
				}
			}
			all, err := ns.Broadcasts(ctx, notifications.BroadcastQuery{AllLibraries: true, Limit: 100})
			must(t, "Broadcasts", err)
			mustEqual(t, "broadcasts stored", len(all), 4)
		}},
		{"Broadcasts/TheCursorMovesOnceUnderManyGoroutines", func(t *testing.T, s *store.Set) {
			ctx, ns := t.Context(), notificationsOf(t, s)
			_, _, err := ns.CreateBroadcast(ctx, newBroadcast("b-1", libTuSon, "", 0))
			must(t, "CreateBroadcast", err)
			_, _, err = ns.CreateBroadcast(ctx, newBroadcast("b-2", "", "", time.Second))
			must(t, "CreateBroadcast", err)
			n := racers
			moved := make([]bool, n)
			errs := race(n, func(i int) error {
				var err error
				moved[i], err = ns.AdvanceBroadcast(ctx, "b-1", "", "reader-500", 500, nil)
				return err
			})
			winners := 0
			for i, err := range errs {
				must(t, fmt.Sprintf("AdvanceBroadcast %d", i), err)
				if moved[i] {
					winners++
				}
			}
			if winners != 1 {
				t.Fatalf("%d goroutines moved the cursor, want 1", winners)
			}
			b, err := ns.Broadcast(ctx, "b-1")
			must(t, "Broadcast", err)
			if b.Cursor != "reader-500" || b.Recipients != 500 || b.Finished() {
				t.Fatalf("after one batch: %+v", b)
			}
			if ok, err := ns.AdvanceBroadcast(ctx, "b-1", "reader-000", "reader-600", 100, nil); err != nil || ok {
				t.Fatalf("advancing from a cursor that moved on = %v, %v; want false", ok, err)
			}
			unfinished, err := ns.UnfinishedBroadcasts(ctx, 10)
			must(t, "UnfinishedBroadcasts", err)
			mustEqual(t, "unfinished, oldest first", broadcastIDs(unfinished), []string{"b-1", "b-2"})
			done := at(time.Minute)
			ok, err := ns.AdvanceBroadcast(ctx, "b-1", "reader-500", "reader-742", 242, &done)
			must(t, "AdvanceBroadcast (last batch)", err)
			if !ok {
				t.Fatal("the last batch did not move the cursor")
			}
			b, err = ns.Broadcast(ctx, "b-1")
			must(t, "Broadcast", err)
			if b.Cursor != "reader-742" || b.Recipients != 742 || b.FinishedAt == nil || !b.FinishedAt.Equal(done) {
				t.Fatalf("after the last batch: %+v", b)
			}
			if ok, _ := ns.AdvanceBroadcast(ctx, "b-1", "reader-742", "reader-800", 1, nil); ok {
				t.Fatal("a finished broadcast moved on")
			}
			unfinished, err = ns.UnfinishedBroadcasts(ctx, 10)
			must(t, "UnfinishedBroadcasts", err)
			mustEqual(t, "unfinished after one finished", broadcastIDs(unfinished), []string{"b-2"})
		}},
		{"SavedSearches/RoundTripUniqueNamesAndDeletion", func(t *testing.T, s *store.Set) {
			ctx, ns := t.Context(), notificationsOf(t, s)
			a := newSavedSearch("s-1", "reader-1", "Truyện thiếu nhi mới", time.Second)
			b := newSavedSearch("s-2", "reader-1", "Sách Từ Sơn", 0)
			b.Filter, b.Seen, b.LastRunAt, b.Version = search.Filter{}, []string{"w-2", "w-1"}, ptr(at(0)), 3
			for _, ss := range []*notifications.StoredSearch{a, b} {
				must(t, "CreateSavedSearch "+ss.ID, ns.CreateSavedSearch(ctx, ss))
			}
			got, err := ns.SavedSearch(ctx, "s-1")
			must(t, "SavedSearch", err)
			wantSavedSearch(t, "SavedSearch", got, a)
			got, err = ns.SavedSearch(ctx, "s-2")
			must(t, "SavedSearch", err)
			wantSavedSearch(t, "SavedSearch without a filter", got, b)
			_, err = ns.SavedSearch(ctx, "no-such")
			wantErr(t, "SavedSearch(unknown)", err, thuvienso.ErrNotFound)

			err = ns.CreateSavedSearch(ctx, newSavedSearch("s-3", "reader-1", "Sách Từ Sơn", 2*time.Second))
			wantErr(t, "a name the reader has", err, notifications.ErrSavedSearchNameTaken)
			must(t, "another reader's name", ns.CreateSavedSearch(ctx, newSavedSearch("s-4", "reader-2", "Sách Từ Sơn", 0)))

			mine, err := ns.SavedSearches(ctx, "reader-1")
			must(t, "SavedSearches", err)
			if len(mine) != 2 || mine[0].ID != "s-2" || mine[1].ID != "s-1" {
				t.Fatalf("reader-1's saved searches: %v, want s-2 then s-1", mine)
			}
			if ok, err := ns.DeleteSavedSearch(ctx, "reader-2", "s-1"); err != nil || ok {
				t.Fatalf("another reader deleted s-1: %v, %v", ok, err)
			}
			if ok, err := ns.DeleteSavedSearch(ctx, "reader-1", "s-1"); err != nil || !ok {
				t.Fatalf("DeleteSavedSearch = %v, %v", ok, err)
			}
			if ok, _ := ns.DeleteSavedSearch(ctx, "reader-1", "s-1"); ok {
				t.Fatal("a saved search was deleted twice")
			}
			must(t, "the name is free again", ns.CreateSavedSearch(ctx, newSavedSearch("s-5", "reader-1", "Truyện thiếu nhi mới", 0)))
		}},
		{"SavedSearches/ARunIsRecordedOnceUnderManyGoroutines", func(t *testing.T, s *store.Set) {
			ctx, ns := t.Context(), notificationsOf(t, s)
			for i, d := range []time.Duration{2 * time.Hour, time.Hour, 3 * time.Hour} {
				ss := newSavedSearch(idf("s", i), "reader-1", idf("name", i), 0)
				ss.NextRunAt = at(d)
				must(t, "CreateSavedSearch", ns.CreateSavedSearch(ctx, ss))
			}
			due, err := ns.DueSavedSearches(ctx, at(2*time.Hour), 10)
			must(t, "DueSavedSearches", err)
			if len(due) != 2 || due[0].ID != idf("s", 1) || due[1].ID != idf("s", 0) {
				t.Fatalf("due at t0+2h: %v, want s-001 then s-000", due)
			}
			if due, _ := ns.DueSavedSearches(ctx, at(2*time.Hour-1), 10); len(due) != 1 {
				t.Fatalf("due a nanosecond earlier: %d, want 1", len(due))
			}
			n := racers
			ok := make([]bool, n)
			errs := race(n, func(i int) error {
				var err error
				ok[i], err = ns.RecordSavedSearchRun(ctx, idf("s", 1), 0, notifications.SavedSearchRun{
					At: at(2 * time.Hour), Next: at(2*time.Hour + 7*24*time.Hour), Seen: []string{idf("w", i)}})
				return err
			})
			winner := -1
			for i, err := range errs {
				must(t, fmt.Sprintf("RecordSavedSearchRun %d", i), err)
				if ok[i] {
					if winner >= 0 {
						t.Fatalf("runs %d and %d were both recorded", winner, i)
					}
					winner = i
				}
			}
			if winner < 0 {
				t.Fatal("no run was recorded")
			}
			got, err := ns.SavedSearch(ctx, idf("s", 1))
			must(t, "SavedSearch", err)
			if got.Version != 1 || got.LastRunAt == nil || !got.LastRunAt.Equal(at(2*time.Hour)) ||
				!got.NextRunAt.Equal(at(2*time.Hour+7*24*time.Hour)) || !slices.Equal(got.Seen, []string{idf("w", winner)}) {
				t.Fatalf("after the run: %+v, want version 1 with the winner's works", got)
			}
			due, err = ns.DueSavedSearches(ctx, at(2*time.Hour), 10)
			must(t, "DueSavedSearches", err)
			if len(due) != 1 || due[0].ID != idf("s", 0) {
				t.Fatalf("due after the run: %v, want only s-000", due)
			}
			if ok, _ := ns.RecordSavedSearchRun(ctx, "no-such", 0, notifications.SavedSearchRun{At: at(0), Next: at(0)}); ok {
				t.Fatal("a run of a saved search that does not exist was recorded")
			}
		}},
	}
}
