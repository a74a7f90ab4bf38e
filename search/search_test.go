package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/vietnamese"
)

var ctx = context.Background()

// all walks every page of req (pages of 100) and returns the hit IDs in
// order, failing on a repeated ID.
func all(t *testing.T, x *Index, req Request) []string {
	t.Helper()
	req.First = MaxPageSize
	var ids []string
	seen := map[string]bool{}
	for page := 0; ; page++ {
		res, err := x.Search(ctx, req)
		if err != nil {
			t.Fatalf("search %+v: %v", req, err)
		}
		for _, h := range res.Hits {
			if math.IsNaN(h.Score) || math.IsInf(h.Score, 0) {
				t.Fatalf("search %q: %s scored %v", req.Query, h.ID, h.Score)
			}
			if seen[h.ID] {
				t.Fatalf("search %q: %s repeated on page %d", req.Query, h.ID, page)
			}
			seen[h.ID] = true
			ids = append(ids, h.ID)
		}
		if !res.HasNextPage {
			if len(ids) != res.TotalCount {
				t.Fatalf("search %q: walked %d hits, TotalCount %d", req.Query, len(ids), res.TotalCount)
			}
			return ids
		}
		req.After = res.EndCursor
	}
}

func search(t *testing.T, x *Index, req Request) *Result {
	t.Helper()
	res, err := x.Search(ctx, req)
	if err != nil {
		t.Fatalf("search %+v: %v", req, err)
	}
	return res
}

func sorted(ids []string) []string {
	out := slices.Clone(ids)
	sort.Strings(out)
	return out
}

func rank(ids []string, id string) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}

// foldedWords is the folded text of a document's title, subtitle and
// authors, with spaces around, for "contains the words" checks.
func foldedTitle(d Document) string {
	return " " + strings.Join(terms(AnalyzerFolded, d.Title), " ") + " "
}

func TestFoldedQueryFindsMarkedTitles(t *testing.T) {
	x, docs := shared(t)
	for _, tc := range []struct{ query, phrase string }{
		{"thu vien", "thu vien"},
		{"THU VIEN", "thu vien"},
		{"thư viện", "thu vien"},
		{"truyen kieu", "truyen kieu"},
		{"nha gia kim", "nha gia kim"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			got := all(t, x, Request{Query: tc.query})
			var want []string
			for _, d := range docs {
				if strings.Contains(foldedTitle(d), " "+tc.phrase+" ") {
					want = append(want, d.ID)
				}
			}
			if len(want) == 0 {
				t.Skipf("no title with %q in the fixture", tc.phrase)
			}
			for _, id := range want {
				if r := rank(got, id); r < 0 {
					t.Errorf("%q: %s missing", tc.query, id)
				}
			}
			// Titles holding the phrase come before works matching it only
			// elsewhere or with the words apart.
			for i, id := range got[:len(want)] {
				if !slices.Contains(want, id) {
					t.Errorf("%q: hit %d is %s, want titles with %q first (%v)", tc.query, i, id, tc.phrase, want)
				}
			}
		})
	}
}

func TestAuthorWithoutMarks(t *testing.T) {
	x, docs := shared(t)
	for _, tc := range []struct{ query, author string }{
		{"nguyen du", "Nguyễn Du"},
		{"nguyen nhat anh", "Nguyễn Nhật Ánh"},
		{"to hoai", "Tô Hoài"},
		{"doan gioi", "Đoàn Giỏi"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var want []string
			for _, d := range docs {
				if slices.Contains(d.Authors, tc.author) {
					want = append(want, d.ID)
				}
			}
			if len(want) == 0 {
				t.Skipf("no work by %s in the fixture", tc.author)
			}
			got := all(t, x, Request{Query: tc.query})
			for _, id := range want {
				if rank(got, id) < 0 {
					t.Errorf("%q: %s by %s missing from %v", tc.query, id, tc.author, got)
				}
			}
		})
	}
}

