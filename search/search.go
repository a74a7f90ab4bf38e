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
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

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
	// Copies is the work's copies as the index has them, as fresh as the
	// index (a second behind the store at most); nil when unknown.
	Copies *Copies `json:",omitempty"`

	// position is the hit's sort values, which its cursor holds.
	position []string
}

// Copies counts a work's physical copies across the network.
type Copies struct {
	// Total is every copy, Available those on the shelf now.
	Total, Available int
	// Libraries is how many libraries hold a copy.
	Libraries int
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

// cursorLen is the number of sort values a cursor of s holds: the score
// or sort keys, then the work ID that breaks ties (see keyOrder).
func cursorLen(s Sort) int {
	if s == SortNewest {
		return 3
	}
	return 2
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
		if after, err = decodeCursor(req.After, mode, cursorLen(mode)); err != nil {
			return nil, err
		}
	}
	filter, err := filterQuery(req.Filter)
	if err != nil {
		return nil, err
	}

	x.searched.Store(true)
	adv, err := x.b.Advanced()
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer r.Close()
	cols, err := x.columns.forReader(r)
	if err != nil {
		return nil, err
	}
	var frequent map[string]bool
	if !pq.Empty() {
		if frequent, err = frequentWords(ctx, r, pq.Words); err != nil {
			return nil, err
		}
	}
	p := &pass{x: x, r: r, cols: cols, size: size, mode: mode, after: after, facets: req.Facets, facetSize: facetSize}
	relaxed := after.Relaxed || alwaysRelaxed
	run := func() (*Result, error) {
		var match query.Query // nil: browse
		var score []query.Query
		if !pq.Empty() {
			match, score = textQuery(pq, !relaxed, frequent)
		}
		return p.run(ctx, match, score, filter)
	}
	out, err := run()
	if err != nil {
		return nil, err
	}
	if out.TotalCount == 0 && !relaxed && req.After == "" && pq.terms() > 1 {
		relaxed = true
		if out, err = run(); err != nil {
			return nil, err
		}
	}
	out.Relaxed = relaxed

	for i := range out.Hits {
		h := &out.Hits[i]
		c := cursor{V: 1, Sort: mode, Relaxed: relaxed, After: h.position}
		h.Cursor = c.encode()
		if h.Title, err = storedTitle(r, h.ID); err != nil {
			return nil, fmt.Errorf("search: reading the title of %s: %w", h.ID, err)
		}
	}
	if n := len(out.Hits); n > 0 {
		out.EndCursor = out.Hits[n-1].Cursor
	}
	if hq := highlightQuery(pq); req.Highlight && hq != nil && len(out.Hits) > 0 {
		if err := x.highlight(ctx, hq, out.Hits); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pass is one search's reading of a snapshot (see scan.go for the passes).
type pass struct {
	x      *Index
	r      index.IndexReader
	cols   *snapshotColumns
	size   int
	mode   Sort
	after  cursor
	facets []FacetName
	// facetSize is how many values each facet returns.
	facetSize int
}

// run finds the page, the total and the facets of the works matching match
// (nil: every work) and filter (nil: no filter), ranked by score under
// RELEVANCE.
func (p *pass) run(ctx context.Context, match query.Query, score []query.Query, filter query.Query) (*Result, error) {
	found := and(match, filter)
	var fc *facetCounter
	if len(p.facets) > 0 {
		fc = newFacetCounter(p.facets)
	}
	ranked := p.mode == SortRelevance && match != nil
	var top *topKeyed
	var scored chan scoredPage
	if ranked {
		// The rank pass does not need the match pass's results (only the
		// tail does), so the two run side by side, on two cores when the
		// machine has them free.
		scored = make(chan scoredPage, 1)
		go func() { scored <- p.scored(ctx, found, score) }()
	} else {
		order := orderTitle
		if p.mode == SortNewest {
			order = orderNewest
		}
		top = newTopKeyed(order, p.size+1, p.after.After)
	}
	out := &Result{}
	err := p.matches(ctx, found, func(sc *segmentColumns, n, d uint64) {
		out.TotalCount++
		if fc != nil {
			fc.add(sc, d)
		}
		if top != nil {
			top.add(sc, n, d, 0)
		}
	})
	var page []keyed
	order := orderRelevance
	if ranked {
		sp := <-scored // always received: the reader must outlive its searchers
		if err == nil {
			err = sp.err
		}
		if err == nil {
			page, err = p.withTail(ctx, found, score, sp, out.TotalCount)
		}
	} else {
		page, order = top.sorted(), top.order
	}
	if err != nil {
		return nil, err
	}
	if fc != nil {
		out.Facets = fc.facets(p.x.columns, p.facetSize)
	}
	if len(page) > p.size {
		page, out.HasNextPage = page[:p.size], true
	}
	out.Hits = make([]Hit, len(page))
	for i := range page {
		k := &page[i]
		sc, d := p.cols.locate(k.n)
		copies := sc.copies[d]
		out.Hits[i] = Hit{ID: string(k.keys[order.count-1]), Score: k.score, Copies: &copies, position: order.cursorValues(k)}
	}
	return out, nil
}

// scoredPage is the outcome of the rank pass.
type scoredPage struct {
	page []keyed
	// candidates counts the works that match a scoring clause.
	candidates int
	// skipped reports that the cursor is in the tail, so no scored work
	// comes after it.
	skipped bool
	err     error
}

// scored runs the rank pass: the best scored works after the cursor, at
// most a page and one more.
func (p *pass) scored(ctx context.Context, found query.Query, score []query.Query) scoredPage {
	after := p.after.After
	if after != nil && after[0] == "0" { // a tail position (see withTail)
		return scoredPage{skipped: true}
	}
	// Leapfrogging the two sides reads whichever is smaller: the few works
	// matching every word of a long query, or the titles holding a word
	// most of the catalogue mentions.
	q := bleve.NewConjunctionQuery(onlyMatch{found}, bleve.NewDisjunctionQuery(score...))
	top := newTopKeyed(orderRelevance, p.size+1, after)
	var sp scoredPage
	sp.err = p.x.scan(ctx, p.r, q, true, func(n uint64, s float64) {
		sp.candidates++
		sc, d := p.cols.locate(n)
		top.add(sc, n, d, s)
	})
	sp.page = top.sorted()
	return sp
}

// withTail completes a relevance page that the scored works do not fill
// with the tail: the works no scoring clause matches, which score 0 and
// follow every scored work, by ID. total counts every match.
func (p *pass) withTail(ctx context.Context, found query.Query, score []query.Query, sp scoredPage, total int) ([]keyed, error) {
	want := p.size + 1
	if len(sp.page) == want || (!sp.skipped && sp.candidates == total) {
		return sp.page, nil
	}
	var after []string
	if sp.skipped {
		after = p.after.After[1:]
	}
	tail := bleve.NewBooleanQuery()
	tail.AddMust(found)
	tail.AddMustNot(bleve.NewDisjunctionQuery(score...))
	top := newTopKeyed(orderID, want-len(sp.page), after)
	err := p.x.scan(ctx, p.r, tail, false, func(n uint64, _ float64) {
		sc, d := p.cols.locate(n)
		top.add(sc, n, d, 0)
	})
	if err != nil {
		return nil, err
	}
	return append(sp.page, top.sorted()...), nil
}

// onlyMatch is a query that matches as its query does and adds nothing to a
// score: it is read unscored (so Bleve can merge its terms' postings into
// one bitmap) and weighs nothing in the query norm, so a conjunction with
// it scores exactly as its other side alone.
type onlyMatch struct{ q query.Query }

// Searcher implements query.Query.
func (o onlyMatch) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, _ bsearch.SearcherOptions) (bsearch.Searcher, error) {
	s, err := o.q.Searcher(ctx, r, m, bsearch.SearcherOptions{Score: "none"})
	if err != nil {
		return nil, err
	}
	return zeroWeight{s}, nil
}

// zeroWeight is a searcher that takes no part in the query norm.
type zeroWeight struct{ bsearch.Searcher }

func (zeroWeight) Weight() float64      { return 0 }
func (zeroWeight) SetQueryNorm(float64) {}

// and is the conjunction of the non-nil queries of a and b; match-all when
// both are nil.
func and(a, b query.Query) query.Query {
	switch {
	case a == nil && b == nil:
		return bleve.NewMatchAllQuery()
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return bleve.NewConjunctionQuery(a, b)
}

// frequentShare is the share of the catalogue above which a word counts as
// frequent and is scored on the title only (see wordQuery).
const frequentShare = 0.05

// frequentWords returns the folded words that more than frequentShare of
// the documents of r contain.
func frequentWords(ctx context.Context, r index.IndexReader, words []Word) (map[string]bool, error) {
	if len(words) == 0 {
		return nil, nil
	}
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

// highlight fills the Highlights of hits. It runs main restricted to the
// page's documents with term locations on: asking for locations in the
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
