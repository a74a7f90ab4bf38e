package notifications_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/notifications"
	"github.com/bacninh/thuvienso/redis"
	"github.com/bacninh/thuvienso/redis/redistest"
	"github.com/bacninh/thuvienso/store"
)

// Two server instances, each with its own connection to the database file
// and its own Redis client, run their dispatchers at once against one
// throw-away redis-server: events, due-date reminders and a broadcast
// become notifications, and every one is created and pushed exactly once.
func TestTwoSchedulersOnOneRedisNotifyAndPushEachOnce(t *testing.T) {
	rs := redistest.Start(t)
	e := newEnv(t)
	cfg := notifications.DefaultConfig()
	cfg.BatchSize = 7 // small batches: many claims and fan-out steps to race on
	dcfg := notifications.DefaultDispatcherConfig()
	dcfg.LockTTL = 3 * time.Second // renewed every second while a pass runs
	var ds []*notifications.Dispatcher
	for i, s := range []*store.Set{e.stores, e.open()} {
		rc, err := redis.Open(context.Background(), rs.URL(), redis.WithLogger(quiet), redis.WithPrefix("tvs-two-schedulers:"))
		if err != nil {
			t.Fatalf("redis.Open %d: %v", i, err)
		}
		t.Cleanup(func() { _ = rc.Close() })
		_, d := e.instanceWith(s, rc.Locker(), dcfg, notifications.WithConfig(cfg))
		ds = append(ds, d)
	}

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	worked := make([]int, len(ds))
	for i, d := range ds {
		wg.Go(func() {
			for ctx.Err() == nil {
				rep, err := d.Pass(ctx)
				if err != nil && ctx.Err() == nil {
					t.Errorf("dispatcher %d: %v", i, err)
				}
				if !rep.Empty() {
					worked[i]++
				}
				time.Sleep(time.Millisecond)
			}
		})
	}

	// Work arrives in waves while both run: per reader an event
	// (EBOOK_HOLD_RESERVED), a loan whose third day before its due date
	// has begun (DUE_SOON, from a source), and per wave a broadcast to the
	// wave's library (LIBRARY_NEWS).
	const waves, perWave = 3, 10
	const readers = waves * perWave
	for w := range waves {
		lib := fmt.Sprintf("lib-%d", w)
		for i := range perWave {
			id := fmt.Sprintf("reader-%d-%d", w, i)
			e.account(id, auth.RoleReader, lib)
			e.device(id, "phone-"+id, notifications.Android, "vi")
			e.reserved(id, "ebook-hold-"+id)
			e.lend("loan-"+id, id, endOfDay(3, 18))
		}
		staff := auth.Actor{AccountID: "staff-" + lib, Role: auth.RoleLibrarian, LibraryID: lib}
		if _, err := e.svc.SendBroadcast(t.Context(), staff, festival); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Minute) // the next reminder scan is due
		time.Sleep(20 * time.Millisecond)
	}
	const want = 3 * readers

	deadline := time.Now().Add(60 * time.Second) // a bound on waiting, not on speed
	for len(e.fcm.Delivered()) < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	// A few more passes of each: there must be nothing left to send.
	for range 2 {
		for _, d := range ds {
			if _, err := d.Pass(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("passes that did work: %v", worked)

	sent := map[string]int{} // "token notification" → pushes
	for _, r := range e.fcm.Requests() {
		data, _ := r.Message["data"].(map[string]any)
		sent[fmt.Sprintf("%s %v", r.Token, data["notificationId"])]++
	}
	if n := len(e.fcm.Requests()); n != want || len(sent) != want {
		t.Fatalf("%d pushes of %d notifications, want %d, each once", n, len(sent), want)
	}
	for i := range readers {
		id := fmt.Sprintf("reader-%d-%d", i/perWave, i%perWave)
		in := e.inbox(id)
		kinds := map[notifications.Kind]int{}
		for _, n := range in {
			kinds[n.Kind]++
			if n.Push.State != notifications.PushSent || len(n.Push.SentTo) != 1 {
				t.Fatalf("%s: the push of %s is %+v, want SENT to the phone", id, n.Kind, n.Push)
			}
		}
		if len(in) != 3 || kinds[notifications.EbookHoldReserved] != 1 || kinds[notifications.DueSoon] != 1 || kinds[notifications.LibraryNews] != 1 {
			t.Fatalf("%s's inbox has %v, want one of each kind", id, kinds)
		}
	}
	if left, _ := e.stores.Events.UnhandledEvents(t.Context(), 100); len(left) != 0 {
		t.Fatalf("%d events unhandled", len(left))
	}
	p, err := e.svc.Broadcasts(t.Context(), admin, "", 10, "")
	if err != nil || len(p.Broadcasts) != waves {
		t.Fatalf("broadcasts: %+v, %v; want %d", p, err, waves)
	}
	for _, b := range p.Broadcasts {
		if !b.Finished() || b.Recipients != perWave {
			t.Fatalf("the broadcast to %s: %+v, want finished with %d recipients", b.LibraryID, b, perWave)
		}
	}
}
