package search

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/vietnamese"
)

// Page sizes.
const (
	// DefaultPageSize is used when Request.First is 0.
	DefaultPageSize = 20
	// MaxPageSize is the largest Request.First accepted.
	MaxPageSize = 100
	// DefaultFacetSize is how many values a facet returns when
	// Request.FacetSize is 0.
	DefaultFacetSize = 10
	// MaxFacetSize is the largest Request.FacetSize accepted (enough for
	// every library of the province).
	MaxFacetSize = 1000
)

// Errors of a search request; all are BAD_USER_INPUT.
var (
	ErrPageSize  = thuvienso.Invalid("first", "first must be between 0 and 100", "first phải từ 0 đến 100")
	ErrCursor    = thuvienso.Invalid("after", "the cursor is not valid for this search", "con trỏ phân trang không hợp lệ cho tìm kiếm này")
	ErrSort      = thuvienso.Invalid("sort", "unknown sort order", "thứ tự sắp xếp không hợp lệ")
	ErrFacet     = thuvienso.Invalid("facets", "unknown facet", "nhóm lọc không hợp lệ")
	ErrFacetSize = thuvienso.Invalid("facetSize", "facetSize must be between 0 and 1000", "facetSize phải từ 0 đến 1000")
	ErrYearRange = thuvienso.Invalid("filter.yearFrom", "yearFrom is after yearTo", "yearFrom lớn hơn yearTo")
)

// Sort is the order of results.
type Sort string

// The sort orders; they match enum SearchSort of the GraphQL schema.
const (
	// SortRelevance orders by score, best first. An empty query has no
	// score and is ordered as SortTitle.
	SortRelevance Sort = "RELEVANCE"
	// SortNewest orders by year, most recent first, unknown years last,
	// then by title.
	SortNewest Sort = "NEWEST"
	// SortTitle orders by title in Vietnamese collation (a ă â b c d đ …).
	SortTitle Sort = "TITLE"
)

// FacetName names a facet.
type FacetName string

// The facets. Each is counted over every match of the search (not only the
// page) and with the request's filters applied.
const (
	FacetFormat      FacetName = "format"
	FacetLanguage    FacetName = "language"
	FacetLibraryType FacetName = "libraryType"
	FacetDistrict    FacetName = "district"
	FacetLibrary     FacetName = "library"
	FacetSubject     FacetName = "subject"
	// FacetDecade counts works by decade of publication; values are the
	// decade's first year ("1990"), ordered newest first. Filter on one
	// with YearFrom 1990, YearTo 1999.
	FacetDecade FacetName = "decade"
)

var facetFields = map[FacetName]string{
	FacetFormat:      fFormat,
	FacetLanguage:    fLanguages,
	FacetLibraryType: fLibraryTypes,
	FacetDistrict:    fDistricts,
	FacetLibrary:     fLibraryIDs,
	FacetSubject:     fSubjectFacet,
	FacetDecade:      fDecade,
}

// Filter restricts a search. Within a list any value matches; different
// fields must all match. The zero Filter matches everything.
type Filter struct {
	// LibraryIDs keeps works held by any of these libraries.
	LibraryIDs []string
	// Districts keeps works held in any of these districts.
	Districts []string
	// LibraryTypes keeps works held by a library of any of these types.
	LibraryTypes []string
	Formats      []catalog.Format
	Languages    []string
	// YearFrom and YearTo bound the year of publication, inclusive; 0 means
	// unbounded. Works of unknown year are excluded when either is set.
	YearFrom, YearTo int
	// Subject keeps works with this subject heading (as catalogued; the
	// values of FacetSubject).
	Subject string
	// AvailableAt keeps works with a copy on the shelf now at this library.
	AvailableAt string
}

