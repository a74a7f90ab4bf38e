package demo

import (
	"fmt"
	"hash"
	"hash/fnv"
	"os"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/library"
)

// catalogOnce caches the demo catalogue for the tests that only read it.
var catalogOnce struct {
	recs  []*catalog.Record
	items []*catalog.Item
	took  time.Duration
}

func demoCatalog(t testing.TB) ([]*catalog.Record, []*catalog.Item) {
	if catalogOnce.recs == nil {
		start := time.Now()
		catalogOnce.recs, catalogOnce.items = Catalog(Libraries(), 1)
		catalogOnce.took = time.Since(start)
	}
	return catalogOnce.recs, catalogOnce.items
}

func TestCatalog(t *testing.T) {
	libs := Libraries()
	recs, items := demoCatalog(t)
	t.Logf("demo catalogue: %d records, %d items in %v", len(recs), len(items), catalogOnce.took)

	works := catalog.Cluster(recs)
	if len(works) < 20000 || len(works) != CatalogWorks {
		t.Errorf("%d works, want %d (≥ 20,000)", len(works), CatalogWorks)
	}
	byKey := map[string]int{}
	for _, r := range recs {
		for _, k := range catalog.WorkKeys(r) {
			byKey[k]++
		}
	}
	multi := 0
	for _, w := range works {
		if len(w.Records) >= 3 {
			multi++
		}
	}
	t.Logf("%d works, %d held by three libraries or more", len(works), multi)
	if multi < len(works)/10 {
		t.Errorf("only %d works are held by three libraries or more", multi)
	}

	libByID := map[string]*library.Library{}
	for _, l := range libs {
		libByID[l.ID] = l
	}
	type key struct{ lib, src string }
	recByKey := map[key]*catalog.Record{}
	for _, r := range recs {
		if err := r.Validate(); err != nil {
			t.Fatalf("record %s/%s: %v", r.LibraryID, r.SourceID, err)
		}
		if libByID[r.LibraryID] == nil {
			t.Fatalf("record %s of unknown library %s", r.SourceID, r.LibraryID)
		}
		k := key{r.LibraryID, r.SourceID}
		if recByKey[k] != nil {
			t.Fatalf("two records %v", k)
		}
		recByKey[k] = r
		checkRecord(t, r)
	}
	barcodes := map[string]bool{}
	for _, it := range items {
		if barcodes[it.Barcode] {
			t.Fatalf("barcode %s used twice", it.Barcode)
		}
		barcodes[it.Barcode] = true
		if recByKey[key{it.LibraryID, it.RecordSourceID}] == nil {
			t.Fatalf("item %s belongs to no record of its library", it.Barcode)
		}
		checkItem(t, it)
	}

	// Every library holds something, and each kind holds what it should.
	recsOf, itemsOf := map[string]int{}, map[string]int{}
	for _, r := range recs {
		recsOf[r.LibraryID]++
	}
	textbookItems := map[library.Type]int{}
	itemsByType := map[library.Type]int{}
	for _, it := range items {
		itemsOf[it.LibraryID]++
		typ := libByID[it.LibraryID].Type
		itemsByType[typ]++
		if it.LoanType == loanTextbook {
			textbookItems[typ]++
		}
	}
	recsByType := map[library.Type][]int{}
	for _, l := range libs {
		if recsOf[l.ID] == 0 || itemsOf[l.ID] == 0 {
			t.Errorf("%s %s holds %d records and %d items", l.Code, l.Name, recsOf[l.ID], itemsOf[l.ID])
		}
		recsByType[l.Type] = append(recsByType[l.Type], recsOf[l.ID])
	}
	for _, typ := range library.Types {
		n := recsByType[typ]
		sort.Ints(n)
		sum := 0
		for _, x := range n {
			sum += x
		}
		if len(n) > 0 {
			t.Logf("%-10s %2d libraries: records min %5d median %5d max %5d; items %6d", typ, len(n), n[0], n[len(n)/2], n[len(n)-1], itemsByType[typ])
		}
	}
	prov := recsByType[library.TypeProvincial]
	if len(prov) != 1 || prov[0] < 10000 {
		t.Errorf("provincial library holds %v records, want more than 10,000", prov)
	}
	if share := float64(textbookItems[library.TypeSchool]) / float64(itemsByType[library.TypeSchool]); share < 0.4 {
		t.Errorf("textbooks are %.0f%% of school libraries' items, want at least 40%%", share*100)
	}

	// Statuses: mostly available, realistic shares of the others.
	statuses := map[catalog.ItemStatus]int{}
	for _, it := range items {
		statuses[it.Status]++
	}
	var line []string
	for _, s := range catalog.ItemStatuses {
		line = append(line, fmt.Sprintf("%s %.1f%%", s, 100*float64(statuses[s])/float64(len(items))))
	}
	t.Log(strings.Join(line, ", "))
	share := func(s catalog.ItemStatus) float64 { return float64(statuses[s]) / float64(len(items)) }
	if a := share(catalog.StatusAvailable); a < 0.65 || a > 0.92 {
		t.Errorf("%.1f%% of items available", a*100)
	}
	for _, s := range []catalog.ItemStatus{catalog.StatusOnLoan, catalog.StatusInProcessing, catalog.StatusLost, catalog.StatusReferenceOnly} {
		if statuses[s] == 0 || share(s) > 0.25 {
			t.Errorf("%s: %.1f%% of items", s, share(s)*100)
		}
	}

	// The classics are there, in many libraries.
	holders := map[string]map[string]bool{}
	for _, r := range recs {
		if holders[r.Title] == nil {
			holders[r.Title] = map[string]bool{}
		}
		holders[r.Title][r.LibraryID] = true
	}
	for _, title := range []string{"Truyện Kiều", "Số đỏ", "Tắt đèn", "Chí Phèo", "Dế Mèn phiêu lưu ký", "Nỗi buồn chiến tranh",
		"Cho tôi xin một vé đi tuổi thơ", "Bỉ vỏ", "Vợ nhặt", "Lão Hạc", "Đất rừng phương Nam", "Tuổi thơ dữ dội",
		"Hoàng Lê nhất thống chí", "Lục Vân Tiên", "Chinh phụ ngâm", "Thơ Hồ Xuân Hương", "Toán 6. Tập 1",
		"Luật Đất đai năm 2024", "Bộ luật Dân sự năm 2015", "Luật Hôn nhân và gia đình năm 2014", "Dân ca Quan họ Bắc Ninh", "Tranh dân gian Đông Hồ"} {
		if len(holders[title]) < 3 {
			t.Errorf("%q is held by %d libraries", title, len(holders[title]))
		}
	}
	formats := map[catalog.Format]int{}
	for _, w := range works {
		formats[w.Format]++
	}
	t.Logf("formats: %v", formats)
	for _, f := range []catalog.Format{catalog.FormatBook, catalog.FormatEbook, catalog.FormatPeriodical, catalog.FormatMap, catalog.FormatMusic, catalog.FormatThesis} {
		if formats[f] == 0 {
			t.Errorf("no work of format %s", f)
		}
	}
}