func TestTonePlacementAndNormalFormsAreEqual(t *testing.T) {
	x, _ := shared(t)
	for _, group := range []struct {
		name    string
		queries []string
		must    []string
		mustNot []string
	}{
		{"hoà", []string{"hoà", "hòa", "HÒA", "HOÀ", nfd("hòa"), nfd("hoà")},
			[]string{"c-hoa-old", "c-hoa-new", "c-hoa-nfd", "c-hoa-other"}, nil},
		{"thuỷ", []string{"thuỷ", "thủy", nfd("thủy"), nfd("Thuỷ")},
			[]string{"c-hoa-old", "c-hoa-new", "c-hoa-nfd"}, nil},
		{"hòa bình", []string{"hòa bình", "hoà bình", nfd("hòa bình"), "Hoà Bình"},
			[]string{"c-hoa-old", "c-hoa-new"}, []string{"c-hoa-other"}}, // "hoá" is no "bình"
	} {
		t.Run(group.name, func(t *testing.T) {
			var first []string
			for i, q := range group.queries {
				got := sorted(all(t, x, Request{Query: q}))
				if i == 0 {
					first = got
					for _, id := range group.must {
						if !slices.Contains(got, id) {
							t.Errorf("%q: %s missing from %v", q, id, got)
						}
					}
					for _, id := range group.mustNot {
						if slices.Contains(got, id) {
							t.Errorf("%q: %s found (another tone)", q, id)
						}
					}
					continue
				}
				if !reflect.DeepEqual(got, first) {
					t.Errorf("%q found %v, %q found %v", q, got, group.queries[0], first)
				}
			}
		})
	}
}

func TestExactFormRanksFirst(t *testing.T) {
	x, _ := shared(t)
	for _, tc := range []struct {
		query        string
		above, below string // both must be found, above ranked higher
	}{
		{"đường", "c-duong", "c-duong-lieu"},
		{"dương", "c-duong-lieu", "c-duong"},
		{"hòa", "c-hoa-old", "c-hoa-other"},
		{"hóa", "c-hoa-other", "c-hoa-old"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			got := all(t, x, Request{Query: tc.query})
			ra, rb := rank(got, tc.above), rank(got, tc.below)
			if ra < 0 || rb < 0 || ra > rb {
				t.Errorf("%q: %s at %d, %s at %d; want both, first above (%v)", tc.query, tc.above, ra, tc.below, rb, got)
			}
		})
	}
	// Without marks both are found.
	got := all(t, x, Request{Query: "duong"})
	for _, id := range []string{"c-duong", "c-duong-lieu"} {
		if rank(got, id) < 0 {
			t.Errorf("duong: %s missing from %v", id, got)
		}
	}
}

func TestSyllablePairsOutrankScatteredSyllables(t *testing.T) {
	x, _ := shared(t)
	got := all(t, x, Request{Query: "thư viện"})
	for _, id := range []string{"c-thuvien", "c-thuvien-tinh"} {
		if r, s := rank(got, id), rank(got, "c-scattered"); r < 0 || s < 0 || r > s {
			t.Errorf("%s at %d, scattered at %d (%v)", id, r, s, got)
		}
	}
}

func TestISBN(t *testing.T) {
	x, _ := shared(t)
	for _, tc := range []struct{ query, want string }{
		{"978-604-1-12345-8", "c-kieu"},
		{"9786041123458", "c-kieu"},
		{"978 604 1 12345 8", "c-kieu"},
		{"ISBN 978-604-1-12345-8", "c-kieu"},
		{"isbn:9786041123458", "c-kieu"},
		{"604-112345-5", "c-kieu"}, // the ISBN-10 of the same book
		{"0-85170-577-4", "c-html"},
		{"9780851705774", "c-html"}, // the ISBN-13 of an ISBN-10
		{"truyện kiều 978-604-1-12345-8", "c-kieu"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			got := all(t, x, Request{Query: tc.query})
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("%q: got %v, want [%s]", tc.query, got, tc.want)
			}
		})
	}
}

