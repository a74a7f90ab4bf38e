package search

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bacninh/thuvienso/vietnamese"
)

func TestAnalyzers(t *testing.T) {
	for _, tc := range []struct {
		analyzer, text string
		want           []string
	}{
		{AnalyzerExact, "Hòa Bình", []string{"hoà", "bình"}},
		{AnalyzerExact, nfd("Hòa Bình"), []string{"hoà", "bình"}},
		{AnalyzerExact, "Thủy Hử, khỏe", []string{"thuỷ", "hử", "khoẻ"}},
		{AnalyzerExact, "HOÀN THUYỀN quý", []string{"hoàn", "thuyền", "quý"}},
		{AnalyzerExact, "Đường", []string{"đường"}},
		{AnalyzerFolded, "Đường Thư Viện", []string{"duong", "thu", "vien"}},
		{AnalyzerFolded, nfd("Đường Thư Viện"), []string{"duong", "thu", "vien"}},
		{AnalyzerFolded, "Truyện Kiều: bản mới (2020)", []string{"truyen", "kieu", "ban", "moi", "2020"}},
		{AnalyzerBigram, "Thư viện tỉnh Bắc Ninh", []string{"thu vien", "vien tinh", "tinh bac", "bac ninh"}},
		{AnalyzerBigram, "Sách", nil},
		{AnalyzerFolded, "", nil},
	} {
		got, err := Analyze(tc.analyzer, tc.text)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s(%q) = %q, want %q", tc.analyzer, tc.text, got, tc.want)
		}
	}
	if _, err := Analyze("nope", "x"); err == nil {
		t.Error("unknown analyzer accepted")
	}
}

func TestISBNTerms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"978-604-1-12345-8", []string{"9786041123458", "6041123455"}},
		{"0-8044-2957-X", []string{"9780804429573", "080442957X"}},
		{"0-85170-577-4", []string{"9780851705774", "0851705774"}},
		{"ISBN 0851705774", []string{"9780851705774", "0851705774"}},
		{"979-10-90636-07-1", []string{"9791090636071"}},
		{"978-604-1-12345-0", []string{"9786041123450"}}, // bad check digit: kept as written
		{"12345", nil},
	} {
		if got := ISBNTerms(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ISBNTerms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	w := func(exact, folded string) Word { return Word{Exact: exact, Folded: folded} }
	for _, tc := range []struct {
		in   string
		want Query
	}{
		{"", Query{}},
		{"   \t\n", Query{}},
		{"Thư Viện", Query{Words: []Word{w("thư", "thu"), w("viện", "vien")}}},
		{nfd("hòa"), Query{Words: []Word{w("hoà", "hoa")}}},
		{"thu vien", Query{Words: []Word{w("thu", "thu"), w("vien", "vien")}}},
		{`"thư viện" tỉnh`, Query{Phrases: [][]Word{{w("thư", "thu"), w("viện", "vien")}}, Words: []Word{w("tỉnh", "tinh")}}},
		{`“thư viện”`, Query{Phrases: [][]Word{{w("thư", "thu"), w("viện", "vien")}}}},
		{`"kiều"`, Query{Words: []Word{w("kiều", "kieu")}}},
		{`"thư viện`, Query{Words: []Word{w("thư", "thu"), w("viện", "vien")}}}, // unclosed quote
		{"978-604-1-12345-8", Query{ISBNs: []string{"9786041123458"}}},
		{"978 604 1 12345 8", Query{ISBNs: []string{"9786041123458"}}},
		{"kiều 604-112345-5", Query{Words: []Word{w("kiều", "kieu")}, ISBNs: []string{"9786041123458"}}},
		{"080442957x", Query{ISBNs: []string{"9780804429573"}}},
		{"isbn", Query{Words: []Word{w("isbn", "isbn")}}},
		{"2020", Query{Words: []Word{w("2020", "2020")}}},
		{"C++ & Go!", Query{Words: []Word{w("c", "c"), w("go", "go")}}},
		{"a\x00b\xffc", Query{Words: []Word{w("a", "a"), w("b", "b"), w("c", "c")}}},
	} {
		got := ParseQuery(tc.in)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseQuery(%q) =\n%+v\nwant\n%+v", tc.in, got, tc.want)
		}
	}
	long := ParseQuery(strings.Repeat("sách ", 100))
	if !long.Truncated || len(long.Words) != MaxQueryTerms {
		t.Errorf("100 words: %d kept, truncated %v", len(long.Words), long.Truncated)
	}
	huge := ParseQuery(strings.Repeat("x", 10000))
	if !huge.Truncated || len(huge.Words) != 1 || len(huge.Words[0].Exact) != MaxQueryRunes {
		t.Errorf("10,000 letters: %+v", huge.Words)
	}
}