// checkRecord checks that r is NFC, already normalised and that its ISBNs
// are valid.
func checkRecord(t *testing.T, r *catalog.Record) {
	t.Helper()
	texts := []string{r.SourceID, r.Title, r.Subtitle, r.Edition, r.Publisher, r.Place, r.DDC, r.Summary, r.PhysicalDescription}
	for _, a := range r.Authors {
		texts = append(texts, a.Name, a.Role)
	}
	texts = append(texts, r.Subjects...)
	texts = append(texts, r.Series...)
	for _, s := range texts {
		if !norm.NFC.IsNormalString(s) {
			t.Fatalf("record %s: %q is not NFC", r.SourceID, s)
		}
	}
	for _, i := range r.ISBNs {
		n, err := catalog.NormalizeISBN(i.Raw)
		if err != nil || n != i.ISBN13 || !strings.HasPrefix(n, "978604") {
			t.Fatalf("record %s: ISBN %q → %q, %v; stored %q", r.SourceID, i.Raw, n, err, i.ISBN13)
		}
	}
	c := *r
	c.Authors, c.Subjects, c.Series = clone(r.Authors), clone(r.Subjects), clone(r.Series)
	c.ISBNs, c.Languages, c.Links = clone(r.ISBNs), clone(r.Languages), clone(r.Links)
	c.Normalize()
	if !reflect.DeepEqual(&c, r) {
		t.Fatalf("record %s changes when normalised:\n%+v\n%+v", r.SourceID, *r, c)
	}
}

func checkItem(t *testing.T, it *catalog.Item) {
	t.Helper()
	if !it.Status.Valid() || it.Location == "" || it.CallNumber == "" || it.LoanType == "" {
		t.Fatalf("item %+v", *it)
	}
	for _, s := range []string{it.Location, it.CallNumber} {
		if !norm.NFC.IsNormalString(s) {
			t.Fatalf("item %s: %q is not NFC", it.Barcode, s)
		}
	}
}