func TestFacetCountsEqualFilteredTotals(t *testing.T) {
	x, _ := shared(t)
	facets := []FacetName{FacetFormat, FacetLanguage, FacetLibraryType, FacetDistrict, FacetLibrary, FacetSubject, FacetDecade}
	// narrow adds the filter that selects facet value v to f.
	narrow := func(f Filter, name FacetName, v string) Filter {
		switch name {
		case FacetFormat:
			f.Formats = []catalog.Format{catalog.Format(v)}
		case FacetLanguage:
			f.Languages = []string{v}
		case FacetLibraryType:
			f.LibraryTypes = []string{v}
		case FacetDistrict:
			f.Districts = []string{v}
		case FacetLibrary:
			f.LibraryIDs = []string{v}
		case FacetSubject:
			f.Subject = v
		case FacetDecade:
			var y int
			for _, c := range v {
				y = y*10 + int(c-'0')
			}
			// Within the request's own year range, if any.
			f.YearFrom = max(f.YearFrom, y)
			if f.YearTo == 0 || f.YearTo > y+9 {
				f.YearTo = y + 9
			}
		}
		return f
	}
	for _, tc := range []struct {
		name string
		req  Request
	}{
		{"browse", Request{}},
		{"query", Request{Query: "sách"}},
		{"query+filter", Request{Query: "cuộc sống", Filter: Filter{Formats: []catalog.Format{catalog.FormatBook}}}},
		{"available", Request{Filter: Filter{AvailableAt: "bn-tinh"}}},
		{"years", Request{Query: "tôi", Filter: Filter{YearFrom: 2000, YearTo: 2015}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.Facets, req.FacetSize = facets, MaxFacetSize
			res := search(t, x, req)
			if res.TotalCount == 0 {
				t.Fatalf("no results")
			}
			if len(res.Facets) != len(facets) {
				t.Fatalf("got %d facets, want %d", len(res.Facets), len(facets))
			}
			for _, f := range res.Facets {
				if f.Other != 0 {
					t.Errorf("%s: %d values beyond FacetSize", f.Name, f.Other)
				}
				sum := 0
				for _, v := range f.Values {
					sum += v.Count
					sub := tc.req
					sub.Filter = narrow(sub.Filter, f.Name, v.Value)
					sub.First = 1
					if got := search(t, x, sub).TotalCount; got != v.Count {
						t.Errorf("%s=%q: facet count %d, filtered total %d", f.Name, v.Value, v.Count, got)
					}
				}
				// Single-valued facets partition the results.
				if f.Name == FacetFormat && sum != res.TotalCount {
					t.Errorf("format counts sum to %d, total %d", sum, res.TotalCount)
				}
				if f.Name == FacetDecade && sum+f.Missing != res.TotalCount {
					t.Errorf("decade counts %d + missing %d, total %d", sum, f.Missing, res.TotalCount)
				}
			}
		})
	}
}

func TestAvailableNowFollowsReindex(t *testing.T) {
	x, docs := newFixture(t)
	d := docs[0] // Truyện Kiều
	lib := d.LibraryIDs[0]
	inResults := func() bool {
		got := all(t, x, Request{Query: "truyện kiều", Filter: Filter{AvailableAt: lib}})
		return slices.Contains(got, d.ID)
	}
	steps := []struct {
		name      string
		available []string
		want      bool
	}{
		{"on shelf", []string{lib}, true},
		{"checked out", nil, false},
		{"returned", []string{lib}, true},
	}
	for _, s := range steps {
		d.AvailableAt = s.available
		d.AvailableItems = len(s.available)
		if err := x.Index(ctx, d); err != nil {
			t.Fatal(err)
		}
		if got := inResults(); got != s.want {
			t.Errorf("%s: available-now hit %v, want %v", s.name, got, s.want)
		}
	}
	// The rest of the index is unchanged by re-indexing one document.
	if n, err := x.Count(); err != nil || n != uint64(len(docs)) {
		t.Errorf("Count = %d, %v; want %d", n, err, len(docs))
	}
}

