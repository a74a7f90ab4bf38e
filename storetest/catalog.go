package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/store"
)

// Libraries of the catalog tests.
const (
	libProvincial = "lib-provincial"
	libTuSon      = "lib-tuson"
	libSchool     = "lib-school-dongngan"
)

// isbn normalises s, failing t when it is not a valid ISBN.
func isbn(t *testing.T, s string) catalog.ISBN {
	t.Helper()
	n, err := catalog.NormalizeISBN(s)
	if err != nil {
		t.Fatalf("NormalizeISBN(%q): %v", s, err)
	}
	return catalog.ISBN{Raw: s, ISBN13: n}
}

// newRecord returns a normalised record with the common fields set.
func newRecord(lib, src, title, author string, year int, isbns ...catalog.ISBN) catalog.Record {
	r := catalog.Record{
		LibraryID: lib, SourceID: src, SourceFormat: catalog.SourceCSV,
		Title: title, Year: year, ISBNs: isbns, Format: catalog.FormatBook, Languages: []string{"vie"},
	}
	if author != "" {
		r.Authors = []catalog.Author{{Name: author, Role: catalog.RoleAuthor, Kind: catalog.AuthorPerson}}
	}
	r.Normalize()
	return r
}

// fullRecord is a record with every field set, Vietnamese text and raw
// MARC bytes that are not text.
func fullRecord(t *testing.T, lib, src string) catalog.Record {
	return catalog.Record{
		LibraryID: lib, SourceID: src, SourceFormat: catalog.SourceMARC21,
		RawMARC:  []byte("00042nam a2200037 a 4500\x1e\x00\xff\xfe Truyện Kiều\x1d"),
		Title:    "Truyện Kiều",
		Subtitle: "Đoạn trường tân thanh",
		Authors: []catalog.Author{
			{Name: "Nguyễn Du", Role: catalog.RoleAuthor, Kind: catalog.AuthorPerson},
			{Name: "Đào Duy Anh", Role: catalog.RoleEditor, Kind: catalog.AuthorPerson},
			{Name: "Hội Văn học nghệ thuật tỉnh Bắc Ninh", Role: catalog.RoleContributor, Kind: catalog.AuthorCorporate},
		},
		Subjects:            []string{"Văn học Việt Nam", "Truyện thơ"},
		Edition:             "Tái bản lần thứ 3",
		Publisher:           "Nhà xuất bản Văn học",
		Place:               "Hà Nội",
		Year:                2019,
		ISBNs:               []catalog.ISBN{isbn(t, "978-604-69-1234-7"), {Raw: "không hợp lệ"}},
		DDC:                 "895.9221",
		Summary:             "Kiệt tác của đại thi hào Nguyễn Du.\nBản chú giải đầy đủ.",
		Series:              []string{"Tủ sách văn học cổ điển"},
		PhysicalDescription: "450 tr. ; 21 cm",
		Links:               []catalog.Link{{URL: "https://thuvien.bacninh.gov.vn/bia/kieu.jpg", Note: "Ảnh bìa"}},
		Format:              catalog.FormatBook,
		Languages:           []string{"vie", "chi"},
	}
}

// newItem returns an available copy of one library's record.
func newItem(lib, src, barcode string) catalog.Item {
	return catalog.Item{Barcode: barcode, LibraryID: lib, RecordSourceID: src, Location: "Kho mở",
		CallNumber: "895.922 NG-D", LoanType: "BOOK", Status: catalog.StatusAvailable}
}

// apply applies b, failing t on error.
func apply(t *testing.T, s *store.Set, b *catalog.Batch) *catalog.ApplyResult {
	t.Helper()
	res, err := s.Catalog.Apply(t.Context(), b)
	if err != nil {
		t.Fatalf("Apply of library %s: %v", b.LibraryID, err)
	}
	return res
}

// workOf returns the work of a stored record.
func workOf(t *testing.T, s *store.Set, lib, src string) string {
	t.Helper()
	r, err := s.Catalog.Record(t.Context(), lib, src)
	must(t, "Record "+lib+"/"+src, err)
	if r.WorkID == "" {
		t.Fatalf("record %s/%s has no work", lib, src)
	}
	return r.WorkID
}

// allChanges returns every change, checking the order.
func allChanges(t *testing.T, s *store.Set) []catalog.Change {
	t.Helper()
	cs, err := s.Catalog.Changes(t.Context(), 0, 1_000_000)
	must(t, "Changes", err)
	for i := 1; i < len(cs); i++ {
		if cs[i].Seq <= cs[i-1].Seq {
			t.Fatalf("changes out of order: %d after %d", cs[i].Seq, cs[i-1].Seq)
		}
	}
	return cs
}