// hashCatalog hashes everything a catalogue holds.
func hashCatalog(h hash.Hash, r *catalog.Record, items []*catalog.Item) {
	fmt.Fprintf(h, "%v\n", *r)
	for _, it := range items {
		fmt.Fprintf(h, "%v\n", *it)
	}
}

func TestCatalogDeterministic(t *testing.T) {
	sum := func(seed int64) uint64 {
		recs, items := Catalog(Libraries(), seed)
		h := fnv.New64a()
		for _, r := range recs {
			hashCatalog(h, r, nil)
		}
		for _, it := range items {
			fmt.Fprintf(h, "%v\n", *it)
		}
		return h.Sum64()
	}
	a, b, c := sum(7), sum(7), sum(8)
	if a != b {
		t.Errorf("seed 7 gives %x, then %x", a, b)
	}
	if a == c {
		t.Errorf("seeds 7 and 8 give the same catalogue")
	}
}

func TestLibraries(t *testing.T) {
	a, b := Libraries(), Libraries()
	if len(a) != len(sites) || !reflect.DeepEqual(a, b) {
		t.Fatalf("Libraries is not stable (%d libraries)", len(a))
	}
}

func TestProvinceLibraries(t *testing.T) {
	p := Province(FullScale)
	checkProvinceLibraries(t, p.Libraries, FullScale.Libraries)
	kinds := map[library.Type]int{}
	perDistrict := map[string]int{}
	for _, l := range p.Libraries {
		kinds[l.Type]++
		perDistrict[l.District]++
	}
	t.Logf("%d libraries: %v; per district %v", len(p.Libraries), kinds, perDistrict)
	for _, typ := range library.Types {
		if kinds[typ] == 0 {
			t.Errorf("no %s library", typ)
		}
	}
	if kinds[library.TypeCommune] < 100 || kinds[library.TypeSchool] < 200 || kinds[library.TypeVillage] < 80 {
		t.Errorf("libraries by kind: %v", kinds)
	}
	if !reflect.DeepEqual(p.Libraries, Province(FullScale).Libraries) {
		t.Error("Province libraries differ between calls")
	}
}

func checkProvinceLibraries(t *testing.T, libs []*library.Library, n int) {
	t.Helper()
	if len(libs) != n {
		t.Fatalf("%d libraries, want %d", len(libs), n)
	}
	codes, ids, names := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, l := range libs {
		for _, r := range l.Code {
			if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				t.Errorf("code %q is not upper-case ASCII with dashes", l.Code)
				break
			}
		}
		if codes[l.Code] || ids[l.ID] || names[l.Name] {
			t.Errorf("library %s %q repeats a code, id or name", l.Code, l.Name)
		}
		if l.Type != library.TypeProvincial && !ids[l.ParentID] {
			t.Errorf("%s is listed before its parent (%q)", l.Code, l.ParentID)
		}
		codes[l.Code], ids[l.ID], names[l.Name] = true, true, true
		for _, s := range []string{l.Name, l.District, l.Commune, l.Address} {
			if s == "" && l.Type != library.TypeProvincial && l.Type != library.TypeDistrict || !norm.NFC.IsNormalString(s) {
				t.Errorf("%s: %q", l.Code, s)
			}
		}
		if !l.Type.Valid() || len(l.Hours) == 0 || l.Location == nil {
			t.Errorf("%s: %+v", l.Code, *l)
		}
	}
}

// provinceCheck streams a province and checks what the demo catalogue test
// checks, with memory for the keys only.
func provinceCheck(t *testing.T, s Scale) (works, records, items int, sum uint64) {
	p := Province(s)
	checkProvinceLibraries(t, p.Libraries, s.Libraries)
	libs := map[string]bool{}
	for _, l := range p.Libraries {
		libs[l.ID] = true
	}
	barcodes := make(map[string]struct{}, s.Items)
	isbnKeys := map[string]struct{}{}
	titleOfISBN := map[string]struct{}{}
	bareTitles := map[string]struct{}{}
	h := fnv.New64a()
	for r, its := range p.Holdings() {
		records++
		if !libs[r.LibraryID] {
			t.Fatalf("record %s of unknown library", r.SourceID)
		}
		checkRecord(t, r)
		if v := r.ValidISBN13s(); len(v) > 0 {
			isbnKeys[v[0]] = struct{}{}
			titleOfISBN[catalog.TitleKey(r)] = struct{}{}
		} else {
			bareTitles[catalog.TitleKey(r)] = struct{}{}
		}
		for _, it := range its {
			if _, dup := barcodes[it.Barcode]; dup {
				t.Fatalf("barcode %s used twice", it.Barcode)
			}
			barcodes[it.Barcode] = struct{}{}
			if it.LibraryID != r.LibraryID || it.RecordSourceID != r.SourceID {
				t.Fatalf("item %s does not belong to its record", it.Barcode)
			}
			checkItem(t, it)
		}
		items += len(its)
		hashCatalog(h, r, its)
	}
	works = len(isbnKeys)
	for k := range bareTitles {
		if _, ok := titleOfISBN[k]; !ok {
			works++
		}
	}
	return works, records, items, h.Sum64()
}