func TestTitleSortFollowsVietnameseCollation(t *testing.T) {
	x, _ := shared(t)
	for _, req := range []Request{
		{Sort: SortTitle},
		{Query: "", Sort: SortRelevance}, // browsing has no score: by title
		{Query: "em", Sort: SortTitle},
	} {
		var titles []string
		for _, page := range pages(t, x, req, 50) {
			for _, h := range page.Hits {
				titles = append(titles, h.Title)
			}
		}
		if len(titles) < 2 {
			t.Fatalf("%+v: %d titles", req, len(titles))
		}
		for i := 1; i < len(titles); i++ {
			if vietnamese.Compare(titles[i-1], titles[i]) > 0 {
				t.Errorf("%+v: %q before %q", req, titles[i-1], titles[i])
			}
		}
	}
	// a < ă < â < b … d < đ: the crafted titles in dictionary order.
	got := all(t, x, Request{Sort: SortTitle})
	order := []string{"c-an", "c-aan", "c-aam", "c-de", "c-dat"}
	for i := 1; i < len(order); i++ {
		if rank(got, order[i-1]) > rank(got, order[i]) {
			t.Errorf("%s sorted after %s", order[i-1], order[i])
		}
	}
}

// pages returns every page of req with page size n.
func pages(t *testing.T, x *Index, req Request, n int) []*Result {
	t.Helper()
	req.First = n
	var out []*Result
	for {
		res := search(t, x, req)
		out = append(out, res)
		if !res.HasNextPage {
			return out
		}
		if len(out) > 1000 {
			t.Fatal("no end of pages")
		}
		req.After = res.EndCursor
	}
}

func TestPaginationWalksAllResults(t *testing.T) {
	x, _ := shared(t)
	for _, req := range []Request{
		{Query: "sách", Sort: SortRelevance},
		{Query: "sách", Sort: SortNewest},
		{Query: "sách", Sort: SortTitle},
		{Sort: SortNewest, Filter: Filter{LibraryIDs: []string{"bn-tinh", "bn-dongho"}}},
		{Query: "cuộc sống tôi", Sort: SortRelevance},
		{Query: "truyện xyzzy", Sort: SortRelevance}, // relaxed
	} {
		t.Run(req.Query+"/"+string(req.Sort), func(t *testing.T) {
			first := search(t, x, Request{Query: req.Query, Sort: req.Sort, Filter: req.Filter, First: MaxPageSize})
			if first.TotalCount < 15 {
				t.Fatalf("total %d: too few results to page through", first.TotalCount)
			}
			want := all(t, x, req) // pages of 100, checked for repeats and count
			var walked []string
			for _, p := range pages(t, x, req, 7) {
				if p.TotalCount != first.TotalCount {
					t.Errorf("page TotalCount %d, first page %d", p.TotalCount, first.TotalCount)
				}
				if p.Relaxed != first.Relaxed {
					t.Errorf("page Relaxed %v, first %v", p.Relaxed, first.Relaxed)
				}
				for _, h := range p.Hits {
					walked = append(walked, h.ID)
				}
			}
			if !reflect.DeepEqual(walked, want) {
				t.Errorf("pages of 7 give\n%v\npages of 100 give\n%v", walked, want)
			}
			t.Logf("%d results", len(want))
		})
	}
}

func TestNewestSort(t *testing.T) {
	x, docs := shared(t)
	year := map[string]int{}
	for _, d := range docs {
		year[d.ID] = d.Year
	}
	got := all(t, x, Request{Sort: SortNewest})
	for i := 1; i < len(got); i++ {
		a, b := year[got[i-1]], year[got[i]]
		if a < b && a != 0 || a == 0 && b != 0 {
			t.Fatalf("%s (%d) before %s (%d)", got[i-1], a, got[i], b)
		}
	}
}

