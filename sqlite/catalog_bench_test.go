package sqlite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/ingest"
	"github.com/bacninh/thuvienso/sqlite"
)

// BenchmarkImport stores the 500 Vietnamese records of
// vn-tiki-derived.nfc.mrc again and again, each time as another library's
// catalogue with varied source IDs and one copy per record, through
// catalog.Service (batches of 500, one transaction each): new records that
// cluster into the works the first copy created, new items, a change per
// work. Parsing is not measured (BenchmarkParseMARC in package ingest).
// It reports records/s.
func BenchmarkImport(b *testing.B) {
	data := filepath.Join("..", "..", "shared", "data", "marc", "vn-tiki-derived.nfc.mrc")
	f, err := os.Open(data)
	if err != nil {
		b.Fatalf("shared test data missing: %v", err)
	}
	src, err := ingest.ReadMARC(f, "bench", ingest.Options{LibraryID: "template"})
	f.Close()
	if err != nil || len(src.Records) != 500 {
		b.Fatalf("reading %s: %v (%d records)", data, err, len(src.Records))
	}
	db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc := &catalog.Service{Store: db.Stores().Catalog}
	n, copies := 0, 0
	batch := func() *catalog.Batch {
		lib := fmt.Sprintf("lib-%04d", copies)
		cb := &catalog.Batch{LibraryID: lib}
		for i, r := range src.Records {
			r.LibraryID = lib
			r.SourceID = fmt.Sprintf("%s-%d-%s", lib, i, r.SourceID)
			cb.Records = append(cb.Records, r)
			cb.Items = append(cb.Items, catalog.Item{Barcode: fmt.Sprintf("%s-%06d", lib, i), LibraryID: lib,
				RecordSourceID: r.SourceID, Location: "Kho mở", CallNumber: r.DDC, Status: catalog.StatusAvailable})
		}
		copies++
		return cb
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		cb := batch()
		b.StartTimer()
		res, err := svc.Import(b.Context(), cb)
		if err != nil || res.RecordsNew != 500 || res.ItemsNew != 500 {
			b.Fatalf("import: %v %s", err, res)
		}
		n += res.RecordsNew
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
