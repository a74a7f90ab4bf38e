package search

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/vietnamese"
)

// tikiCSV is the shared sample of real Vietnamese book data: the repository
// is /work/main and the shared folder /work/shared, so from the package
// directory it is ../../shared/….
var tikiCSV = filepath.Join("..", "..", "shared", "data", "vietnamese", "tiki_bestsellers_book_data.csv")

// fixtureRows is how many distinct rows of tikiCSV the fixture takes.
const fixtureRows = 400

// testLibrary is a library of the fixture's small network.
type testLibrary struct{ id, typ, district string }

var testLibraries = []testLibrary{
	{"bn-tinh", "PROVINCIAL", "Thành phố Bắc Ninh"},
	{"bn-tuson", "DISTRICT", "Từ Sơn"},
	{"bn-yenphong", "DISTRICT", "Yên Phong"},
	{"bn-thpt-hanthuyen", "SCHOOL", "Thành phố Bắc Ninh"},
	{"bn-dongho", "VILLAGE", "Thuận Thành"},
	{"bn-quevo", "COMMUNE", "Quế Võ"},
}

// withHoldings fills d's holdings deterministically from i: one to three
// libraries, some copies available.
func withHoldings(d Document, i int) Document {
	n := 1 + i%3
	d.LibraryIDs, d.Districts, d.LibraryTypes, d.AvailableAt = nil, nil, nil, nil
	d.TotalItems, d.AvailableItems = 0, 0
	seenD, seenT := map[string]bool{}, map[string]bool{}
	for k := 0; k < n; k++ {
		l := testLibraries[(i*7+k*3)%len(testLibraries)]
		if contains(d.LibraryIDs, l.id) {
			continue
		}
		d.LibraryIDs = append(d.LibraryIDs, l.id)
		if !seenD[l.district] {
			seenD[l.district] = true
			d.Districts = append(d.Districts, l.district)
		}
		if !seenT[l.typ] {
			seenT[l.typ] = true
			d.LibraryTypes = append(d.LibraryTypes, l.typ)
		}
		copies := 1 + (i+k)%3
		d.TotalItems += copies
		if (i+k)%4 != 0 {
			d.AvailableAt = append(d.AvailableAt, l.id)
			d.AvailableItems++
		}
	}
	return d
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// craftedDocs are the documents the tests ask about by name.
func craftedDocs() []Document {
	docs := []Document{
		{ID: "c-kieu", Title: "Truyện Kiều", Authors: []string{"Nguyễn Du"}, Subjects: []string{"Văn học Việt Nam", "Thơ"},
			ISBNs: []string{"978-604-1-12345-8"}, Publisher: "Nhà Xuất Bản Văn Học", Year: 2015, Format: catalog.FormatBook,
			Languages: []string{"vie"}, Summary: "Kiệt tác thơ lục bát của đại thi hào Nguyễn Du."},
		{ID: "c-thuvien", Title: "Thư viện trong nhà trường", Authors: []string{"Lê Thị Hoa"}, Subjects: []string{"Thư viện học"},
			Year: 2019, Format: catalog.FormatBook, Languages: []string{"vie"}},
		{ID: "c-thuvien-tinh", Title: "Lịch sử Thư viện tỉnh Bắc Ninh", Authors: []string{"Trần Văn Minh"},
			Year: 2021, Format: catalog.FormatBook, Languages: []string{"vie"}},
		{ID: "c-scattered", Title: "Viện nghiên cứu và những lá thư", Authors: []string{"Phạm Quang"},
			Year: 2010, Format: catalog.FormatBook, Languages: []string{"vie"}},
		{ID: "c-duong", Title: "Con đường xưa em đi", Authors: []string{"Hoàng Lan"},
			Year: 2005, Format: catalog.FormatBook, Languages: []string{"vie"}},
		{ID: "c-duong-lieu", Title: "Dương liễu ven sông", Authors: []string{"Mai Chi"},
			Year: 2008, Format: catalog.FormatEbook, Languages: []string{"vie"}},
		// Old tone placement (hòa, thủy) in one, new (hoà, thuỷ) in another,
		// and one decomposed (NFD) as a badly behaved source might send it.
		{ID: "c-hoa-old", Title: "Hòa bình cho trẻ em", Authors: []string{"Đỗ Thủy"},
			Year: 1998, Format: catalog.FormatBook, Languages: []string{"vie"}},
		{ID: "c-hoa-new", Title: "Hoà Bình quê tôi", Authors: []string{"Vũ Thuỷ"},
			Year: 2001, Format: catalog.FormatBook, Languages: []string{"vie"}},
		{ID: "c-hoa-nfd", Title: nfd("Khúc hòa ca mùa xuân"), Authors: []string{nfd("Lý Thủy Tiên")},
			Year: 2012, Format: catalog.FormatMusic, Languages: []string{"vie"}},
		{ID: "c-hoa-other", Title: "Hóa học vui", Authors: []string{"Ngô Hóa"}, Subjects: []string{"Hóa học"},
			Year: 2003, Format: catalog.FormatBook, Languages: []string{"vie"}},
		{ID: "c-an", Title: "An toàn giao thông cho em", Year: 2018, Format: catalog.FormatBook, Languages: []string{"vie"}},
		{ID: "c-aan", Title: "Ăn gì hôm nay", Year: 2018, Format: catalog.FormatBook, Languages: []string{"vie"}},
		{ID: "c-aam", Title: "Âm nhạc dân gian Quan họ", Subjects: []string{"Quan họ Bắc Ninh"}, Year: 1995,
			Format: catalog.FormatBook, Languages: []string{"vie"}},
		{ID: "c-de", Title: "Dế Mèn phiêu lưu ký", Authors: []string{"Tô Hoài"}, Year: 1941, Format: catalog.FormatBook,
			Languages: []string{"vie"}},
		{ID: "c-dat", Title: "Đất rừng phương Nam", Authors: []string{"Đoàn Giỏi"}, Year: 1957, Format: catalog.FormatBook,
			Languages: []string{"vie"}},
		{ID: "c-html", Title: "Lập trình <web> & thư viện JavaScript", Authors: []string{"O'Neil & Co"}, Year: 2022,
			Format: catalog.FormatEbook, Languages: []string{"vie", "eng"}, ISBNs: []string{"0-85170-577-4"}},
		{ID: "c-noyear", Title: "Ca dao tục ngữ Bắc Ninh", Subjects: []string{"Văn học dân gian"}, Format: catalog.FormatBook,
			Languages: []string{"vie"}},
	}
	for i := range docs {
		docs[i] = withHoldings(docs[i], i)
	}
	return docs
}

func nfd(s string) string { return norm.NFD.String(s) }

// csvDocs reads up to n distinct rows of tikiCSV; it returns nil (and the
// tests run on the crafted documents only) when the file is not there.
func csvDocs(t testing.TB, n int) []Document {
	t.Helper()
	f, err := os.Open(tikiCSV)
	if errors.Is(err, os.ErrNotExist) {
		t.Logf("%s not found: using the crafted documents only", tikiCSV)
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	var docs []Document
	seen := map[string]bool{}
	formats := []catalog.Format{catalog.FormatBook, catalog.FormatBook, catalog.FormatBook, catalog.FormatEbook, catalog.FormatAudiobook}
	for len(docs) < n {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		title := vietnamese.Clean(row[col["title"]])
		author := vietnamese.Clean(row[col["authors"]])
		k := vietnamese.Key(title + "\x00" + author)
		if title == "" || seen[k] {
			continue
		}
		seen[k] = true
		i := len(docs)
		d := Document{
			ID:        fmt.Sprintf("tiki-%03d", i),
			Title:     title,
			Subjects:  []string{row[col["catagory"]]},
			Publisher: row[col["manufacturer"]],
			Year:      1990 + (i*7)%35,
			Format:    formats[i%len(formats)],
			Languages: []string{"vie"},
		}
		if author != "" {
			d.Authors = strings.Split(author, ", ")
		}
		if i%11 == 0 {
			d.Year = 0
		}
		if i%13 == 0 {
			d.Languages = []string{"vie", "eng"}
		}
		docs = append(docs, withHoldings(d, i+100))
	}
	return docs
}

// fixtureDocs is the crafted documents and the CSV rows.
func fixtureDocs(t testing.TB) []Document {
	return append(craftedDocs(), csvDocs(t, fixtureRows)...)
}

// newFixture returns a fresh memory index of fixtureDocs, for tests that
// change it.
func newFixture(t testing.TB) (*Index, []Document) {
	t.Helper()
	x, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = x.Close() })
	docs := fixtureDocs(t)
	if err := x.Index(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	return x, docs
}

var (
	sharedOnce sync.Once
	sharedX    *Index
	sharedDocs []Document
	sharedErr  error
)

// shared returns one read-only fixture index for the whole test binary.
func shared(t testing.TB) (*Index, []Document) {
	t.Helper()
	sharedOnce.Do(func() {
		sharedX, sharedErr = OpenMemory()
		if sharedErr != nil {
			return
		}
		sharedDocs = fixtureDocs(t)
		sharedErr = sharedX.Index(context.Background(), sharedDocs...)
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedX, sharedDocs
}
