package sqlite_test

import (
	"slices"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/catalog"
)

// TestItemsFollowTheirRecordByRowID covers what migration 0011 changed:
// items refer to their record by its row ID, and those stored before
// their record by its key until it arrives.
func TestItemsFollowTheirRecordByRowID(t *testing.T) {
	ctx := t.Context()
	s := openSet(t)
	at := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	rec := func(src, title string) catalog.Record {
		r := catalog.Record{LibraryID: "L1", SourceID: src, SourceFormat: catalog.SourceCSV, Title: title, Year: 1941,
			Format: catalog.FormatBook, Languages: []string{"vie"},
			Authors: []catalog.Author{{Name: "Tô Hoài", Role: catalog.RoleAuthor, Kind: catalog.AuthorPerson}}}
		r.Normalize()
		return r
	}
	item := func(src, bc string) catalog.Item {
		return catalog.Item{Barcode: bc, LibraryID: "L1", RecordSourceID: src, LoanType: "BOOK", Status: catalog.StatusAvailable}
	}
	apply := func(b catalog.Batch) *catalog.ApplyResult {
		t.Helper()
		b.LibraryID, b.At = "L1", at
		at = at.Add(time.Minute)
		res, err := s.Catalog.Apply(ctx, &b)
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		return res
	}
	barcodes := func(work string) []string {
		t.Helper()
		items, err := s.Catalog.ItemsByWork(ctx, []string{work})
		if err != nil {
			t.Fatalf("ItemsByWork: %v", err)
		}
		var out []string
		for _, it := range items {
			out = append(out, it.Barcode)
		}
		return out
	}
	workOf := func(src string) string {
		t.Helper()
		r, err := s.Catalog.Record(ctx, "L1", src)
		if err != nil {
			t.Fatalf("Record %s: %v", src, err)
		}
		return r.WorkID
	}

	// Items before their record: no work until it arrives, then its work.
	apply(catalog.Batch{Items: []catalog.Item{item("A", "A-1"), item("A", "A-2")}})
	if it, err := s.Catalog.Item(ctx, "A-1"); err != nil || it.WorkID != "" {
		t.Fatalf("item without its record: %+v, %v", it, err)
	}
	apply(catalog.Batch{Records: []catalog.Record{rec("A", "Dế Mèn phiêu lưu ký"), rec("B", "Vợ chồng A Phủ")},
		Items: []catalog.Item{item("B", "B-1")}})
	wa, wb := workOf("A"), workOf("B")
	if got := barcodes(wa); !slices.Equal(got, []string{"A-1", "A-2"}) {
		t.Fatalf("items of A's work: %v", got)
	}
	if got := barcodes(wb); !slices.Equal(got, []string{"B-1"}) {
		t.Fatalf("items of B's work: %v", got)
	}
	// An item moves to another record of a later batch, and one to a
	// record not stored.
	apply(catalog.Batch{Items: []catalog.Item{item("B", "A-2"), item("C", "A-1")}})
	if got := barcodes(wa); len(got) != 0 {
		t.Fatalf("items of A's work after they moved: %v", got)
	}
	if got := barcodes(wb); !slices.Equal(got, []string{"A-2", "B-1"}) {
		t.Fatalf("items of B's work after A-2 moved: %v", got)
	}
	// A record deleted takes its items, stored with it or before it.
	apply(catalog.Batch{Items: []catalog.Item{item("D", "D-1")}})
	res := apply(catalog.Batch{Deletions: []catalog.RecordRef{{LibraryID: "L1", SourceID: "B"}, {LibraryID: "L1", SourceID: "C"},
		{LibraryID: "L1", SourceID: "D"}}})
	if res.Deleted != 1 || res.ItemsDeleted != 4 {
		t.Fatalf("deletion: %s", res)
	}
	// A record deleted and imported again gets a new row, and its new
	// items follow it.
	apply(catalog.Batch{Records: []catalog.Record{rec("B", "Vợ chồng A Phủ")}, Items: []catalog.Item{item("B", "B-9")}})
	if got := barcodes(workOf("B")); !slices.Equal(got, []string{"B-9"}) {
		t.Fatalf("items of B's work after it came back: %v", got)
	}
	c, err := s.Catalog.Counts(ctx)
	if err != nil || c.Items != 1 {
		t.Fatalf("counts %+v, %v", c, err)
	}
}