func TestFilters(t *testing.T) {
	x, docs := shared(t)
	for _, tc := range []struct {
		name   string
		filter Filter
		keep   func(Document) bool
	}{
		{"library", Filter{LibraryIDs: []string{"bn-dongho"}}, func(d Document) bool { return slices.Contains(d.LibraryIDs, "bn-dongho") }},
		{"two libraries", Filter{LibraryIDs: []string{"bn-dongho", "bn-quevo"}}, func(d Document) bool {
			return slices.Contains(d.LibraryIDs, "bn-dongho") || slices.Contains(d.LibraryIDs, "bn-quevo")
		}},
		{"district NFD", Filter{Districts: []string{nfd("Từ Sơn")}}, func(d Document) bool { return slices.Contains(d.Districts, "Từ Sơn") }},
		{"school", Filter{LibraryTypes: []string{"SCHOOL"}}, func(d Document) bool { return slices.Contains(d.LibraryTypes, "SCHOOL") }},
		{"ebook", Filter{Formats: []catalog.Format{catalog.FormatEbook}}, func(d Document) bool { return d.Format == catalog.FormatEbook }},
		{"english", Filter{Languages: []string{"ENG"}}, func(d Document) bool { return slices.Contains(d.Languages, "eng") }},
		{"years", Filter{YearFrom: 1990, YearTo: 1999}, func(d Document) bool { return d.Year >= 1990 && d.Year <= 1999 }},
		{"from", Filter{YearFrom: 2020}, func(d Document) bool { return d.Year >= 2020 }},
		{"to", Filter{YearTo: 1960}, func(d Document) bool { return d.Year > 0 && d.Year <= 1960 }},
		{"subject", Filter{Subject: "Tiểu Thuyết"}, func(d Document) bool { return slices.Contains(d.Subjects, "Tiểu Thuyết") }},
		{"available", Filter{AvailableAt: "bn-tuson"}, func(d Document) bool { return slices.Contains(d.AvailableAt, "bn-tuson") }},
		{"combined", Filter{AvailableAt: "bn-tinh", Formats: []catalog.Format{catalog.FormatBook}, YearFrom: 2000},
			func(d Document) bool {
				return slices.Contains(d.AvailableAt, "bn-tinh") && d.Format == catalog.FormatBook && d.Year >= 2000
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for _, d := range docs {
				if tc.keep(d) {
					want = append(want, d.ID)
				}
			}
			if len(want) == 0 {
				t.Fatal("filter keeps nothing in the fixture: useless test")
			}
			got := sorted(all(t, x, Request{Filter: tc.filter}))
			if !reflect.DeepEqual(got, sorted(want)) {
				t.Errorf("got %d works, want %d", len(got), len(want))
			}
		})
	}
}

func TestRelaxedWhenNoWorkHasEveryWord(t *testing.T) {
	x, _ := shared(t)
	res := search(t, x, Request{Query: "truyện kiều xyzzy"})
	if !res.Relaxed || res.TotalCount == 0 || res.Hits[0].ID != "c-kieu" {
		t.Errorf("relaxed %v, total %d, hits %v", res.Relaxed, res.TotalCount, res.Hits)
	}
	res = search(t, x, Request{Query: "truyện kiều"})
	if res.Relaxed || res.Hits[0].ID != "c-kieu" {
		t.Errorf("AND query: relaxed %v, first %v", res.Relaxed, res.Hits)
	}
	res = search(t, x, Request{Query: "xyzzy"})
	if res.TotalCount != 0 || res.Relaxed {
		t.Errorf("one unknown word: total %d relaxed %v", res.TotalCount, res.Relaxed)
	}
}

func TestQuotedPhrase(t *testing.T) {
	x, _ := shared(t)
	got := all(t, x, Request{Query: `"thu vien"`})
	if !slices.Contains(got, "c-thuvien") || slices.Contains(got, "c-scattered") {
		t.Errorf(`"thu vien": %v`, got)
	}
}

