package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/library"
)

// storeCalls counts calls per store method.
type storeCalls struct {
	mu sync.Mutex
	n  map[string]int
}

// add counts a call made while resolving a GraphQL operation; the
// background work of the app (the index follower, the schedulers) does not
// count.
func (c *storeCalls) add(ctx context.Context, m string) {
	if !graphql.HasOperationContext(ctx) {
		return
	}
	c.mu.Lock()
	c.n[m]++
	c.mu.Unlock()
}

func (c *storeCalls) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// countingCatalog counts the catalog reads a response makes.
type countingCatalog struct {
	catalog.Store
	calls *storeCalls
}

func (s countingCatalog) Work(ctx context.Context, id string) (*catalog.StoredWork, error) {
	s.calls.add(ctx, "Work")
	return s.Store.Work(ctx, id)
}

func (s countingCatalog) WorksByID(ctx context.Context, ids []string) ([]*catalog.StoredWork, error) {
	s.calls.add(ctx, "WorksByID")
	return s.Store.WorksByID(ctx, ids)
}

func (s countingCatalog) ItemsByWork(ctx context.Context, ids []string) ([]*catalog.StoredItem, error) {
	s.calls.add(ctx, "ItemsByWork")
	return s.Store.ItemsByWork(ctx, ids)
}

func (s countingCatalog) RecordsByWork(ctx context.Context, ids []string) ([]*catalog.StoredRecord, error) {
	s.calls.add(ctx, "RecordsByWork")
	return s.Store.RecordsByWork(ctx, ids)
}

func (s countingCatalog) Item(ctx context.Context, barcode string) (*catalog.StoredItem, error) {
	s.calls.add(ctx, "Item")
	return s.Store.Item(ctx, barcode)
}

// countingLibraries counts library reads.
type countingLibraries struct {
	library.Store
	calls *storeCalls
}

func (s countingLibraries) Library(ctx context.Context, id string) (*library.Library, error) {
	s.calls.add(ctx, "Library")
	return s.Store.Library(ctx, id)
}

func (s countingLibraries) LibrariesByID(ctx context.Context, ids []string) ([]*library.Library, error) {
	s.calls.add(ctx, "LibrariesByID")
	return s.Store.LibrariesByID(ctx, ids)
}

// TestSearchPageCostsAFixedNumberOfStoreReads asks for a page of 50 works
// with their records, holdings, copies, libraries and availability, and
// counts the store round trips: the per-request loaders batch them, so the
// count does not grow with the page (no N+1).
func TestSearchPageCostsAFixedNumberOfStoreReads(t *testing.T) {
	e := newCatalogEnv(t)
	var bn, ts strings.Builder
	bn.WriteString("title,author,isbn,year,publisher,barcode,call number,location\n")
	ts.WriteString(bn.String())
	for i := range 60 {
		fmt.Fprintf(&bn, "Sổ tay nông nghiệp tập %d,Nguyễn Văn Nông,,2020,NXB Nông nghiệp,BN-NN-%03d,630 NG-N,Kho mở\n", i, i)
		fmt.Fprintf(&ts, "Sổ tay nông nghiệp tập %d,Nguyễn Văn Nông,,2020,NXB Nông nghiệp,TS-NN-%03d,630 NG-N,Phòng đọc\n", i, i)
	}
	e.mustImport(t, "BN", bn.String())
	e.mustImport(t, "BN-TS", ts.String())
	e.indexed(t)

	calls := &storeCalls{n: map[string]int{}}
	e.a.Catalog.Store = countingCatalog{Store: e.a.Catalog.Store, calls: calls}
	e.a.Libraries.Store = countingLibraries{Store: e.a.Libraries.Store, calls: calls}
	const page = `query($first: Int) { search(query: "so tay nong nghiep", first: $first) { totalCount edges { node {
	  id title records { library { name } }
	  holdings { library { name parent { name } } total available onShelf items { barcode status library { code } } }
	  availability { total available libraries } } } } }`
	for _, n := range []int{5, 50} {
		r := e.anon.do(page, map[string]any{"first": n})
		if len(r.Errors) > 0 || len(field(r.Data, "search", "edges").([]any)) != n {
			t.Fatalf("a page of %d: %+v", n, r.Errors)
		}
		got, total := calls.reset(), 0
		for _, c := range got {
			total += c
		}
		t.Logf("a page of %d works: %d store reads %v", n, total, got)
		// A loader batches what arrives within its wait (batchWait); under
		// the race detector on a loaded machine a page's fields may span two
		// or three windows. N+1 would be 50 calls of a method.
		for m, c := range got {
			if c > 4 {
				t.Errorf("a page of %d works called %s %d times; the loaders should batch it", n, m, c)
			}
		}
		if total > 16 {
			t.Errorf("a page of %d works cost %d store reads, want a small fixed number", n, total)
		}
	}
}

// TestSearchResultsShowAvailabilityFromTheIndex: a results page that shows
// each work's availability but not its copies reads no copy from the store,
// and the counts it shows are the store's, a checkout included once the
// index has followed it.
func TestSearchResultsShowAvailabilityFromTheIndex(t *testing.T) {
	e := newCatalogEnv(t)
	e.mustImport(t, "BN", "title,author,isbn,year,publisher,barcode,call number,location\n"+
		"Truyện Kiều,Nguyễn Du,,2015,NXB Văn học,BN-K-1,895.922 NG-D,Kho mở\n"+
		"Truyện Kiều,Nguyễn Du,,2015,NXB Văn học,BN-K-2,895.922 NG-D,Kho mở\n")
	e.mustImport(t, "BN-TS", "title,author,isbn,year,publisher,barcode,call number,location\n"+
		"Truyện Kiều,Nguyễn Du,,2015,NXB Văn học,TS-K-1,895.922 NG-D,Phòng đọc\n")
	e.indexed(t)

	calls := &storeCalls{n: map[string]int{}}
	e.a.Catalog.Store = countingCatalog{Store: e.a.Catalog.Store, calls: calls}
	const results = `{ search(query: "truyen kieu") { edges { node { id availability { total available libraries } } } } }`
	availability := func() map[string]any {
		t.Helper()
		r := e.anon.do(results, nil)
		edges, _ := field(r.Data, "search", "edges").([]any)
		if len(r.Errors) > 0 || len(edges) != 1 {
			t.Fatalf("search: %+v %v", r.Errors, r.Data)
		}
		return field(edges[0].(map[string]any), "node", "availability").(map[string]any)
	}
	want := map[string]any{"total": 3.0, "available": 3.0, "libraries": 2.0}
	if got := availability(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("availability on the results page = %v, want %v", got, want)
	}
	if n := calls.reset()["ItemsByWork"]; n != 0 {
		t.Errorf("the results page read copies from the store %d times, want none", n)
	}

	if _, err := e.a.Stores.Catalog.SetItemStatus(t.Context(), "TS-K-1", []catalog.ItemStatus{catalog.StatusAvailable}, catalog.StatusOnLoan, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.indexed(t)
	want["available"] = 2.0
	if got := availability(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("availability after a checkout = %v, want %v", got, want)
	}
}