// FuzzParseQuery checks that any input parses without panic into a bounded
// query of non-empty, valid words, and that searching it does not fail.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "thư viện", `"truyện kiều" nguyễn du`, "978-604-1-12345-8", "ISBN 0-85170-577-4",
		nfd("hòa bình"), "\"\"\"", "“”„", "a\x00b", "\xff\xfe", strings.Repeat("á", 300), "- - -", "x x x x"} {
		f.Add(s)
	}
	x, err := OpenMemory()
	if err != nil {
		f.Fatal(err)
	}
	defer x.Close()
	if err := x.Index(ctx, craftedDocs()...); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := ParseQuery(s)
		if n := q.terms(); n > MaxQueryTerms {
			t.Fatalf("%d terms", n)
		}
		check := func(w Word) {
			if w.Exact == "" || w.Folded == "" || !utf8.ValidString(w.Exact) || !utf8.ValidString(w.Folded) {
				t.Fatalf("bad word %+v", w)
			}
			if utf8.RuneCountInString(w.Exact) > MaxQueryRunes {
				t.Fatalf("word longer than the query bound: %d runes", utf8.RuneCountInString(w.Exact))
			}
		}
		for _, w := range q.Words {
			check(w)
		}
		for _, p := range q.Phrases {
			if len(p) < 2 {
				t.Fatalf("phrase of %d words", len(p))
			}
			for _, w := range p {
				check(w)
			}
		}
		for _, i := range q.ISBNs {
			if len(i) != 10 && len(i) != 13 {
				t.Fatalf("ISBN %q", i)
			}
		}
		if _, err := x.Search(ctx, Request{Query: s, Highlight: true, First: 5}); err != nil {
			t.Fatalf("Search(%q): %v", s, err)
		}
		if _, err := x.Suggest(ctx, s, 3); err != nil {
			t.Fatalf("Suggest(%q): %v", s, err)
		}
	})
}

func TestTitleSortKeyOrder(t *testing.T) {
	titles := []string{"", "A", "a", "An toàn", "Ăn gì", "Âm nhạc", "B", "Dế Mèn", "Đất rừng", "Hòa", "Hóa", "Hoà bình",
		"Thư viện", "Thư viện tỉnh", "Thư viện tỉnh Bắc Ninh", "Truyện Kiều", "Truyện Kiều tập 1", "Truyện Kiều tập 2",
		"Ω", "1984", "2020", "ư", "ừ", "zzz"}
	for _, a := range titles {
		for _, b := range titles {
			want := vietnamese.Compare(a, b)
			ka, kb := TitleSortKey(a), TitleSortKey(b)
			got := strings.Compare(ka, kb)
			if (want < 0) != (got < 0) || (want > 0) != (got > 0) {
				t.Errorf("Compare(%q, %q) = %d, keys compare %d", a, b, want, got)
			}
		}
	}
}

// TestFoldMatchesVietnameseFold checks the fold filter's table against
// vietnamese.Fold on every letter it covers and on mixed terms.
func TestFoldMatchesVietnameseFold(t *testing.T) {
	var terms []string
	for _, rng := range [][2]rune{{0x20, 0x7E}, {0xC0, 0x24F}, {0x1E00, 0x1EFF}} {
		for r := rng[0]; r <= rng[1]; r++ {
			terms = append(terms, string(r))
		}
	}
	terms = append(terms, "Đường", "thuỷ", nfd("hòa"), "ÆSIR", "ß", "Ωmega", "x\u0301", "")
	for _, s := range terms {
		if got, want := string(fold([]byte(s))), vietnamese.Fold(s); got != want {
			t.Errorf("fold(%q) = %q, vietnamese.Fold %q", s, got, want)
		}
	}
}