func TestProvinceSmall(t *testing.T) {
	start := time.Now()
	works, records, items, sum := provinceCheck(t, SmallScale)
	t.Logf("small province: %d works, %d records, %d items in %v", works, records, items, time.Since(start))
	if works != SmallScale.Works || items != SmallScale.Items {
		t.Errorf("%d works and %d items, want %d and %d", works, items, SmallScale.Works, SmallScale.Items)
	}
	_, _, _, again := provinceCheck(t, SmallScale)
	if sum != again {
		t.Error("the same scale gives another province")
	}
	other := SmallScale
	other.Seed = 2
	if _, _, _, s2 := provinceCheck(t, other); s2 == sum {
		t.Error("another seed gives the same province")
	}
}

// TestProvinceSmallClusters checks the works of a small province with the
// catalogue's own clustering.
func TestProvinceSmallClusters(t *testing.T) {
	var recs []*catalog.Record
	for r := range Province(SmallScale).Holdings() {
		recs = append(recs, r)
	}
	if w := catalog.Cluster(recs); len(w) != SmallScale.Works {
		t.Errorf("%d works, want %d", len(w), SmallScale.Works)
	}
}

// TestProvinceStreamsInBoundedMemory streams a province of a tenth of the
// full size and checks that the heap does not grow with the items. All 550
// libraries share a tenth of the works, so a work has more holders than at
// full scale (2.6 against 2.3); the items per work are raised to match, or
// the holders' one copy each would overshoot the total (see Scale.Items).
func TestProvinceStreamsInBoundedMemory(t *testing.T) {
	s := Scale{Libraries: 550, Works: 30_000, Items: 110_000, Seed: 3}
	if testing.Short() {
		s.Works, s.Items = 10_000, 37_000
	}
	streamWithin(t, s, 24<<20)
}

// TestProvinceFull streams the full benchmark province. It takes a few
// seconds (a minute under the race detector); set THUVIENSO_FULL_PROVINCE=1
// to run it.
func TestProvinceFull(t *testing.T) {
	if os.Getenv("THUVIENSO_FULL_PROVINCE") == "" {
		t.Skip("set THUVIENSO_FULL_PROVINCE=1 to stream the 1,000,000-item province")
	}
	streamWithin(t, FullScale, 64<<20)
	start := time.Now()
	works, records, items, _ := provinceCheck(t, FullScale)
	t.Logf("full province checked: %d works, %d records, %d items in %v", works, records, items, time.Since(start))
	if works != FullScale.Works || items != FullScale.Items {
		t.Errorf("%d works and %d items, want %d and %d", works, items, FullScale.Works, FullScale.Items)
	}
}

// streamWithin streams s keeping nothing and fails when the live heap grows
// by more than limit.
func streamWithin(t *testing.T, s Scale, limit uint64) {
	t.Helper()
	p := Province(s)
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	base, peak := m.HeapAlloc, m.HeapAlloc
	items, records := 0, 0
	start := time.Now()
	for _, its := range p.Holdings() {
		records++
		items += len(its)
		if records%20000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
		}
	}
	took := time.Since(start)
	t.Logf("%d works, %d records, %d items streamed in %v; live heap grew by at most %.1f MB",
		s.Works, records, items, took, float64(peak-base)/(1<<20))
	if items != s.Items {
		t.Errorf("%d items, want %d", items, s.Items)
	}
	if peak-base > limit {
		t.Errorf("live heap grew by %d bytes streaming, want at most %d", peak-base, limit)
	}
}

func BenchmarkProvinceGenerate(b *testing.B) {
	s := FullScale
	if testing.Short() {
		s = Scale{Libraries: 550, Works: 30_000, Items: 100_000, Seed: 1}
	}
	p := Province(s)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		items := 0
		for _, its := range p.Holdings() {
			items += len(its)
		}
		if items != s.Items {
			b.Fatalf("%d items", items)
		}
	}
	b.ReportMetric(float64(s.Items)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

func BenchmarkCatalog(b *testing.B) {
	libs := Libraries()
	b.ReportAllocs()
	for b.Loop() {
		Catalog(libs, 1)
	}
}