func TestHighlights(t *testing.T) {
	x, _ := shared(t)
	for _, tc := range []struct {
		query, id, field, want string
	}{
		{"thu vien", "c-thuvien", "title", "<mark>Thư</mark> <mark>viện</mark> trong nhà trường"},
		{"hòa", "c-hoa-new", "title", "<mark>Hoà</mark> Bình quê tôi"},
		{"hoa", "c-hoa-nfd", "title", "Khúc <mark>hòa</mark> ca mùa xuân"},
		{"nguyen du", "c-kieu", "authors", "<mark>Nguyễn</mark> <mark>Du</mark>"},
		{"thư viện", "c-html", "title", "Lập trình &lt;web&gt; &amp; <mark>thư</mark> <mark>viện</mark> JavaScript"},
		{"o'neil", "c-html", "authors", "<mark>O&#39;Neil</mark> &amp; Co"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			res := search(t, x, Request{Query: tc.query, Highlight: true, First: MaxPageSize})
			for _, h := range res.Hits {
				if h.ID != tc.id {
					continue
				}
				if got := h.Highlights[tc.field]; len(got) != 1 || got[0] != tc.want {
					t.Errorf("%s %s: %q, want %q", tc.id, tc.field, got, tc.want)
				}
				return
			}
			t.Errorf("%s not found", tc.id)
		})
	}
}

func TestSuggest(t *testing.T) {
	x, _ := shared(t)
	for _, tc := range []struct {
		prefix string
		want   Suggestion
	}{
		{"truyen k", Suggestion{Text: "Truyện Kiều", Kind: SuggestTitle, WorkID: "c-kieu"}},
		{"Truyện Ki", Suggestion{Text: "Truyện Kiều", Kind: SuggestTitle, WorkID: "c-kieu"}},
		{"de men phieu", Suggestion{Text: "Dế Mèn phiêu lưu ký", Kind: SuggestTitle, WorkID: "c-de"}},
		{"dat rung ", Suggestion{Text: "Đất rừng phương Nam", Kind: SuggestTitle, WorkID: "c-dat"}},
		{"doan gi", Suggestion{Text: "Đoàn Giỏi", Kind: SuggestAuthor, WorkID: "c-dat"}},
		{nfd("hòa bì"), Suggestion{Text: "Hòa bình cho trẻ em", Kind: SuggestTitle, WorkID: "c-hoa-old"}},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			got, err := x.Suggest(ctx, tc.prefix, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || len(got) > 5 {
				t.Fatalf("%d suggestions: %v", len(got), got)
			}
			if !slices.Contains(got, tc.want) {
				t.Errorf("%v does not contain %v", got, tc.want)
			}
		})
	}
	// Titles beginning with the prefix come first.
	got, err := x.Suggest(ctx, "truyen k", 5)
	if err != nil || got[0].Text != "Truyện Kiều" {
		t.Errorf("first suggestion %v, %v", got, err)
	}
	for _, p := range []string{"", " ", "t", "!!!", "\xff\xfe"} {
		if got, err := x.Suggest(ctx, p, 5); err != nil || len(got) != 0 {
			t.Errorf("Suggest(%q) = %v, %v; want nothing", p, got, err)
		}
	}
	if _, err := x.Suggest(ctx, "truyen", MaxSuggestions+1); !errors.Is(err, ErrSuggestSize) {
		t.Errorf("too many suggestions: %v", err)
	}
}

