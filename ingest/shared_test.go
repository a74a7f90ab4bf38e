package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/ingest/marc"
	"github.com/bacninh/thuvienso/vietnamese"
)

// shared is the shared test material beside the repository (../shared from
// the repository root); its files are read in place, never copied.
var shared = filepath.Join("..", "..", "shared", "data")

func sharedFile(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{shared}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared test data missing: %v", err)
	}
	return p
}

var opts = Options{LibraryID: "tinh-bac-ninh"}

// TestImportEverySharedMARCFile imports every file of shared/data/marc and
// checks its report.
func TestImportEverySharedMARCFile(t *testing.T) {
	want := map[string][3]int{ // read, imported, items
		"1474920681_KOHA_LFL_5.xml":     {1, 1, 0},
		"batch.xml":                     {2, 2, 0},
		"chabon.mrc":                    {2, 2, 0},
		"chabon.xml":                    {2, 2, 0},
		"multi_isbn.dat":                {1, 1, 0},
		"one.dat":                       {1, 1, 0},
		"one.xml":                       {1, 1, 0},
		"pride-and-prejudice-fixed.mrc": {383, 346, 66},
		"summerland.mrc":                {1, 1, 0},
		"summerland.xml":                {1, 1, 0},
		"test.dat":                      {10, 10, 0},
		"utf8.xml":                      {1, 1, 0},
		"utf8_multirecord.marc":         {2, 1, 0},
		"vn-tiki-derived.nfc.mrc":       {500, 500, 0},
		"vn-tiki-derived.xml":           {500, 500, 0},
	}
	dir := sharedFile(t, "marc")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "LICENSE") {
			continue
		}
		seen++
		b, err := ReadFile(filepath.Join(dir, e.Name()), opts)
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		r := b.Report
		t.Log(r.String())
		for _, n := range r.Skips {
			t.Logf("  skipped %s", n)
		}
		for i, n := range r.Warnings {
			if i < 3 {
				t.Logf("  warning %s", n)
			}
		}
		if r.Read != r.Imported+r.Skipped+r.Deleted || len(b.Records) != r.Imported || len(b.Items) != r.Items {
			t.Errorf("%s: inconsistent report %+v", e.Name(), r)
		}
		w, ok := want[e.Name()]
		if !ok {
			t.Errorf("%s: new file in shared/data/marc: add its expected counts", e.Name())
			continue
		}
		if got := [3]int{r.Read, r.Imported, r.Items}; got != w {
			t.Errorf("%s: read/imported/items %v, want %v", e.Name(), got, w)
		}
		for _, rec := range b.Records {
			if rec.Title == "" || rec.SourceID == "" || len(rec.RawMARC) == 0 || !rec.Format.Valid() {
				t.Errorf("%s: incomplete record %+v", e.Name(), rec)
			}
			if _, err := marc.Parse(rec.RawMARC); err != nil {
				t.Errorf("%s: stored raw MARC does not parse: %v", e.Name(), err)
			}
			for _, s := range append([]string{rec.Title, rec.Subtitle, rec.Publisher, rec.Summary}, rec.Subjects...) {
				if !norm.NFC.IsNormalString(s) {
					t.Errorf("%s: %q not NFC", e.Name(), s)
				}
			}
		}
	}
	if seen != len(want) {
		t.Errorf("%d files, want %d", seen, len(want))
	}
}

