package catalog

import (
	"errors"
	"reflect"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestNormalizeISBN(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"0851705774", "9780851705774", nil},
		{"0-85170-577-4", "9780851705774", nil},
		{"0 85170 577 4", "9780851705774", nil},
		{"ISBN 0-85170-577-4", "9780851705774", nil},
		{"urn:isbn:9780851705774", "9780851705774", nil},
		{"978-0-85170-577-4", "9780851705774", nil},
		{"080442957X", "9780804429573", nil},
		{"080442957x", "9780804429573", nil},
		{"9786041123457", "", ErrISBNCheck},
		{"9786041123458", "9786041123458", nil},
		{"979-10-90636-07-1", "9791090636071", nil},
		{"0851705775", "", ErrISBNCheck},
		{"12345", "", ErrISBNLength},
		{"97808517057741", "", ErrISBNLength},
		{"", "", ErrISBNLength},
		{"08517X5774", "", ErrISBNChars},
		{"085170577a", "", ErrISBNChars},
		{"9770851705778", "", ErrISBNPrefix},
	}
	for _, tt := range tests {
		got, err := NormalizeISBN(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) && !(err == nil && tt.err == nil) {
			t.Errorf("NormalizeISBN(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseISBN(t *testing.T) {
	tests := []struct {
		in   string
		want ISBN
		ok   bool
	}{
		{"0851705774", ISBN{Raw: "0851705774", ISBN13: "9780851705774"}, true},
		{"0851705774 (pbk.) :", ISBN{Raw: "0851705774", ISBN13: "9780851705774", Qualifier: "pbk."}, true},
		{"978-0-85170-577-4 (bìa mềm)", ISBN{Raw: "978-0-85170-577-4", ISBN13: "9780851705774", Qualifier: "bìa mềm"}, true},
		{"9780851705774 pbk.", ISBN{Raw: "9780851705774", ISBN13: "9780851705774", Qualifier: "pbk."}, true},
		{"0851705775", ISBN{Raw: "0851705775"}, false},
	}
	for _, tt := range tests {
		got, err := ParseISBN(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseISBN(%q) = %+v, %v; want %+v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestNormalizeTitle(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Truyện Kiều", "truyen kieu"},
		{"TRUYỆN KIỀU : bản mới /", "truyen kieu ban moi"},
		{"Hoà bình", "hoa binh"},
		{"Hòa bình", "hoa binh"},
		{norm.NFD.String("Đường Thư viện"), "duong thu vien"},
		{"  Cinema and architecture: from historical to digital.", "cinema and architecture from historical to digital"},
		{"Nhà Giả Kim (Tái Bản 2020)", "nha gia kim tai ban 2020"},
		{"", ""},
		{"...", ""},
	}
	for _, tt := range tests {
		if got := NormalizeTitle(tt.in); got != tt.want {
			t.Errorf("NormalizeTitle(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeAuthor(t *testing.T) {
	tests := []struct{ a, b string }{
		{"Nguyễn Nhật Ánh", "Nguyễn, Nhật Ánh"},
		{"Penz, Francois.", "Francois Penz"},
		{"Austen, Jane, 1775-1817.", "Jane Austen"},
		{"Nguyễn Du", "NGUYEN DU"},
		{"Thủy", "Thuỷ"},
	}
	for _, tt := range tests {
		if a, b := NormalizeAuthor(tt.a), NormalizeAuthor(tt.b); a != b {
			t.Errorf("NormalizeAuthor(%q) = %q, NormalizeAuthor(%q) = %q; want equal", tt.a, a, tt.b, b)
		}
	}
	if NormalizeAuthor("Nguyễn Du") == NormalizeAuthor("Nguyễn Trãi") {
		t.Error("different authors share a key")
	}
}

func isbn(s string) ISBN { i, _ := ParseISBN(s); return i }

func TestWorkKey(t *testing.T) {
	tests := []struct {
		name string
		r    Record
		want string
	}{
		{"isbn10", Record{Title: "X", ISBNs: []ISBN{isbn("0851705774")}}, "isbn:9780851705774"},
		{"invalid isbn skipped", Record{Title: "X", ISBNs: []ISBN{isbn("0851705775"), isbn("978-0-85170-577-4")}}, "isbn:9780851705774"},
		{"only invalid isbn", Record{Title: "Truyện Kiều", Authors: []Author{{Name: "Nguyễn Du"}}, Year: 1820,
			ISBNs: []ISBN{isbn("0851705775")}}, "t:truyen kieu|du nguyen|1820"},
		{"no year", Record{Title: "Truyện Kiều", Authors: []Author{{Name: "Nguyễn Du"}}}, "t:truyen kieu|du nguyen|"},
		{"no author", Record{Title: "Truyện Kiều", Year: 1820}, "t:truyen kieu||1820"},
		{"no title", Record{Year: 1820}, ""},
	}
	for _, tt := range tests {
		if got := WorkKey(&tt.r); got != tt.want {
			t.Errorf("%s: WorkKey = %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestCluster(t *testing.T) {
	rec := func(lib, id, title, author string, year int, isbns ...string) *Record {
		r := &Record{LibraryID: lib, SourceID: id, Title: title, Year: year}
		if author != "" {
			r.Authors = []Author{{Name: author}}
		}
		for _, s := range isbns {
			r.ISBNs = append(r.ISBNs, isbn(s))
		}
		return r
	}
	records := []*Record{
		rec("tinh", "1", "Truyện Kiều", "Nguyễn Du", 2015, "978-0-85170-577-4"),
		rec("huyen", "7", "TRUYEN KIEU", "Du, Nguyễn", 2015, "0851705774"),  // same ISBN as ISBN-10
		rec("xa", "a", "Truyện Kiều.", "Nguyễn Du", 2015),                   // no ISBN: joins by title
		rec("truong", "9", "Truyện Kiều", "Nguyễn Du", 2015, "0851705775"),  // invalid ISBN: title
		rec("tinh", "2", "Truyện Kiều", "Nguyễn Du", 2015, "9780804429573"), // other edition, other ISBN
		rec("xa", "b", "Dế Mèn phiêu lưu ký", "Tô Hoài", 2020),              // alone
		rec("huyen", "c", "De Men phieu luu ky", "To Hoai", 2020),           // folded: same
		rec("huyen", "d", "De Men phieu luu ky", "To Hoai", 1941),           // other year
		rec("xa", "e", "", "", 0), // no key
		rec("huyen", "f", "Anything", "", 0, "9780804429573", "978-0-85170-577-4"), // bridges two ISBNs
	}
	works := Cluster(records[:9])
	got := map[string][]string{}
	for _, w := range works {
		for _, r := range w.Records {
			got[w.Key] = append(got[w.Key], r.LibraryID+"/"+r.SourceID)
		}
	}
	want := map[string][]string{
		"isbn:9780851705774":                 {"tinh/1", "huyen/7", "xa/a", "truong/9"},
		"isbn:9780804429573":                 {"tinh/2"},
		"t:de men phieu luu ky|hoai to|2020": {"xa/b", "huyen/c"},
		"t:de men phieu luu ky|hoai to|1941": {"huyen/d"},
		"rec:xa:e":                           {"xa/e"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Cluster = %v\nwant %v", got, want)
	}
	if w := Cluster(records); len(w) != 4 {
		t.Errorf("a record with both ISBNs should merge the two editions: %d works", len(w))
	}
	for i := 1; i < len(works); i++ {
		if works[i-1].Key > works[i].Key {
			t.Errorf("works not ordered by key")
		}
	}
}

func TestNormalize(t *testing.T) {
	nfd := norm.NFD.String
	r := Record{
		LibraryID: " tinh ", SourceID: " 001 ",
		Title:     nfd("  Truyện   Kiều "),
		Authors:   []Author{{Name: nfd("Nguyễn Du")}, {Name: "Nguyễn Du"}, {Name: " "}},
		Subjects:  []string{nfd("Văn học"), "văn học", "", "Thơ"},
		Summary:   nfd("Dòng một  \n\n  dòng   hai"),
		Languages: []string{"VIE", "vie", ""},
		ISBNs:     []ISBN{isbn("0851705774"), isbn("978-0-85170-577-4"), isbn("bad")},
		Year:      -3,
	}
	r.Normalize()
	if r.Title != "Truyện Kiều" || !norm.NFC.IsNormalString(r.Title) {
		t.Errorf("title %q", r.Title)
	}
	if len(r.Authors) != 1 || r.Authors[0].Name != "Nguyễn Du" {
		t.Errorf("authors %+v", r.Authors)
	}
	if !reflect.DeepEqual(r.Subjects, []string{"Văn học", "Thơ"}) {
		t.Errorf("subjects %q", r.Subjects)
	}
	if r.Summary != "Dòng một\ndòng hai" {
		t.Errorf("summary %q", r.Summary)
	}
	if !reflect.DeepEqual(r.Languages, []string{"vie"}) || r.LibraryID != "tinh" || r.SourceID != "001" {
		t.Errorf("languages %q library %q source %q", r.Languages, r.LibraryID, r.SourceID)
	}
	if len(r.ISBNs) != 2 || r.Format != FormatOther || r.Year != 0 {
		t.Errorf("isbns %+v format %q year %d", r.ISBNs, r.Format, r.Year)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if err := (&Record{LibraryID: "x", SourceID: "y"}).Validate(); !errors.Is(err, ErrRecordTitle) {
		t.Errorf("Validate without title: %v", err)
	}
}

func TestEnums(t *testing.T) {
	for _, f := range Formats {
		if !f.Valid() {
			t.Errorf("%s invalid", f)
		}
	}
	for _, s := range ItemStatuses {
		if !s.Valid() {
			t.Errorf("%s invalid", s)
		}
	}
	if Format("X").Valid() || ItemStatus("X").Valid() || StatusOnLoan.Lendable() || !StatusAvailable.Lendable() {
		t.Error("enum checks")
	}
}