func TestBadRequests(t *testing.T) {
	x, _ := shared(t)
	good := search(t, x, Request{Query: "sách", First: 2})
	for _, tc := range []struct {
		name string
		req  Request
		want error
	}{
		{"page too big", Request{First: MaxPageSize + 1}, ErrPageSize},
		{"negative page", Request{First: -1}, ErrPageSize},
		{"garbage cursor", Request{Query: "sách", After: "!!!"}, ErrCursor},
		{"base64 garbage", Request{Query: "sách", After: "e30"}, ErrCursor},
		{"cursor of another sort", Request{Query: "sách", Sort: SortTitle, After: good.EndCursor}, ErrCursor},
		{"unknown sort", Request{Sort: "PRICE"}, ErrSort},
		{"unknown facet", Request{Facets: []FacetName{"price"}}, ErrFacet},
		{"facet size", Request{FacetSize: MaxFacetSize + 1}, ErrFacetSize},
		{"year range", Request{Filter: Filter{YearFrom: 2000, YearTo: 1990}}, ErrYearRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := x.Search(ctx, tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if thuvienso.ErrorCode(err) != thuvienso.CodeBadUserInput {
				t.Errorf("code %s", thuvienso.ErrorCode(err))
			}
		})
	}
}

func TestDeleteAndDocumentErrors(t *testing.T) {
	x, docs := newFixture(t)
	if err := x.Delete("c-kieu", "no-such-id"); err != nil {
		t.Fatal(err)
	}
	if got := all(t, x, Request{Query: "truyện kiều nguyễn du"}); slices.Contains(got, "c-kieu") {
		t.Errorf("deleted work still found: %v", got)
	}
	if n, _ := x.Count(); n != uint64(len(docs)-1) {
		t.Errorf("Count %d, want %d", n, len(docs)-1)
	}
	if err := x.Index(ctx, Document{Title: "no id"}); err == nil {
		t.Error("document without ID accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := x.Index(cctx, docs[0]); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Index: %v", err)
	}
}

func TestOpenOnDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	docs := craftedDocs()
	for i := 0; i < len(docs); i += 5 { // several segments
		if err := x.Index(ctx, docs[i:min(i+5, len(docs))]...); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	x, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := x.Count(); err != nil || n != uint64(len(docs)) {
		t.Errorf("Count after reopen = %d, %v", n, err)
	}
	if got := all(t, x, Request{Query: "truyen kieu"}); len(got) != 1 || got[0] != "c-kieu" {
		t.Errorf("after reopen: %v", got)
	}
	// An index of another mapping version is refused.
	if err := x.b.SetInternal(internalSchemaKey, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrIncompatible) {
		t.Errorf("old index: %v, want ErrIncompatible", err)
	}
}