// changedWorks returns the works named by changes with Seq > after.
func changedWorks(t *testing.T, s *store.Set, after int64) []string {
	t.Helper()
	cs, err := s.Catalog.Changes(t.Context(), after, 1_000_000)
	must(t, "Changes", err)
	var ws []string
	for _, c := range cs {
		if !slices.Contains(ws, c.WorkID) {
			ws = append(ws, c.WorkID)
		}
	}
	sort.Strings(ws)
	return ws
}

// latest returns LatestSeq.
func latest(t *testing.T, s *store.Set) int64 {
	t.Helper()
	n, err := s.Catalog.LatestSeq(t.Context())
	must(t, "LatestSeq", err)
	return n
}

var catalogTests = []test{
	{"Catalog/RoundTrip", func(t *testing.T, s *store.Set) {
		ctx, cs := t.Context(), s.Catalog
		full := fullRecord(t, libProvincial, "BN-0001")
		nfd := newRecord(libProvincial, "BN-0002", communeNFD, readerName, 2001)
		nfd.Title = communeNFD // stores keep text as given
		it1 := newItem(libProvincial, "BN-0001", "BN000001")
		it1.Branch, it1.Location = "TT", "Phòng đọc thiếu nhi"
		it2 := newItem(libTuSon, "BN-0001", "BN000002") // a branch of the same ILS
		it2.Status = catalog.StatusReferenceOnly
		res := apply(t, s, &catalog.Batch{LibraryID: libProvincial, At: at(time.Hour),
			Records: []catalog.Record{full, nfd}, Items: []catalog.Item{it1, it2}})
		mustEqual(t, "result", [4]int{res.RecordsNew, res.ItemsNew, res.WorksCreated, res.Changes}, [4]int{2, 2, 2, 2})

		got, err := cs.Record(ctx, libProvincial, "BN-0001")
		must(t, "Record", err)
		wantUTC(t, "record", got.UpdatedAt)
		mustEqual(t, "record", got.Record, full)
		if !got.UpdatedAt.Equal(at(time.Hour)) || got.Hash != catalog.RecordHash(&full) {
			t.Errorf("record UpdatedAt %v hash %q", got.UpdatedAt, got.Hash)
		}
		got2, err := cs.Record(ctx, libProvincial, "BN-0002")
		must(t, "Record NFD", err)
		mustEqual(t, "NFD title", got2.Title, communeNFD)
		_, err = cs.Record(ctx, libTuSon, "BN-0001")
		wantErr(t, "Record of another library", err, thuvienso.ErrNotFound)

		wid := got.WorkID
		w, err := cs.Work(ctx, wid)
		must(t, "Work", err)
		wantUTC(t, "work", w.UpdatedAt)
		want := &catalog.StoredWork{ID: wid, Key: "isbn:9786046912347", Title: full.Title, Subtitle: full.Subtitle,
			Authors: full.Authors, Year: 2019, Format: catalog.FormatBook, Languages: []string{"vie", "chi"},
			ISBNs: []string{"9786046912347"}, Subjects: full.Subjects, Series: full.Series, Edition: full.Edition,
			Publisher: full.Publisher, Place: full.Place, DDC: full.DDC, Summary: full.Summary,
			PhysicalDescription: full.PhysicalDescription, Links: full.Links, RecordCount: 1, UpdatedAt: at(time.Hour).UTC()}
		mustEqual(t, "work", w, want)

		ws, err := cs.WorksByID(ctx, []string{wid, "no-such-work", got2.WorkID})
		must(t, "WorksByID", err)
		if len(ws) != 2 {
			t.Fatalf("WorksByID returned %d works, want 2", len(ws))
		}
		_, err = cs.Work(ctx, "no-such-work")
		wantErr(t, "Work missing", err, thuvienso.ErrNotFound)

		recs, err := cs.RecordsByWork(ctx, []string{wid, got2.WorkID})
		must(t, "RecordsByWork", err)
		if len(recs) != 2 {
			t.Fatalf("RecordsByWork returned %d records", len(recs))
		}
		items, err := cs.ItemsByWork(ctx, []string{wid})
		must(t, "ItemsByWork", err)
		if len(items) != 2 || items[0].Barcode != "BN000001" || items[1].Barcode != "BN000002" {
			t.Fatalf("ItemsByWork: %+v", items)
		}
		wantUTC(t, "item", items[0].UpdatedAt)
		mustEqual(t, "item", *items[0], catalog.StoredItem{Item: it1, RecordLibraryID: libProvincial, WorkID: wid, UpdatedAt: at(time.Hour).UTC()})
		mustEqual(t, "branch item", *items[1], catalog.StoredItem{Item: it2, RecordLibraryID: libProvincial, WorkID: wid, UpdatedAt: at(time.Hour).UTC()})
		one, err := cs.Item(ctx, "BN000002")
		must(t, "Item", err)
		mustEqual(t, "Item", one, items[1])
		_, err = cs.Item(ctx, "nope")
		wantErr(t, "Item missing", err, thuvienso.ErrNotFound)
		byBC, err := cs.ItemsByBarcode(ctx, []string{"BN000001", "nope", "BN000002"})
		must(t, "ItemsByBarcode", err)
		if len(byBC) != 2 {
			t.Fatalf("ItemsByBarcode returned %d items", len(byBC))
		}
		c, err := cs.Counts(ctx)
		must(t, "Counts", err)
		mustEqual(t, "counts", c, catalog.Counts{Works: 2, Records: 2, Items: 2})

		// Paging over every work by ID.
		var paged []string
		after := ""
		for {
			page, err := cs.Works(ctx, after, 1)
			must(t, "Works", err)
			if len(page) == 0 {
				break
			}
			paged = append(paged, page[0].ID)
			after = page[0].ID
		}
		wantIDs := []string{wid, got2.WorkID}
		sort.Strings(wantIDs)
		mustEqual(t, "paged works", paged, wantIDs)
	}},
	{"Catalog/ReimportChangesNothing", func(t *testing.T, s *store.Set) {
		batch := func() *catalog.Batch {
			return &catalog.Batch{LibraryID: libProvincial, At: at(time.Hour), Records: []catalog.Record{
				fullRecord(t, libProvincial, "BN-0001"),
				newRecord(libProvincial, "BN-0002", "Số đỏ", "Vũ Trọng Phụng", 1936),
			}, Items: []catalog.Item{newItem(libProvincial, "BN-0001", "BN000001"), newItem(libProvincial, "BN-0002", "BN000002")},
				Deletions: []catalog.RecordRef{{LibraryID: libProvincial, SourceID: "BN-9999"}}}
		}
		first := apply(t, s, batch())
		if first.RecordsNew != 2 || first.ItemsNew != 2 || first.DeletionsMissing != 1 {
			t.Fatalf("first import: %s", first)
		}
		seq := latest(t, s)
		if seq == 0 {
			t.Fatal("the first import appended no change")
		}
		w, err := s.Catalog.Work(t.Context(), workOf(t, s, libProvincial, "BN-0001"))
		must(t, "Work", err)
		b := batch()
		b.At = at(2 * time.Hour)
		again := apply(t, s, b)
		want := catalog.ApplyResult{RecordsUnchanged: 2, ItemsUnchanged: 2, DeletionsMissing: 1}
		mustEqual(t, "second import", *again, want)
		mustEqual(t, "latest seq after the second import", latest(t, s), seq)
		w2, err := s.Catalog.Work(t.Context(), w.ID)
		must(t, "Work", err)
		mustEqual(t, "work after the second import", w2, w)
	}},
	{"Catalog/UpdateRecordAndItem", func(t *testing.T, s *store.Set) {
		ctx := t.Context()
		r := newRecord(libTuSon, "TS-1", "Dế Mèn phiêu lưu ký", "Tô Hoài", 1941)
		it := newItem(libTuSon, "TS-1", "TS000001")
		apply(t, s, &catalog.Batch{LibraryID: libTuSon, At: at(0), Records: []catalog.Record{r}, Items: []catalog.Item{it}})
		wid := workOf(t, s, libTuSon, "TS-1")
		_, err := s.Catalog.SetItemStatus(ctx, "TS000001", []catalog.ItemStatus{catalog.StatusAvailable}, catalog.StatusOnLoan, at(time.Minute))
		must(t, "SetItemStatus", err)
		seq := latest(t, s)
		r.Summary = "Truyện thiếu nhi nổi tiếng."
		it.CallNumber, it.Status = "895.9223 T450H", catalog.StatusAvailable
		res := apply(t, s, &catalog.Batch{LibraryID: libTuSon, At: at(time.Hour), Records: []catalog.Record{r}, Items: []catalog.Item{it}})
		if res.RecordsUpdated != 1 || res.ItemsUpdated != 1 || res.RecordsNew+res.WorksCreated != 0 || res.Changes != 1 {
			t.Fatalf("update: %s", res)
		}
		mustEqual(t, "changed works", changedWorks(t, s, seq), []string{wid})
		w, err := s.Catalog.Work(ctx, wid)
		must(t, "Work", err)
		if w.Summary != r.Summary || !w.UpdatedAt.Equal(at(time.Hour)) {
			t.Errorf("work not recomputed: %+v", w)
		}
		got, err := s.Catalog.Item(ctx, "TS000001")
		must(t, "Item", err)
		if got.CallNumber != it.CallNumber || got.Status != catalog.StatusOnLoan {
			t.Errorf("item after re-import: call number %q status %s (an import never overwrites the status)", got.CallNumber, got.Status)
		}
	}},
	{"Catalog/SameBookThreeLibraries", func(t *testing.T, s *store.Set) {
		ctx := t.Context()
		// One book, its ISBN written three ways.
		apply(t, s, &catalog.Batch{LibraryID: libProvincial, At: at(0),
			Records: []catalog.Record{newRecord(libProvincial, "P-1", "Nhà giả kim", "Paulo Coelho", 2013, isbn(t, "0-06-250217-4"))},
			Items:   []catalog.Item{newItem(libProvincial, "P-1", "P-001"), newItem(libProvincial, "P-1", "P-002")}})
		apply(t, s, &catalog.Batch{LibraryID: libTuSon, At: at(time.Second),
			Records: []catalog.Record{newRecord(libTuSon, "T-7", "Nhà giả kim", "Coelho, Paulo", 2013, isbn(t, "978-0-06-250217-9"))},
			Items:   []catalog.Item{newItem(libTuSon, "T-7", "T-001")}})
		apply(t, s, &catalog.Batch{LibraryID: libSchool, At: at(2 * time.Second),
			Records: []catalog.Record{newRecord(libSchool, "S-3", "Nhà Giả Kim", "", 0, isbn(t, "9780062502179"))},
			Items:   []catalog.Item{newItem(libSchool, "S-3", "S-001")}})
		wid := workOf(t, s, libProvincial, "P-1")
		for _, ref := range [][2]string{{libTuSon, "T-7"}, {libSchool, "S-3"}} {
			if got := workOf(t, s, ref[0], ref[1]); got != wid {
				t.Fatalf("record %v is in work %s, want %s", ref, got, wid)
			}
		}
		w, err := s.Catalog.Work(ctx, wid)
		must(t, "Work", err)
		if w.RecordCount != 3 || !slices.Equal(w.ISBNs, []string{"9780062502179"}) || w.Title != "Nhà giả kim" {
			t.Errorf("work %+v", w)
		}
		recs, err := s.Catalog.RecordsByWork(ctx, []string{wid})
		must(t, "RecordsByWork", err)
		var libs []string
		for _, r := range recs {
			libs = append(libs, r.LibraryID)
		}
		mustEqual(t, "libraries of the records", libs, []string{libProvincial, libSchool, libTuSon})
		items, err := s.Catalog.ItemsByWork(ctx, []string{wid})
		must(t, "ItemsByWork", err)
		var bcs []string
		for _, it := range items {
			bcs = append(bcs, it.Barcode)
		}
		mustEqual(t, "items of the work", bcs, []string{"P-001", "P-002", "S-001", "T-001"})
		c, err := s.Catalog.Counts(ctx)
		must(t, "Counts", err)
		mustEqual(t, "counts", c, catalog.Counts{Works: 1, Records: 3, Items: 4})
	}},
	{"Catalog/ClusterByTitleKey", func(t *testing.T, s *store.Set) {
		apply(t, s, &catalog.Batch{LibraryID: libProvincial, At: at(0), Records: []catalog.Record{
			newRecord(libProvincial, "A", "Truyện Kiều", "Nguyễn Du", 1820),
			newRecord(libProvincial, "B", "Tắt đèn", "Ngô Tất Tố", 1939, isbn(t, "978-604-1-00001-8")),
			newRecord(libProvincial, "C", "Tắt đèn", "Ngô Tất Tố", 1939, isbn(t, "978-604-1-00002-5")),
		}})
		apply(t, s, &catalog.Batch{LibraryID: libTuSon, At: at(time.Second), Records: []catalog.Record{
			// Same title key as A: other tone placement, case, punctuation, inverted author.
			newRecord(libTuSon, "a", "TRUYỆN KIỀU.", "Nguyễn, Du", 1820),
			// A different year is a different work.
			newRecord(libTuSon, "a2", "Truyện Kiều", "Nguyễn Du", 1958),
			// No ISBN: joins the ISBN work of its title key.
			newRecord(libTuSon, "b", "Tắt Đèn", "Ngô, Tất Tố", 1939),
		}})
		a, a2, b, c := workOf(t, s, libProvincial, "A"), workOf(t, s, libTuSon, "a2"), workOf(t, s, libProvincial, "B"), workOf(t, s, libProvincial, "C")
		if got := workOf(t, s, libTuSon, "a"); got != a {
			t.Errorf("title-key match went to work %s, want %s", got, a)
		}
		if a2 == a {
			t.Error("a different year joined the work")
		}
		if b == c {
			t.Error("two editions with different ISBNs were merged through their title")
		}
		if got := workOf(t, s, libTuSon, "b"); got != b && got != c {
			t.Errorf("a record without ISBN did not join an edition of its title: %s", got)
		}
		n, err := s.Catalog.Counts(t.Context())
		must(t, "Counts", err)
		if n.Works != 4 {
			t.Errorf("%d works, want 4", n.Works)
		}
	}},
	{"Catalog/BarcodeUniqueAcrossLibraries", func(t *testing.T, s *store.Set) {
		ctx := t.Context()
		apply(t, s, &catalog.Batch{LibraryID: libProvincial, At: at(0),
			Records: []catalog.Record{newRecord(libProvincial, "P-1", "Lão Hạc", "Nam Cao", 1943)},
			Items:   []catalog.Item{newItem(libProvincial, "P-1", "BC-1")}})
		res := apply(t, s, &catalog.Batch{LibraryID: libTuSon, At: at(time.Second),
			Records: []catalog.Record{newRecord(libTuSon, "T-1", "Chí Phèo", "Nam Cao", 1941)},
			Items:   []catalog.Item{newItem(libTuSon, "T-1", "BC-1"), newItem(libTuSon, "T-1", "BC-2")}})
		if res.ItemsNew != 1 || res.ItemsConflicting != 1 || len(res.Conflicts) != 1 || res.Conflicts[0].ID != "BC-1" || res.RecordsNew != 1 {
			t.Fatalf("result %s %+v", res, res.Conflicts)
		}
		it, err := s.Catalog.Item(ctx, "BC-1")
		must(t, "Item", err)
		if it.LibraryID != libProvincial || it.RecordSourceID != "P-1" || it.WorkID != workOf(t, s, libProvincial, "P-1") {
			t.Errorf("the refused import changed the copy: %+v", it)
		}
		if _, err := s.Catalog.Item(ctx, "BC-2"); err != nil {
			t.Errorf("the rest of the batch did not land: %v", err)
		}
		// The owner's re-import is not a conflict.
		res = apply(t, s, &catalog.Batch{LibraryID: libProvincial, At: at(time.Minute), Items: []catalog.Item{newItem(libProvincial, "P-1", "BC-1")}})
		if res.ItemsUnchanged != 1 || res.ItemsConflicting != 0 {
			t.Errorf("owner's re-import: %s", res)
		}
	}},
	{"Catalog/Deletions", func(t *testing.T, s *store.Set) {
		ctx := t.Context()
		book := func(lib, src string) catalog.Record {
			return newRecord(lib, src, "Bỉ vỏ", "Nguyên Hồng", 1938, isbn(t, "978-604-1-00003-2"))
		}
		apply(t, s, &catalog.Batch{LibraryID: libProvincial, At: at(0), Records: []catalog.Record{book(libProvincial, "P-1")},
			Items: []catalog.Item{newItem(libProvincial, "P-1", "P-001")}})
		apply(t, s, &catalog.Batch{LibraryID: libTuSon, At: at(0), Records: []catalog.Record{book(libTuSon, "T-1")},
			Items: []catalog.Item{newItem(libTuSon, "T-1", "T-001"), newItem(libTuSon, "T-1", "T-002")}})
		wid := workOf(t, s, libProvincial, "P-1")
		seq := latest(t, s)
		res := apply(t, s, &catalog.Batch{LibraryID: libTuSon, At: at(time.Hour),
			Deletions: []catalog.RecordRef{{LibraryID: libTuSon, SourceID: "T-1"}, {LibraryID: libTuSon, SourceID: "T-404"}}})
		if res.Deleted != 1 || res.ItemsDeleted != 2 || res.DeletionsMissing != 1 || res.WorksDeleted != 0 || res.Changes != 1 {
			t.Fatalf("first deletion: %s", res)
		}
		mustEqual(t, "changed works", changedWorks(t, s, seq), []string{wid})
		_, err := s.Catalog.Record(ctx, libTuSon, "T-1")
		wantErr(t, "deleted record", err, thuvienso.ErrNotFound)
		_, err = s.Catalog.Item(ctx, "T-001")
		wantErr(t, "item of a deleted record", err, thuvienso.ErrNotFound)
		w, err := s.Catalog.Work(ctx, wid)
		must(t, "Work", err)
		if w.Deleted || w.RecordCount != 1 {
			t.Fatalf("work after the first deletion: %+v", w)
		}
		// The last record goes: the work is a tombstone.
		seq = latest(t, s)
		res = apply(t, s, &catalog.Batch{LibraryID: libProvincial, At: at(2 * time.Hour),
			Deletions: []catalog.RecordRef{{LibraryID: libProvincial, SourceID: "P-1"}}})
		if res.Deleted != 1 || res.WorksDeleted != 1 || res.ItemsDeleted != 1 {
			t.Fatalf("last deletion: %s", res)
		}
		mustEqual(t, "changed works", changedWorks(t, s, seq), []string{wid})
		w, err = s.Catalog.Work(ctx, wid)
		must(t, "Work (tombstone)", err)
		if !w.Deleted || w.RecordCount != 0 || w.Title != "Bỉ vỏ" || !w.UpdatedAt.Equal(at(2*time.Hour)) {
			t.Fatalf("tombstone %+v", w)
		}
		live, err := s.Catalog.Works(ctx, "", 100)
		must(t, "Works", err)
		if len(live) != 0 {
			t.Errorf("Works lists %d works, want none (tombstones are not listed)", len(live))
		}
		c, err := s.Catalog.Counts(ctx)
		must(t, "Counts", err)
		mustEqual(t, "counts", c, catalog.Counts{})
		// The book comes back: it gets its old work again.
		res = apply(t, s, &catalog.Batch{LibraryID: libSchool, At: at(3 * time.Hour), Records: []catalog.Record{book(libSchool, "S-1")}})
		if got := workOf(t, s, libSchool, "S-1"); got != wid || res.WorksCreated != 0 {
			t.Fatalf("the returning book is in work %s (created %d), want %s", got, res.WorksCreated, wid)
		}
		w, err = s.Catalog.Work(ctx, wid)
		must(t, "Work", err)
		if w.Deleted || w.RecordCount != 1 {
			t.Errorf("work after the book came back: %+v", w)
		}
	}},
	{"Catalog/SetItemStatus", func(t *testing.T, s *store.Set) {
		ctx := t.Context()
		apply(t, s, &catalog.Batch{LibraryID: libTuSon, At: at(0),
			Records: []catalog.Record{newRecord(libTuSon, "T-1", "Vợ nhặt", "Kim Lân", 1962)},
			Items:   []catalog.Item{newItem(libTuSon, "T-1", "T-001")}})
		wid := workOf(t, s, libTuSon, "T-1")
		seq := latest(t, s)
		avail, loan := []catalog.ItemStatus{catalog.StatusAvailable}, catalog.StatusOnLoan
		it, err := s.Catalog.SetItemStatus(ctx, "T-001", avail, loan, at(time.Hour))
		must(t, "SetItemStatus", err)
		if it.Status != loan || !it.UpdatedAt.Equal(at(time.Hour)) || it.WorkID != wid {
			t.Errorf("updated item %+v", it)
		}
		wantUTC(t, "item", it.UpdatedAt)
		mustEqual(t, "changed works", changedWorks(t, s, seq), []string{wid})
		_, err = s.Catalog.SetItemStatus(ctx, "T-001", avail, loan, at(2*time.Hour))
		wantErr(t, "second checkout", err, catalog.ErrItemStatusConflict)
		wantCode(t, "second checkout", err, thuvienso.CodeConflict)
		_, err = s.Catalog.SetItemStatus(ctx, "T-404", avail, loan, at(2*time.Hour))
		wantErr(t, "unknown barcode", err, thuvienso.ErrNotFound)
		_, err = s.Catalog.SetItemStatus(ctx, "T-001", nil, loan, at(2*time.Hour))
		wantCode(t, "no expected status", err, thuvienso.CodeBadUserInput)
		_, err = s.Catalog.SetItemStatus(ctx, "T-001", avail, "BORROWED", at(2*time.Hour))
		wantCode(t, "unknown status", err, thuvienso.CodeBadUserInput)
		got, err := s.Catalog.Item(ctx, "T-001")
		must(t, "Item", err)
		if got.Status != loan {
			t.Errorf("status %s after refused changes, want %s", got.Status, loan)
		}
	}},
	{"Catalog/ChangesInOrderAndComplete", func(t *testing.T, s *store.Set) {
		ctx := t.Context()
		var want []string
		for i := range 5 {
			src := idf("R", i)
			apply(t, s, &catalog.Batch{LibraryID: libProvincial, At: at(time.Duration(i) * time.Second),
				Records: []catalog.Record{newRecord(libProvincial, src, fmt.Sprintf("Sách số %d", i), "Tác giả", 2000+i)},
				Items:   []catalog.Item{newItem(libProvincial, src, idf("I", i))}})
			want = append(want, workOf(t, s, libProvincial, src))
		}
		_, err := s.Catalog.SetItemStatus(ctx, idf("I", 2), []catalog.ItemStatus{catalog.StatusAvailable}, catalog.StatusOnLoan, at(time.Hour))
		must(t, "SetItemStatus", err)
		cs := allChanges(t, s)
		if len(cs) != 6 {
			t.Fatalf("%d changes, want 6: %+v", len(cs), cs)
		}
		var got []string
		for i, c := range cs {
			got = append(got, c.WorkID)
			wantUTC(t, "change", c.At)
			if i < 5 && !c.At.Equal(at(time.Duration(i)*time.Second)) {
				t.Errorf("change %d at %v", c.Seq, c.At)
			}
		}
		mustEqual(t, "works in change order", got, append(slices.Clone(want), want[2]))
		mustEqual(t, "latest seq", latest(t, s), cs[len(cs)-1].Seq)
		// Paging with a small limit gives the same sequence.
		var paged []catalog.Change
		after := int64(0)
		for {
			page, err := s.Catalog.Changes(ctx, after, 4)
			must(t, "Changes page", err)
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			after = page[len(page)-1].Seq
		}
		mustEqual(t, "paged changes", paged, cs)
	}},
	{"Catalog/HarvestCheckpoint", func(t *testing.T, s *store.Set) {
		ctx := t.Context()
		_, err := s.Catalog.HarvestCheckpoint(ctx, libTuSon)
		wantErr(t, "no checkpoint", err, thuvienso.ErrNotFound)
		c := &catalog.HarvestCheckpoint{LibraryID: libTuSon, URL: "https://oai.tuson.example.vn/oai", Set: "sach:thieunhi",
			State: []byte(`{"From":"2025-03-01","Note":"Thư viện"}`), UpdatedAt: at(time.Hour)}
		must(t, "PutHarvestCheckpoint", s.Catalog.PutHarvestCheckpoint(ctx, c))
		got, err := s.Catalog.HarvestCheckpoint(ctx, libTuSon)
		must(t, "HarvestCheckpoint", err)
		wantUTC(t, "checkpoint", got.UpdatedAt)
		want := *c
		want.UpdatedAt = want.UpdatedAt.UTC()
		mustEqual(t, "checkpoint", *got, want)
		c.State, c.UpdatedAt = []byte(`{}`), at(2*time.Hour)
		must(t, "PutHarvestCheckpoint again", s.Catalog.PutHarvestCheckpoint(ctx, c))
		got, err = s.Catalog.HarvestCheckpoint(ctx, libTuSon)
		must(t, "HarvestCheckpoint", err)
		mustEqual(t, "replaced state", string(got.State), "{}")
	}},
}