// Request is one search.
type Request struct {
	// Query is the reader's text (see ParseQuery). Empty browses.
	Query  string
	Filter Filter
	// Sort defaults to SortRelevance.
	Sort Sort
	// First is the page size: 0 means DefaultPageSize, at most MaxPageSize.
	First int
	// After is the EndCursor (or a hit's Cursor) of the previous page, "" for
	// the first page. A cursor is only valid with the same Query, Filter and
	// Sort.
	After string
	// Facets lists the facets to count; none are counted when empty (facets
	// walk every match, so ask for them on the first page only).
	Facets []FacetName
	// FacetSize is how many values each facet returns (most frequent first):
	// 0 means DefaultFacetSize, at most MaxFacetSize.
	FacetSize int
	// Highlight asks for marked title and author fragments on each hit.
	Highlight bool
}

// Hit is one work in the results.
type Hit struct {
	// ID is the Document ID.
	ID string
	// Score is the relevance score (0 when sorting by title or year).
	Score float64
	// Title is the indexed title, for display without a store lookup.
	Title string
	// Cursor is this hit's position, usable as Request.After.
	Cursor string
	// Highlights has, when asked for, HTML-escaped fragments with the
	// matched words in <mark>…</mark>: "title" (one fragment), "subtitle"
	// and "authors" (each matching author). Fields without a match are
	// absent.
	Highlights map[string][]string
}

// FacetValue is one value of a facet and how many matching works have it.
type FacetValue struct {
	Value string
	Count int
}

// Facet is the counts of one facet.
type Facet struct {
	Name   FacetName
	Values []FacetValue
	// Other counts value occurrences beyond the FacetSize returned.
	Other int
	// Missing counts matching works without a value.
	Missing int
}

// Result is one page of a search.
type Result struct {
	Hits []Hit
	// TotalCount is the number of matching works (all pages).
	TotalCount int
	// HasNextPage reports whether another page follows.
	HasNextPage bool
	// EndCursor is the cursor of the last hit, "" when there are none.
	EndCursor string
	// Facets are in the order asked for.
	Facets []Facet
	// Relaxed reports that no work matched every word, and the results
	// match any of them instead.
	Relaxed bool
}

