package storetest

import (
	"fmt"
	"sort"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/store"
)

// Contract tests of reading history and the pull list's query; listed in
// circulationStoreTests.

func testHistorySettingStartsOffAndCountsItsChanges(t *testing.T, s *store.Set) {
	ctx, cs := t.Context(), s.Circulation
	_, err := cs.HistorySetting(ctx, "r1")
	wantCode(t, "a reader who never chose", err, thuvienso.CodeNotFound)
	on, err := cs.SetHistorySetting(ctx, "r1", true, at(0))
	must(t, "SetHistorySetting on", err)
	mustEqual(t, "turned on", on, &circulation.HistorySetting{ReaderID: "r1", Enabled: true, UpdatedAt: at(0).UTC(), Version: 1})
	off, err := cs.SetHistorySetting(ctx, "r1", false, at(time.Hour))
	must(t, "SetHistorySetting off", err)
	got, err := cs.HistorySetting(ctx, "r1")
	must(t, "HistorySetting", err)
	want := &circulation.HistorySetting{ReaderID: "r1", Enabled: false, UpdatedAt: at(time.Hour).UTC(), Version: 2}
	mustEqual(t, "turned off", off, want)
	mustEqual(t, "read back", got, want)
	wantUTC(t, "updated", got.UpdatedAt)

	// A clear advances the version and keeps the choice; for a reader who
	// never chose it records "off".
	_, err = cs.ClearHistory(ctx, "r1", at(2*time.Hour))
	must(t, "ClearHistory", err)
	got, err = cs.HistorySetting(ctx, "r1")
	must(t, "HistorySetting after clearing", err)
	mustEqual(t, "after clearing", got, &circulation.HistorySetting{ReaderID: "r1", Enabled: false, UpdatedAt: at(2 * time.Hour).UTC(), Version: 3})
	_, err = cs.ClearHistory(ctx, "r2", at(0))
	must(t, "ClearHistory of a reader who never chose", err)
	got, err = cs.HistorySetting(ctx, "r2")
	must(t, "HistorySetting r2", err)
	if got.Enabled || got.Version != 1 {
		t.Fatalf("r2 after a clear: %+v, want off at version 1", got)
	}

	// Concurrent changes each get their own version: none is lost.
	const n = 16
	run := gate(Options{})
	versions := make([]int, n)
	errs := race(n, func(i int) error {
		return run(func() error {
			h, err := cs.SetHistorySetting(ctx, "r3", i%2 == 0, at(time.Duration(i)))
			if err == nil {
				versions[i] = h.Version
			}
			return err
		})
	})
	for i, err := range errs {
		must(t, fmt.Sprintf("SetHistorySetting %d", i), err)
	}
	sort.Ints(versions)
	for i, v := range versions {
		if v != i+1 {
			t.Fatalf("versions of %d concurrent changes: %v, want 1…%d", n, versions, n)
		}
	}
}

