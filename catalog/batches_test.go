package catalog_test

import (
	"fmt"
	"testing"

	"github.com/bacninh/thuvienso/catalog"
)

// An import of interleaved libraries sends each library's full batches as
// they fill and the remainders last, every record once with its items.
func TestBatchesByLibraryFillsPerLibraryAndSendsRemaindersLast(t *testing.T) {
	n := catalog.DefaultBatchSize
	holdings := func(yield func(*catalog.Record, []*catalog.Item) bool) {
		for i := range n + 3 {
			for _, lib := range []string{"A", "B"} {
				if lib == "B" && i >= 2 {
					continue
				}
				rec := &catalog.Record{LibraryID: lib, SourceID: fmt.Sprint(i)}
				if !yield(rec, []*catalog.Item{{Barcode: lib + rec.SourceID, LibraryID: lib}}) {
					return
				}
			}
		}
	}
	var got []string
	for b := range catalog.BatchesByLibrary(holdings) {
		if len(b.Items) != len(b.Records) {
			t.Fatalf("batch of %s: %d records, %d items", b.LibraryID, len(b.Records), len(b.Items))
		}
		got = append(got, fmt.Sprintf("%s:%d", b.LibraryID, len(b.Records)))
	}
	want := []string{fmt.Sprintf("A:%d", n), "A:3", "B:2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("batches %v, want %v", got, want)
	}
}
