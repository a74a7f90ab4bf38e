package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/sqlite"
	"github.com/bacninh/thuvienso/store"
	"github.com/bacninh/thuvienso/storetest"
)

// openSet opens a fresh database in t's temporary folder.
func openSet(t *testing.T) *store.Set {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "thuvienso.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s := db.Stores()
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { storetest.Run(t, openSet) })
	// The server reads libraries through library.CachedStore: with it in
	// front, the store still meets the whole contract.
	t.Run("sqlite with cached libraries", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) *store.Set {
			s := openSet(t)
			s.Libraries = library.NewCachedStore(s.Libraries, time.Minute)
			return s
		})
	})
}

func TestDataSurvivesCloseAndReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "thuvienso.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	want := &library.Library{ID: "lib-1", Code: "BN-TS", Name: "Thư viện thị xã Từ Sơn", Type: library.TypeDistrict}
	if err := db.Stores().Libraries.CreateLibrary(ctx, want); err != nil {
		t.Fatalf("CreateLibrary: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer db.Close()
	got, err := db.Stores().Libraries.LibraryByCode(ctx, "BN-TS")
	if err != nil {
		t.Fatalf("LibraryByCode after reopening: %v", err)
	}
	if got.ID != want.ID || got.Name != want.Name {
		t.Fatalf("after reopening got %+v, want %+v", got, want)
	}
	if v, err := db.SchemaVersion(ctx); err != nil || v < 1 {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
}

// Two Opens of one new file at the same moment (as two processes starting
// together would) both succeed, migrate once, and see each other's writes.
func TestTwoOpensOfOneFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "thuvienso.db")
	const n = 4
	dbs := make([]*sqlite.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = sqlite.Open(ctx, path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	a, b := dbs[0].Stores(), dbs[n-1].Stores()
	if err := a.Libraries.CreateLibrary(ctx, &library.Library{ID: "lib-1", Code: "BN", Type: library.TypeProvincial}); err != nil {
		t.Fatalf("CreateLibrary through the first: %v", err)
	}
	if _, err := b.Libraries.Library(ctx, "lib-1"); err != nil {
		t.Fatalf("Library through the last: %v", err)
	}
	err := b.Libraries.CreateLibrary(ctx, &library.Library{ID: "lib-2", Code: "BN", Type: library.TypeProvincial})
	if err == nil {
		t.Fatal("the code taken through the first was free through the last")
	}
	for i, db := range dbs {
		if v, err := db.SchemaVersion(ctx); err != nil || v < 1 {
			t.Fatalf("SchemaVersion of %d = %d, %v", i, v, err)
		}
	}
}

func TestOpenRejectsPathsWithQuery(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "x.db?mode=ro")); err == nil {
		t.Fatal("Open accepted a path with a query")
	}
}