// cursor is the decoded form of a page cursor: the sort it belongs to,
// whether the relaxed (OR) query produced it, and the sort values of the
// hit it points at, passed to Bleve as search_after. A page continues after
// the last hit seen, whatever was added or removed before it: under TITLE
// and NEWEST this is exact; under RELEVANCE the position is a score, and
// an index change in between can move scores (term statistics), so a work
// may then appear on two pages or on none.
type cursor struct {
	V       int      `json:"v"`
	Sort    Sort     `json:"s"`
	Relaxed bool     `json:"r,omitempty"`
	After   []string `json:"a"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // strings and bools only: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, sort Sort, n int) (cursor, error) {
	var c cursor
	if len(s) > 4096 {
		return c, ErrCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, fmt.Errorf("decoding cursor: %w", ErrCursor)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("decoding cursor: %w", ErrCursor)
	}
	if c.V != 1 || c.Sort != sort || len(c.After) != n {
		return c, ErrCursor
	}
	if sort == SortRelevance {
		if _, err := strconv.ParseFloat(c.After[0], 64); err != nil {
			return c, fmt.Errorf("decoding cursor: %w", ErrCursor)
		}
	}
	return c, nil
}

// sortOrder returns Bleve's sort for s. Every order ends with the document
// ID, so that no two hits compare equal and search_after never skips or
// repeats one.
func sortOrder(s Sort) bsearch.SortOrder {
	str := func(field string, desc bool) *bsearch.SortField {
		return &bsearch.SortField{Field: field, Desc: desc, Type: bsearch.SortFieldAsString,
			Mode: bsearch.SortFieldDefault, Missing: bsearch.SortFieldMissingLast}
	}
	id := &bsearch.SortDocID{}
	switch s {
	case SortNewest:
		return bsearch.SortOrder{str(fYearSort, true), str(fTitleSort, false), id}
	case SortTitle:
		return bsearch.SortOrder{str(fTitleSort, false), id}
	default:
		return bsearch.SortOrder{&bsearch.SortScore{Desc: true}, id}
	}
}

// filterQuery returns the conjunction of f's conditions, nil when f is
// empty.
func filterQuery(f Filter) (query.Query, error) {
	if f.YearFrom != 0 && f.YearTo != 0 && f.YearFrom > f.YearTo {
		return nil, ErrYearRange
	}
	var qs []query.Query
	anyOf := func(field string, values []string, clean func(string) string) {
		var ts []query.Query
		for _, v := range values {
			if v = clean(v); v != "" {
				ts = append(ts, term(field, v, 1))
			}
		}
		switch len(ts) {
		case 0:
		case 1:
			qs = append(qs, ts[0])
		default:
			qs = append(qs, bleve.NewDisjunctionQuery(ts...))
		}
	}
	trim := strings.TrimSpace
	anyOf(fLibraryIDs, f.LibraryIDs, trim)
	anyOf(fDistricts, f.Districts, vietnamese.Clean)
	anyOf(fLibraryTypes, f.LibraryTypes, trim)
	formats := make([]string, len(f.Formats))
	for i, v := range f.Formats {
		formats[i] = string(v)
	}
	anyOf(fFormat, formats, trim)
	anyOf(fLanguages, f.Languages, func(s string) string { return strings.ToLower(trim(s)) })
	anyOf(fSubjectFacet, []string{f.Subject}, vietnamese.Clean)
	anyOf(fAvailableAt, []string{f.AvailableAt}, trim)
	if f.YearFrom != 0 || f.YearTo != 0 {
		var lo, hi *float64
		inclusive := true
		if f.YearFrom != 0 {
			v := float64(f.YearFrom)
			lo = &v
		} else {
			v := 1.0 // unknown years are not indexed; any known year is ≥ 1
			lo = &v
		}
		if f.YearTo != 0 {
			v := float64(f.YearTo)
			hi = &v
		}
		r := bleve.NewNumericRangeInclusiveQuery(lo, hi, &inclusive, &inclusive)
		r.SetField(fYear)
		qs = append(qs, r)
	}
	switch len(qs) {
	case 0:
		return nil, nil
	case 1:
		return qs[0], nil
	}
	return bleve.NewConjunctionQuery(qs...), nil
}

// Search runs req and returns one page of results.
func (x *Index) Search(ctx context.Context, req Request) (*Result, error) {
	return x.search(ctx, req, false)
}

// search is Search; alwaysRelaxed skips the conjunction and matches any
// word (for benchmarks comparing the two).
func (x *Index) search(ctx context.Context, req Request, alwaysRelaxed bool) (*Result, error) {
	size := req.First
	if size == 0 {
		size = DefaultPageSize
	}
	if size < 0 || size > MaxPageSize {
		return nil, ErrPageSize
	}
	facetSize := req.FacetSize
	if facetSize == 0 {
		facetSize = DefaultFacetSize
	}
	if facetSize < 0 || facetSize > MaxFacetSize {
		return nil, ErrFacetSize
	}
	for _, f := range req.Facets {
		if _, ok := facetFields[f]; !ok {
			return nil, ErrFacet.WithField("facets." + string(f))
		}
	}
	mode := req.Sort
	if mode == "" {
		mode = SortRelevance
	}
	if mode != SortRelevance && mode != SortNewest && mode != SortTitle {
		return nil, ErrSort
	}
	pq := ParseQuery(req.Query)
	if pq.Empty() && mode == SortRelevance {
		mode = SortTitle
	}
	var after cursor
	if req.After != "" {
		var err error
		if after, err = decodeCursor(req.After, mode, len(sortOrder(mode))); err != nil {
			return nil, err
		}
	}
	filter, err := filterQuery(req.Filter)
	if err != nil {
		return nil, err
	}

	var frequent map[string]bool
	if !pq.Empty() {
		if frequent, err = x.frequentWords(ctx, pq.Words); err != nil {
			return nil, err
		}
	}
	run := func(relaxed bool) (*bleve.SearchResult, error) {
		var main query.Query
		if pq.Empty() {
			main = bleve.NewMatchAllQuery()
		} else {
			main = textQuery(pq, !relaxed, frequent)
		}
		q := main
		if filter != nil {
			b := bleve.NewBooleanQuery()
			b.AddMust(main)
			b.AddFilter(filter)
			q = b
		}
		br := bleve.NewSearchRequestOptions(q, size+1, 0, false)
		br.SortByCustom(sortOrder(mode)) // fresh: sort fields keep per-search state
		br.Fields = []string{fTitle}
		if mode != SortRelevance {
			br.Score = bleve.ScoreNone
		}
		if req.After != "" {
			br.SetSearchAfter(after.After)
		}
		for _, f := range req.Facets {
			br.AddFacet(string(f), bleve.NewFacetRequest(facetFields[f], facetSize))
		}
		res, err := x.b.SearchInContext(ctx, br)
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", req.Query, err)
		}
		return res, nil
	}

	relaxed := after.Relaxed || alwaysRelaxed
	res, err := run(relaxed)
	if err != nil {
		return nil, err
	}
	if res.Total == 0 && !relaxed && req.After == "" && pq.terms() > 1 {
		relaxed = true
		if res, err = run(true); err != nil {
			return nil, err
		}
	}

	out := &Result{TotalCount: int(res.Total), Relaxed: relaxed}
	hits := res.Hits
	if len(hits) > size {
		hits, out.HasNextPage = hits[:size], true
	}
	out.Hits = make([]Hit, len(hits))
	for i, h := range hits {
		c := cursor{V: 1, Sort: mode, Relaxed: relaxed, After: make([]string, len(h.Sort))}
		copy(c.After, h.Sort)
		if mode == SortRelevance {
			c.After[0] = strconv.FormatFloat(h.Score, 'g', -1, 64)
		}
		out.Hits[i] = Hit{ID: h.ID, Score: h.Score, Cursor: c.encode()}
		if t, ok := h.Fields[fTitle].(string); ok {
			out.Hits[i].Title = t
		}
	}
	if n := len(out.Hits); n > 0 {
		out.EndCursor = out.Hits[n-1].Cursor
	}
	for _, f := range req.Facets {
		out.Facets = append(out.Facets, facet(f, res.Facets[string(f)]))
	}
	if req.Highlight && !pq.Empty() && len(out.Hits) > 0 {
		// Every field clause, frequent words included: on the page's few
		// documents they cost nothing and they give the locations.
		if err := x.highlight(ctx, textQuery(pq, !relaxed, nil), out.Hits); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// frequentShare is the share of the catalogue above which a word counts as
// frequent and is scored on the title only (see wordQuery).
const frequentShare = 0.05

// frequentWords returns the folded words that more than frequentShare of
// the documents contain.
func (x *Index) frequentWords(ctx context.Context, words []Word) (map[string]bool, error) {
	if len(words) == 0 {
		return nil, nil
	}
	adv, err := x.b.Advanced()
	if err != nil {
		return nil, fmt.Errorf("search: term statistics: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("search: term statistics: %w", err)
	}
	defer r.Close()
	n, err := r.DocCount()
	if err != nil {
		return nil, fmt.Errorf("search: term statistics: %w", err)
	}
	out := map[string]bool{}
	for _, w := range words {
		if _, done := out[w.Folded]; done {
			continue
		}
		tfr, err := r.TermFieldReader(ctx, []byte(w.Folded), fAny, false, false, false)
		if err != nil {
			return nil, fmt.Errorf("search: term statistics: %w", err)
		}
		out[w.Folded] = float64(tfr.Count()) > frequentShare*float64(n)
		_ = tfr.Close()
	}
	return out, nil
}

// facet converts Bleve's facet result.
func facet(name FacetName, fr *bsearch.FacetResult) Facet {
	f := Facet{Name: name}
	if fr == nil {
		return f
	}
	f.Other, f.Missing = fr.Other, fr.Missing
	if fr.Terms != nil {
		for _, t := range fr.Terms.Terms() {
			f.Values = append(f.Values, FacetValue{Value: t.Term, Count: t.Count})
		}
	}
	if name == FacetDecade {
		sort.Slice(f.Values, func(i, j int) bool { return f.Values[i].Value > f.Values[j].Value })
	}
	return f
}

// highlight fills the Highlights of hits. It runs main again restricted to
// the page's documents with term locations on: asking for locations in the
// main search would read them for every match, not only the page.
func (x *Index) highlight(ctx context.Context, main query.Query, hits []Hit) error {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	q := bleve.NewConjunctionQuery(bleve.NewDocIDQuery(ids), main)
	br := bleve.NewSearchRequestOptions(q, len(ids), 0, false)
	br.IncludeLocations = true
	br.Fields = []string{fTitle, fSubtitle, fAuthors}
	res, err := x.b.SearchInContext(ctx, br)
	if err != nil {
		return fmt.Errorf("search: highlighting: %w", err)
	}
	byID := make(map[string]*bsearch.DocumentMatch, len(res.Hits))
	for _, h := range res.Hits {
		byID[h.ID] = h
	}
	for i := range hits {
		h := byID[hits[i].ID]
		if h == nil {
			continue
		}
		hl := map[string][]string{}
		for _, f := range []struct {
			name   string
			fields []string
		}{
			{fTitle, []string{fTitle, fTitleFolded}},
			{fSubtitle, []string{fSubtitle}},
			{fAuthors, []string{fAuthors, fAuthorsFolded}},
		} {
			values := storedStrings(h.Fields[f.name])
			spans := make([][][2]int, len(values))
			for _, field := range f.fields {
				for _, locs := range h.Locations[field] {
					for _, l := range locs {
						pos := 0
						if len(l.ArrayPositions) > 0 {
							pos = int(l.ArrayPositions[0])
						}
						if pos < len(values) {
							spans[pos] = append(spans[pos], [2]int{int(l.Start), int(l.End)})
						}
					}
				}
			}
			for j, v := range values {
				if len(spans[j]) > 0 {
					hl[f.name] = append(hl[f.name], mark(v, spans[j]))
				}
			}
		}
		if len(hl) > 0 {
			hits[i].Highlights = hl
		}
	}
	return nil
}

// storedStrings reads a stored field: one string or a list of them.
func storedStrings(v interface{}) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []interface{}:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// mark returns s HTML-escaped with the byte ranges spans wrapped in
// <mark></mark>. Overlapping and adjacent spans are merged; spans outside s
// or not on character boundaries are dropped.
func mark(s string, spans [][2]int) string {
	valid := func(sp [2]int) bool {
		return sp[0] >= 0 && sp[0] < sp[1] && sp[1] <= len(s) &&
			utf8.RuneStart(s[sp[0]]) && (sp[1] == len(s) || utf8.RuneStart(s[sp[1]]))
	}
	ok := spans[:0:0]
	for _, sp := range spans {
		if valid(sp) {
			ok = append(ok, sp)
		}
	}
	sort.Slice(ok, func(i, j int) bool { return ok[i][0] < ok[j][0] })
	var b strings.Builder
	at := 0
	for i := 0; i < len(ok); i++ {
		start, end := ok[i][0], ok[i][1]
		for i+1 < len(ok) && ok[i+1][0] <= end {
			end = max(end, ok[i+1][1])
			i++
		}
		if start < at {
			start = at
		}
		if start >= end {
			continue
		}
		b.WriteString(html.EscapeString(s[at:start]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(s[start:end]))
		b.WriteString("</mark>")
		at = end
	}
	b.WriteString(html.EscapeString(s[at:]))
	return b.String()
}
