package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/events"
	"github.com/bacninh/thuvienso/store"
)

// newEvent returns an event with every field set.
func newEvent(key, reader string, recorded time.Duration) *events.Event {
	return &events.Event{
		Key: key, Kind: events.EbookHoldReserved, ReaderID: reader, SubjectID: "hold-1", WorkID: "work-1",
		LibraryID: "lib-tuson", At: at(time.Hour), Data: map[string]string{"deadline": "2025-03-17T09:26:53+07:00", "tên": "Truyện Kiều"},
		RecordedAt: at(recorded),
	}
}

// wantEvent fails t unless got is want as a store returns it.
func wantEvent(t *testing.T, what string, got, want *events.Event) {
	t.Helper()
	w := *want
	w.At, w.RecordedAt, w.HandledAt = w.At.UTC(), w.RecordedAt.UTC(), utcPtr(w.HandledAt)
	wantUTC(t, what, got.At, got.RecordedAt)
	mustEqual(t, what, *got, w)
}

var eventTests = []test{
	{"Events/RecordRoundTripAndOrder", func(t *testing.T, s *store.Set) {
		ctx, es := t.Context(), s.Events
		if es == nil {
			t.Fatal("Set.Events is nil")
		}
		e2 := newEvent("k-2", "reader-1", 2*time.Second)
		e1 := newEvent("k-1", "reader-1", time.Second)
		e3 := newEvent("k-3", "reader-2", 3*time.Second)
		e3.Data = map[string]string{}
		for _, e := range []*events.Event{e2, e1, e3} {
			ok, err := es.RecordEvent(ctx, e)
			must(t, "RecordEvent "+e.Key, err)
			if !ok {
				t.Fatalf("RecordEvent %s reported not stored", e.Key)
			}
		}
		got, err := es.UnhandledEvents(ctx, 10)
		must(t, "UnhandledEvents", err)
		if len(got) != 3 {
			t.Fatalf("UnhandledEvents: %d events, want 3", len(got))
		}
		for i, want := range []*events.Event{e1, e2, e3} {
			wantEvent(t, "UnhandledEvents["+fmt.Sprint(i)+"]", got[i], want)
		}
		got, err = es.UnhandledEvents(ctx, 2)
		must(t, "UnhandledEvents(2)", err)
		mustEqual(t, "UnhandledEvents(2) keys", []string{got[0].Key, got[1].Key}, []string{"k-1", "k-2"})
		mine, err := es.EventsForReader(ctx, "reader-1", 10)
		must(t, "EventsForReader", err)
		mustEqual(t, "EventsForReader keys (newest first)", []string{mine[0].Key, mine[1].Key}, []string{"k-2", "k-1"})
	}},
	{"Events/RecordedKeys", func(t *testing.T, s *store.Set) {
		ctx, es := t.Context(), s.Events
		for _, k := range []string{"hold-ready:h1:1", "hold-ready:h2:1"} {
			_, err := es.RecordEvent(ctx, newEvent(k, "reader-1", time.Second))
			must(t, "RecordEvent "+k, err)
		}
		got, err := es.RecordedKeys(ctx, []string{"hold-ready:h1:1", "hold-ready:h3:1", "hold-ready:h2:1", "hold-ready:h1:1"})
		must(t, "RecordedKeys", err)
		mustEqual(t, "RecordedKeys", got, map[string]bool{"hold-ready:h1:1": true, "hold-ready:h2:1": true})
		none, err := es.RecordedKeys(ctx, nil)
		must(t, "RecordedKeys(nil)", err)
		mustEqual(t, "RecordedKeys(nil)", len(none), 0)
	}},
	{"Events/RecordedOnceUnder50Goroutines", func(t *testing.T, s *store.Set) {
		const n = 50
		ctx, es := t.Context(), s.Events
		stored := make([]bool, n)
		errs := race(n, func(i int) error {
			var err error
			stored[i], err = es.RecordEvent(ctx, newEvent("ebook-hold-reserved:hold-1:1", "reader-1", time.Duration(i)*time.Second))
			return err
		})
		wins := 0
		for i, err := range errs {
			must(t, fmt.Sprintf("RecordEvent %d", i), err)
			if stored[i] {
				wins++
			}
		}
		if wins != 1 {
			t.Fatalf("%d of %d concurrent RecordEvent calls stored the event, want 1", wins, n)
		}
		again, err := es.RecordEvent(ctx, newEvent("ebook-hold-reserved:hold-1:1", "reader-1", time.Hour))
		must(t, "RecordEvent again", err)
		if again {
			t.Fatal("recording the event again stored it again")
		}
		got, err := es.UnhandledEvents(ctx, 100)
		must(t, "UnhandledEvents", err)
		if len(got) != 1 {
			t.Fatalf("UnhandledEvents: %d events, want 1", len(got))
		}
	}},
	{"Events/MarkHandledOnce", func(t *testing.T, s *store.Set) {
		const n = 50
		ctx, es := t.Context(), s.Events
		e := newEvent("k-1", "reader-1", 0)
		other := newEvent("k-2", "reader-1", time.Second)
		for _, x := range []*events.Event{e, other} {
			_, err := es.RecordEvent(ctx, x)
			must(t, "RecordEvent", err)
		}
		marked := make([]bool, n)
		errs := race(n, func(i int) error {
			var err error
			marked[i], err = es.MarkEventHandled(ctx, "k-1", at(time.Duration(i)*time.Minute+time.Duration(i)))
			return err
		})
		wins := -1
		for i, err := range errs {
			must(t, "MarkEventHandled", err)
			if marked[i] {
				if wins >= 0 {
					t.Fatalf("goroutines %d and %d both marked the event handled", wins, i)
				}
				wins = i
			}
		}
		if wins < 0 {
			t.Fatal("no goroutine marked the event handled")
		}
		got, err := es.UnhandledEvents(ctx, 10)
		must(t, "UnhandledEvents", err)
		if len(got) != 1 || got[0].Key != "k-2" {
			t.Fatalf("UnhandledEvents after marking: %+v, want only k-2", got)
		}
		all, err := es.EventsForReader(ctx, "reader-1", 10)
		must(t, "EventsForReader", err)
		for _, x := range all {
			if x.Key == "k-1" {
				want := *e
				want.HandledAt = ptr(at(time.Duration(wins)*time.Minute + time.Duration(wins)))
				wantEvent(t, "the handled event", x, &want)
			}
		}
		ok, err := es.MarkEventHandled(ctx, "no-such-key", at(0))
		must(t, "MarkEventHandled(unknown)", err)
		if ok {
			t.Fatal("MarkEventHandled of an unknown key reported true")
		}
	}},
}

// LosingEvents is an events.Store that stands for a process dying after it
// stored a change and before it recorded the change's event: events of
// Kind are dropped. Tests of the recovery passes use it.
type LosingEvents struct {
	events.Store
	Kind events.Kind
}

// RecordEvent implements events.Store, dropping events of l.Kind.
func (l LosingEvents) RecordEvent(ctx context.Context, e *events.Event) (bool, error) {
	if e.Kind == l.Kind {
		return false, nil
	}
	return l.Store.RecordEvent(ctx, e)
}
