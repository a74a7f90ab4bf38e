package library_test

import (
	"context"
	"errors"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/library"
)

// Two instances share one store, each with its own CachedStore: what one
// changes, the other sees once it is told (Invalidate), and a library the
// other has never seen is found at once.
func TestCachedStoreFollowsChanges(t *testing.T) {
	ctx := context.Background()
	shared := openStore(t)
	announced := 0
	here := library.NewCachedStore(shared, time.Hour)
	here.Changed = func(context.Context) { announced++ }
	there := library.NewCachedStore(shared, time.Hour)

	bn := &library.Library{ID: "bn", Code: "BN", Name: "Thư viện tỉnh Bắc Ninh", Type: library.TypeProvincial, District: "Bắc Ninh",
		Hours: []library.OpeningHours{{Weekday: time.Monday, Opens: "07:30", Closes: "17:00"}}}
	if err := here.CreateLibrary(ctx, bn); err != nil {
		t.Fatal(err)
	}
	if announced != 1 {
		t.Errorf("creating a library announced %d changes, want 1", announced)
	}
	// Both instances read it (and keep a snapshot).
	for name, s := range map[string]*library.CachedStore{"here": here, "there": there} {
		if l, err := s.Library(ctx, "bn"); err != nil || l.Name != bn.Name {
			t.Fatalf("%s: Library = %+v, %v", name, l, err)
		}
	}

	// A caller changing what it got changes nothing for the next one.
	l, _ := there.Library(ctx, "bn")
	l.Name, l.Hours[0].Opens = "changed by a caller", "00:00"
	if again, _ := there.Library(ctx, "bn"); again.Name != bn.Name || again.Hours[0].Opens != "07:30" {
		t.Errorf("a lookup returned the snapshot's own library: %+v", again)
	}

	// Opening hours change here: seen here at once, there once told.
	changed, _ := here.Library(ctx, "bn")
	changed.Hours = []library.OpeningHours{{Weekday: time.Monday, Opens: "08:00", Closes: "20:00"}}
	if err := here.UpdateLibrary(ctx, changed); err != nil {
		t.Fatal(err)
	}
	if l, _ := here.Library(ctx, "bn"); l.Hours[0].Closes != "20:00" {
		t.Errorf("here after the update: %+v", l.Hours)
	}
	if l, _ := there.Library(ctx, "bn"); l.Hours[0].Closes != "17:00" {
		t.Errorf("there before being told: %+v (the snapshot should still answer)", l.Hours)
	}
	there.Invalidate()
	if ls, _ := there.LibrariesByID(ctx, []string{"bn"}); len(ls) != 1 || ls[0].Hours[0].Closes != "20:00" {
		t.Errorf("there after Invalidate: %+v", ls)
	}

	// A library created elsewhere is found without waiting, by ID, by code
	// and in a batch; an unknown one is NOT_FOUND.
	ts := &library.Library{ID: "ts", Code: "BN-TS", Name: "Thư viện thành phố Từ Sơn", Type: library.TypeDistrict, ParentID: "bn", District: "Từ Sơn"}
	if err := shared.CreateLibrary(ctx, ts); err != nil {
		t.Fatal(err)
	}
	if l, err := there.LibraryByCode(ctx, "BN-TS"); err != nil || l.ID != "ts" {
		t.Errorf("LibraryByCode of a new library = %+v, %v", l, err)
	}
	if ls, err := there.LibrariesByID(ctx, []string{"ts", "bn", "nope"}); err != nil || len(ls) != 2 {
		t.Errorf("LibrariesByID = %d libraries, %v; want 2", len(ls), err)
	}
	if _, err := there.Library(ctx, "nope"); !errors.Is(err, thuvienso.ErrNotFound) {
		t.Errorf("Library(nope) = %v, want NOT_FOUND", err)
	}
}

// hangingStore is a store whose listing hangs until released, as a
// MongoDB behind a broken network might.
type hangingStore struct {
	library.Store
	release chan struct{}
}

func (h hangingStore) Libraries(ctx context.Context, _ []library.Type, _ string) ([]*library.Library, error) {
	select {
	case <-h.release:
		return nil, errors.New("released")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (h hangingStore) Library(ctx context.Context, id string) (*library.Library, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &library.Library{ID: id}, nil
}

// A lookup waits for the snapshot no longer than its own context allows,
// then asks the store itself: a hanging snapshot read does not hang every
// request that names a library.
func TestCachedStoreLookupsKeepTheirDeadline(t *testing.T) {
	h := hangingStore{release: make(chan struct{})}
	defer close(h.release)
	c := library.NewCachedStore(h, time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.Library(ctx, "bn")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a lookup past its deadline: %v, want the deadline's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a lookup waited for a hanging snapshot read past its own deadline")
	}
}