var catalogConcurrencyTests = []test{
	{"Concurrency/ItemLentOnce", func(t *testing.T, s *store.Set) {
		const n = 50
		ctx := t.Context()
		apply(t, s, &catalog.Batch{LibraryID: libTuSon, At: at(0),
			Records: []catalog.Record{newRecord(libTuSon, "T-1", "Sống mòn", "Nam Cao", 1956)},
			Items:   []catalog.Item{newItem(libTuSon, "T-1", "T-001")}})
		seq := latest(t, s)
		transitions := []struct {
			from []catalog.ItemStatus
			to   catalog.ItemStatus
		}{
			{[]catalog.ItemStatus{catalog.StatusAvailable}, catalog.StatusOnLoan},
			{[]catalog.ItemStatus{catalog.StatusOnLoan, catalog.StatusInTransit}, catalog.StatusAvailable},
			{[]catalog.ItemStatus{catalog.StatusAvailable, catalog.StatusInTransit}, catalog.StatusOnHoldShelf},
		}
		for k, tr := range transitions {
			errs := race(n, func(i int) error {
				_, err := s.Catalog.SetItemStatus(ctx, "T-001", tr.from, tr.to, at(time.Duration(k+1)*time.Hour+time.Duration(i)))
				return err
			})
			won := 0
			for i, err := range errs {
				switch {
				case err == nil:
					won++
				case errors.Is(err, catalog.ErrItemStatusConflict):
				default:
					t.Errorf("transition %d, goroutine %d: %v", k, i, err)
				}
			}
			if won != 1 {
				t.Fatalf("transition %d to %s: %d of %d goroutines won, want exactly 1", k, tr.to, won, n)
			}
			it, err := s.Catalog.Item(ctx, "T-001")
			must(t, "Item", err)
			if it.Status != tr.to {
				t.Fatalf("after transition %d the status is %s, want %s", k, it.Status, tr.to)
			}
		}
		cs, err := s.Catalog.Changes(ctx, seq, 1000)
		must(t, "Changes", err)
		if len(cs) != len(transitions) {
			t.Errorf("%d changes for %d status changes", len(cs), len(transitions))
		}
	}},
	{"Concurrency/SameBookImportedAtOnce", func(t *testing.T, s *store.Set) {
		const n = 8
		ctx := t.Context()
		code := isbn(t, "978-604-1-00004-9")
		errs := race(n, func(i int) error {
			lib := idf("lib", i)
			_, err := s.Catalog.Apply(ctx, &catalog.Batch{LibraryID: lib, At: at(time.Duration(i)), Records: []catalog.Record{
				newRecord(lib, "ISBN-BOOK", "Những ngôi sao xa xôi", "Lê Minh Khuê", 1971, code),
				newRecord(lib, "TITLE-BOOK", "Ca dao Kinh Bắc", "", 1990),
				newRecord(lib, idf("OWN", i), fmt.Sprintf("Địa chí làng %d", i), "", 2005),
			}, Items: []catalog.Item{newItem(lib, "ISBN-BOOK", idf("bc", i))}})
			return err
		})
		for i, err := range errs {
			must(t, fmt.Sprintf("Apply %d", i), err)
		}
		for _, src := range []string{"ISBN-BOOK", "TITLE-BOOK"} {
			w := workOf(t, s, idf("lib", 0), src)
			for i := 1; i < n; i++ {
				if got := workOf(t, s, idf("lib", i), src); got != w {
					t.Fatalf("%s of library %d is in work %s, of library 0 in %s: concurrent imports made two works", src, i, got, w)
				}
			}
			recs, err := s.Catalog.RecordsByWork(ctx, []string{w})
			must(t, "RecordsByWork", err)
			ww, err := s.Catalog.Work(ctx, w)
			must(t, "Work", err)
			if len(recs) != n || ww.RecordCount != n || ww.Deleted {
				t.Errorf("work of %s: %d records, RecordCount %d, deleted %v; want %d", src, len(recs), ww.RecordCount, ww.Deleted, n)
			}
		}
		c, err := s.Catalog.Counts(ctx)
		must(t, "Counts", err)
		mustEqual(t, "counts", c, catalog.Counts{Works: 2 + n, Records: 3 * n, Items: n})
		// Every work is named by a change, in order, and a follower reaches
		// the end.
		cs := allChanges(t, s)
		seen := map[string]bool{}
		for _, ch := range cs {
			seen[ch.WorkID] = true
		}
		all, err := s.Catalog.Works(ctx, "", 1000)
		must(t, "Works", err)
		for _, w := range all {
			if !seen[w.ID] {
				t.Errorf("work %s (%s) has no change", w.ID, w.Title)
			}
		}
		f := &catalog.Follower{}
		ready, wm := f.Next(cs, time.Now())
		if len(ready) != len(cs) || wm != latest(t, s) {
			t.Errorf("the follower took %d of %d changes up to %d, latest is %d", len(ready), len(cs), wm, latest(t, s))
		}
	}},
}
