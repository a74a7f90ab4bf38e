package search_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/search"
	"github.com/bacninh/thuvienso/sqlite"
	"github.com/bacninh/thuvienso/store"
)

func openStore(t *testing.T) *store.Set {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db.Stores()
}

func record(source, title, author, isbn string) catalog.Record {
	r := catalog.Record{SourceID: source, SourceFormat: catalog.SourceCSV, Title: title,
		Authors: []catalog.Author{{Name: author, Role: catalog.RoleAuthor, Kind: catalog.AuthorPerson}}, Format: catalog.FormatBook, Languages: []string{"vie"}}
	if isbn != "" {
		r.ISBNs = []catalog.ISBN{{Raw: isbn}}
	}
	return r
}

func TestIndexerFollowsImportsAndAvailability(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	for _, l := range []*library.Library{
		{ID: "bn", Code: "BN", Name: "Thư viện tỉnh Bắc Ninh", Type: library.TypeProvincial, District: "Bắc Ninh"},
		{ID: "ts", Code: "BN-TS", Name: "Thư viện thành phố Từ Sơn", Type: library.TypeDistrict, District: "Từ Sơn"},
	} {
		if err := st.Libraries.CreateLibrary(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	svc := &catalog.Service{Store: st.Catalog}
	imp := func(lib string, recs []catalog.Record, items []catalog.Item) {
		t.Helper()
		for i := range recs {
			recs[i].LibraryID = lib
			recs[i].Normalize()
		}
		if _, err := svc.Import(ctx, &catalog.Batch{LibraryID: lib, Records: recs, Items: items}); err != nil {
			t.Fatal(err)
		}
	}
	imp("bn", []catalog.Record{record("1", "Truyện Kiều", "Nguyễn Du", "978-604-2-12345-1")},
		[]catalog.Item{{Barcode: "BN0001", LibraryID: "bn", RecordSourceID: "1", Status: catalog.StatusAvailable}})

	idx, err := search.Open(filepath.Join(t.TempDir(), "index"))
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	x := &search.Indexer{Index: idx, Catalog: st.Catalog, Libraries: st.Libraries, Poll: 20 * time.Millisecond}
	if n, err := x.Rebuild(ctx); err != nil || n != 1 {
		t.Fatalf("Rebuild = %d, %v", n, err)
	}
	followCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- x.Follow(followCtx) }()
	defer func() { stop(); <-done }()

	eventually := func(what string, ok func(*search.Result) bool, req search.Request) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			res, err := idx.Search(ctx, req)
			if err == nil && ok(res) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 5s (last %+v, %v)", what, res, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	availableAtTS := search.Request{Query: "truyen kieu", Filter: search.Filter{AvailableAt: "ts"}}

	// The same book imported by Từ Sơn joins the work; its copy is on the shelf there.
	imp("ts", []catalog.Record{record("ts-9", "Truyện Kiều", "Nguyễn Du", "9786042123451")},
		[]catalog.Item{{Barcode: "TS0009", LibraryID: "ts", RecordSourceID: "ts-9", Status: catalog.StatusAvailable}})
	eventually("the Từ Sơn copy is searchable as available there", func(r *search.Result) bool { return r.TotalCount == 1 }, availableAtTS)
	// A hit carries the work's copies, so a results page shows availability
	// without reading every copy from the store.
	copiesAre := func(want search.Copies) func(*search.Result) bool {
		return func(r *search.Result) bool {
			return len(r.Hits) == 1 && r.Hits[0].Copies != nil && *r.Hits[0].Copies == want
		}
	}
	eventually("the hit counts two copies in two libraries, both on the shelf", copiesAre(search.Copies{Total: 2, Available: 2, Libraries: 2}), search.Request{Query: "truyen kieu"})

	// A checkout at Từ Sơn removes it from "available now at Từ Sơn".
	if _, err := st.Catalog.SetItemStatus(ctx, "TS0009", []catalog.ItemStatus{catalog.StatusAvailable}, catalog.StatusOnLoan, time.Now()); err != nil {
		t.Fatal(err)
	}
	eventually("the checked-out copy leaves available-now", func(r *search.Result) bool { return r.TotalCount == 0 }, availableAtTS)
	eventually("the work is still found", func(r *search.Result) bool { return r.TotalCount == 1 }, search.Request{Query: "Truyện Kiều"})
	eventually("the hit counts one copy on the shelf", copiesAre(search.Copies{Total: 2, Available: 1, Libraries: 2}), search.Request{Query: "Truyện Kiều", Sort: search.SortTitle})

	// The index restarts from its own watermark.
	w, err := idx.Watermark()
	if err != nil || w == 0 {
		t.Fatalf("watermark = %d, %v", w, err)
	}
	latest, _ := st.Catalog.LatestSeq(ctx)
	if w != latest {
		t.Fatalf("watermark %d, latest change %d", w, latest)
	}
}