// TestFrequentWordRanksTitlesFirstThenTheRest checks the ranking of a word
// most of the catalogue mentions: works holding it in the title come first
// by score; works mentioning it elsewhere follow, every one exactly once, in
// a stable order that pages walk without gaps.
func TestFrequentWordRanksTitlesFirstThenTheRest(t *testing.T) {
	x, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var docs []Document
	titled := map[string]bool{}
	for i := 0; i < 40; i++ {
		d := Document{ID: fmt.Sprintf("w%02d", 39-i), Title: fmt.Sprintf("Tập %d", i), Summary: "Một cuốn sách về làng quê.", Format: "BOOK"}
		if i%8 == 0 {
			d.Title = fmt.Sprintf("Sách hay số %d", i)
			titled[d.ID] = true
		}
		docs = append(docs, d)
	}
	docs = append(docs, Document{ID: "other", Title: "Ca dao", Format: "BOOK"})
	if err := x.Index(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	var hits []Hit
	for _, res := range pages(t, x, Request{Query: "sách", Facets: []FacetName{FacetFormat}}, 3) {
		if res.TotalCount != 40 {
			t.Fatalf("TotalCount %d, want 40", res.TotalCount)
		}
		hits = append(hits, res.Hits...)
	}
	if len(hits) != 40 {
		t.Fatalf("pages gave %d hits, want 40", len(hits))
	}
	seen := map[string]bool{}
	for i, h := range hits {
		if seen[h.ID] {
			t.Fatalf("%s on two pages", h.ID)
		}
		seen[h.ID] = true
		if i < len(titled) {
			if !titled[h.ID] || h.Score <= 0 {
				t.Errorf("hit %d is %s (score %v), want a work with the word in its title", i, h.ID, h.Score)
			}
			continue
		}
		if titled[h.ID] || h.Score != 0 {
			t.Errorf("hit %d is %s (score %v), want a work without the word in its title, score 0", i, h.ID, h.Score)
		}
		if i > len(titled) && hits[i-1].ID >= h.ID {
			t.Errorf("untitled works out of ID order: %s before %s", hits[i-1].ID, h.ID)
		}
	}
}

// TestPostingsBitmapsMatchWhatBleveMatches checks that reading a match set
// from postings bitmaps gives exactly what Bleve's searchers give: the same
// total, facets and pages, after deletions and replacements too (a deleted
// document stays in its segment until a merge).
func TestPostingsBitmapsMatchWhatBleveMatches(t *testing.T) {
	x, docs := newFixture(t)
	// A second segment that replaces some works and deletes others.
	changed := []Document{docs[0], docs[3], docs[7]}
	for i := range changed {
		changed[i].Title += " tái bản"
		changed[i].AvailableAt = nil
	}
	if err := x.Apply(ctx, changed, []string{docs[1].ID, docs[5].ID}, -1); err != nil {
		t.Fatal(err)
	}
	facets := []FacetName{FacetFormat, FacetLanguage, FacetLibraryType, FacetDistrict, FacetLibrary, FacetSubject, FacetDecade}
	reqs := []Request{
		{},
		{Query: "sách"},
		{Query: "thu vien"},
		{Query: "tái bản"},
		{Query: "cuộc sống tôi"},
		{Query: "truyện xyzzy"},
		{Query: "sách", Sort: SortTitle},
		{Query: "sách", Sort: SortNewest, Filter: Filter{LibraryIDs: []string{"bn-tinh", "bn-dongho"}}},
		{Filter: Filter{AvailableAt: "bn-tinh"}},
		{Query: "cuộc sống", Filter: Filter{Formats: []catalog.Format{catalog.FormatBook}, LibraryTypes: []string{"PROVINCIAL", "SCHOOL"}}},
		{Query: "tôi", Filter: Filter{YearFrom: 2000, YearTo: 2015}}, // a range: searchers either way
	}
	run := func(bitmaps bool) []*Result {
		useBitmaps = bitmaps
		defer func() { useBitmaps = true }()
		var out []*Result
		for _, req := range reqs {
			req.Facets, req.FacetSize = facets, MaxFacetSize
			out = append(out, pages(t, x, req, 7)...)
		}
		return out
	}
	withBitmaps, withSearchers := run(true), run(false)
	if len(withBitmaps) != len(withSearchers) {
		t.Fatalf("%d pages from bitmaps, %d from searchers", len(withBitmaps), len(withSearchers))
	}
	for i := range withBitmaps {
		a, b := withBitmaps[i], withSearchers[i]
		if a.TotalCount != b.TotalCount || !reflect.DeepEqual(a.Facets, b.Facets) {
			t.Fatalf("page %d: bitmaps give %d and %+v, searchers %d and %+v", i, a.TotalCount, a.Facets, b.TotalCount, b.Facets)
		}
		for j := range a.Hits {
			if a.Hits[j].ID != b.Hits[j].ID || a.Hits[j].Score != b.Hits[j].Score {
				t.Fatalf("page %d hit %d: %s (%v) from bitmaps, %s (%v) from searchers", i, j, a.Hits[j].ID, a.Hits[j].Score, b.Hits[j].ID, b.Hits[j].Score)
			}
		}
	}
	for _, res := range withBitmaps {
		for _, h := range res.Hits {
			if h.ID == docs[1].ID || h.ID == docs[5].ID {
				t.Fatalf("deleted work %s found", h.ID)
			}
		}
	}
}