func readShared(t *testing.T, name string) *Batch {
	t.Helper()
	b, err := ReadFile(sharedFile(t, "marc", name), opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVietnameseUnchanged: the Vietnamese text of the tiki records comes back
// NFC and exactly as written in the file, in both syntaxes.
func TestVietnameseUnchanged(t *testing.T) {
	iso := readShared(t, "vn-tiki-derived.nfc.mrc")
	xml := readShared(t, "vn-tiki-derived.xml")
	if len(iso.Records) != 500 || len(xml.Records) != 500 {
		t.Fatalf("%d and %d records", len(iso.Records), len(xml.Records))
	}
	f, _ := os.Open(sharedFile(t, "marc", "vn-tiki-derived.nfc.mrc"))
	defer f.Close()
	rd := marc.NewReader(f)
	for i := range iso.Records {
		m, _, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		a, x := iso.Records[i], xml.Records[i]
		if want := m.First("245").Sub('a'); !sameText(a.Title, want) {
			t.Errorf("record %d: title %q, file has %q", i+1, a.Title, want)
		}
		if f := m.First("100"); f != nil && !sameText(a.FirstAuthor(), f.Sub('a')) {
			t.Errorf("record %d: author %q, file has %q", i+1, a.FirstAuthor(), f.Sub('a'))
		}
		if f := m.First("264"); f != nil && !sameText(a.Publisher, f.Sub('b')) {
			t.Errorf("record %d: publisher %q, file has %q", i+1, a.Publisher, f.Sub('b'))
		}
		if a.Title != x.Title || a.FirstAuthor() != x.FirstAuthor() || a.Publisher != x.Publisher ||
			strings.Join(a.Subjects, "|") != strings.Join(x.Subjects, "|") || a.SourceID != x.SourceID {
			t.Errorf("record %d: ISO and MARCXML differ:\n%+v\n%+v", i+1, a, x)
		}
		if len(a.Languages) == 0 || a.Languages[0] != "vie" || a.Format != catalog.FormatBook {
			t.Errorf("record %d: languages %v format %s", i+1, a.Languages, a.Format)
		}
	}
	if r := iso.Records[0]; r.Title != "Cây Cam Ngọt Của Tôi" || r.FirstAuthor() != "José Mauro de Vasconcelos" ||
		r.Publisher != "Nhà Xuất Bản Hội Nhà Văn" || r.PhysicalDescription != "244 tr." ||
		len(r.Subjects) != 1 || r.Subjects[0] != "Tiểu Thuyết" || len(r.Links) != 1 {
		t.Errorf("first record %+v", r)
	}
}

// sameText reports whether stored text got is the file's text want as the
// catalogue stores it: NFC, white space cleaned (vietnamese.Clean turns the
// no-break spaces and doubled spaces some titles carry into one space), and
// trailing ISBD punctuation removed. Every letter and mark is unchanged.
func sameText(got, want string) bool {
	if !norm.NFC.IsNormalString(got) {
		return false
	}
	want = vietnamese.Clean(want)
	if got == want {
		return true
	}
	return strings.HasPrefix(want, got) && strings.Trim(want[len(got):], " ./:;,=") == ""
}

// TestNFDBecomesNFC: decomposed input is stored composed.
func TestNFDBecomesNFC(t *testing.T) {
	title := norm.NFD.String("Truyện Kiều")
	m := &marc.Record{Leader: "00000nam a2200000 a 4500", Fields: []marc.Field{
		{Tag: "001", Value: "nfd-1"},
		{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []marc.Subfield{{Code: 'a', Value: title + " /"}}},
		{Tag: "100", Ind1: '0', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: norm.NFD.String("Nguyễn Du")}}},
	}}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadMARC(strings.NewReader(string(raw)), "nfd.mrc", opts)
	if err != nil || len(b.Records) != 1 {
		t.Fatal(err, b.Report.String())
	}
	if r := b.Records[0]; r.Title != "Truyện Kiều" || r.FirstAuthor() != "Nguyễn Du" {
		t.Errorf("%q %q", r.Title, r.FirstAuthor())
	}
}

func TestMultiISBN(t *testing.T) {
	b := readShared(t, "multi_isbn.dat")
	r := b.Records[0]
	var raws []string
	for _, i := range r.ISBNs {
		raws = append(raws, i.Raw)
	}
	f, _ := os.Open(sharedFile(t, "marc", "multi_isbn.dat"))
	defer f.Close()
	m, _, err := marc.NewReader(f).Next()
	if err != nil {
		t.Fatal(err)
	}
	n020 := 0
	for _, f := range m.All("020") {
		n020 += len(f.Subs("a"))
	}
	if len(r.ISBNs) != n020 || n020 < 2 {
		t.Errorf("ISBNs %q, the record has %d 020 $a", raws, n020)
	}
	for _, i := range r.ISBNs {
		if !i.Valid() {
			t.Errorf("ISBN %+v invalid", i)
		}
	}
	t.Logf("multi_isbn.dat: %q → %q, work key %s", raws, r.ValidISBN13s(), catalog.WorkKey(&r))
}