func testHistoryPagesNewestFirstAndClears(t *testing.T, s *store.Set) {
	ctx, cs := t.Context(), s.Circulation
	entry := func(id, reader string, returned time.Time) *circulation.HistoryEntry {
		return &circulation.HistoryEntry{ID: id, ReaderID: reader, WorkID: "w-" + id, Title: "Truyện Kiều " + id,
			Authors: []string{"Nguyễn Du", communeNFD}, LibraryID: libTuSon, LibraryName: nameTuSon,
			BorrowedAt: returned.Add(-14 * 24 * time.Hour), ReturnedAt: returned}
	}
	// e2 and e3 were returned at one time: the ID orders them; e4 a
	// nanosecond later than e1 (a millisecond store must still tell them apart).
	es := []*circulation.HistoryEntry{
		entry("e1", "r1", at(0)), entry("e2", "r1", at(time.Hour)), entry("e3", "r1", at(time.Hour)),
		entry("e4", "r1", at(time.Nanosecond)), entry("e5", "r1", at(-time.Hour)), entry("x1", "r2", at(0)),
	}
	for _, e := range es {
		must(t, "AddHistoryEntry "+e.ID, cs.AddHistoryEntry(ctx, e))
	}
	again := entry("e1", "r1", at(5*time.Hour))
	again.Title = "changed"
	must(t, "adding an entry twice", cs.AddHistoryEntry(ctx, again))

	var got []string
	var after *circulation.HistoryCursor
	for page := 0; page < 10; page++ {
		p, err := cs.HistoryEntries(ctx, "r1", after, 2)
		must(t, "HistoryEntries", err)
		for _, e := range p {
			got = append(got, e.ID)
		}
		if len(p) < 2 {
			break
		}
		c := circulation.HistoryCursorOf(p[len(p)-1])
		after = &c
	}
	mustEqual(t, "r1's history, newest first", got, []string{"e3", "e2", "e4", "e1", "e5"})

	all, err := cs.HistoryEntries(ctx, "r1", nil, 10)
	must(t, "HistoryEntries", err)
	want := *es[0]
	want.BorrowedAt, want.ReturnedAt = want.BorrowedAt.UTC(), want.ReturnedAt.UTC()
	mustEqual(t, "e1 as stored the first time", all[3], &want)
	wantUTC(t, "entry", all[3].BorrowedAt, all[3].ReturnedAt)
	n, err := cs.CountHistory(ctx, "r1")
	must(t, "CountHistory", err)
	mustEqual(t, "r1's count", n, 5)

	wantCode(t, "deleting another reader's entry", cs.DeleteHistoryEntry(ctx, "r2", "e1"), thuvienso.CodeNotFound)
	must(t, "DeleteHistoryEntry", cs.DeleteHistoryEntry(ctx, "r1", "e5"))
	wantCode(t, "deleting it again", cs.DeleteHistoryEntry(ctx, "r1", "e5"), thuvienso.CodeNotFound)

	cleared, err := cs.ClearHistory(ctx, "r1", at(time.Hour))
	must(t, "ClearHistory", err)
	mustEqual(t, "entries cleared", cleared, 4)
	if left, _ := cs.HistoryEntries(ctx, "r1", nil, 10); len(left) != 0 {
		t.Fatalf("r1's history after a clear: %+v", left)
	}
	other, err := cs.HistoryEntries(ctx, "r2", nil, 10)
	must(t, "HistoryEntries r2", err)
	if len(other) != 1 || other[0].ID != "x1" {
		t.Fatalf("r2's history after r1 cleared: %+v", other)
	}
	// A loan recorded again after a clear is a new entry.
	must(t, "adding after a clear", cs.AddHistoryEntry(ctx, entry("e1", "r1", at(0))))
	if n, _ := cs.CountHistory(ctx, "r1"); n != 1 {
		t.Fatalf("count after adding again: %d", n)
	}
}

func testWaitingHoldWorksListsEachWorkOnce(t *testing.T, s *store.Set) {
	ctx, cs := t.Context(), s.Circulation
	holds := []*circulation.Hold{
		{ID: "h1", ReaderID: "r1", WorkID: "w1", State: circulation.HoldWaiting},
		{ID: "h2", ReaderID: "r2", WorkID: "w1", State: circulation.HoldWaiting},
		{ID: "h3", ReaderID: "r1", WorkID: "w2", State: circulation.HoldSuspended, Slot: 1},
		{ID: "h4", ReaderID: "r1", WorkID: "w3", State: circulation.HoldReady, Barcode: "B3", Slot: 2},
		{ID: "h5", ReaderID: "r1", WorkID: "w4", State: circulation.HoldWaiting, Slot: 3},
		{ID: "h6", ReaderID: "r2", WorkID: "w5", State: circulation.HoldWaiting, Slot: 1},
	}
	for i, h := range holds {
		h.PickupLibraryID, h.CreatedAt = libTuSon, at(time.Duration(i))
		must(t, "CreateHold "+h.ID, cs.CreateHold(ctx, h))
	}
	h5 := holds[4]
	h5.State, h5.EndedAt = circulation.HoldCancelled, ptr(at(time.Hour))
	must(t, "cancelling h5", cs.UpdateHold(ctx, h5))
	got, err := cs.WaitingHoldWorks(ctx)
	must(t, "WaitingHoldWorks", err)
	sort.Strings(got)
	mustEqual(t, "works with waiting holds", got, []string{"w1", "w5"})
}
