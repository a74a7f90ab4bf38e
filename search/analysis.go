package search

import (
	"bytes"
	"fmt"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/shingle"
	"github.com/blevesearch/bleve/v2/analysis/token/unicodenorm"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"

	"github.com/bacninh/thuvienso/vietnamese"
)

// Names of the token filters this package registers with Bleve's registry.
// An index whose mapping uses them can only be opened by a binary that links
// this package (the registration happens in init).
const (
	// ToneFilterName places the tone mark of oa, oe and uy one way
	// (vietnamese.NormalizeTones): hòa → hoà, thủy → thuỷ.
	ToneFilterName = "thuvienso_vi_tones"
	// FoldFilterName removes every diacritic and maps đ to d (vietnamese.Fold).
	FoldFilterName = "thuvienso_vi_fold"
)

// Names of the analyzers the index mapping defines. All three start from
// Bleve's unicode tokenizer (UAX #29 words, which for Vietnamese are
// syllables), then NFC, lowercase and tone placement.
const (
	// AnalyzerExact keeps diacritics: "Hòa Bình" → [hoà, bình].
	AnalyzerExact = "vi_exact"
	// AnalyzerFolded folds them away: "Hòa Bình" → [hoa, binh].
	AnalyzerFolded = "vi_folded"
	// AnalyzerBigram emits adjacent pairs of folded syllables:
	// "Thư viện tỉnh" → ["thu vien", "vien tinh"].
	AnalyzerBigram = "vi_bigram"
)

// Names of mapping-local token filters (configured instances of Bleve's
// built-in filters; they live in the mapping, not the registry).
const (
	filterNFC     = "vi_nfc"
	filterShingle = "vi_shingle2"
)

func init() {
	// A name clash with another package's filter is a programming error:
	// report it at start-up rather than later, as an index that opens with
	// the wrong filter.
	for name, c := range map[string]registry.TokenFilterConstructor{
		ToneFilterName: func(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
			return toneFilter{}, nil
		},
		FoldFilterName: func(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
			return foldFilter{}, nil
		},
	} {
		if err := registry.RegisterTokenFilter(name, c); err != nil {
			panic(fmt.Sprintf("search: registering token filter %s: %v", name, err))
		}
	}
}

// toneFilter rewrites each term with vietnamese.NormalizeTones. Only a plain
// o or u carrying a tone can be in the wrong place (oa, oe, uy); terms
// without one, the vast majority, are left alone without the NFD round trip.
// The filter runs after NFC, so such a vowel is one of the precomposed
// runes below.
type toneFilter struct{}

// Filter implements analysis.TokenFilter.
func (toneFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		if !isASCII(t.Term) && bytes.ContainsAny(t.Term, "òóỏõọùúủũụÒÓỎÕỌÙÚỦŨỤ") {
			t.Term = []byte(vietnamese.NormalizeTones(string(t.Term)))
		}
	}
	return in
}

// foldFilter rewrites each term with vietnamese.Fold and drops terms that
// fold to nothing (a lone combining mark).
type foldFilter struct{}

// foldTable maps each precomposed Latin letter (U+00C0–U+024F,
// U+1E00–U+1EFF) to its vietnamese.Fold, when that is one rune. Folding an
// NFC term rune by rune with it gives what Fold gives, without Fold's NFD
// round trip; a term with any other non-ASCII rune goes through Fold.
var foldTable = func() map[rune]rune {
	m := map[rune]rune{}
	for _, rng := range [][2]rune{{0xC0, 0x24F}, {0x1E00, 0x1EFF}} {
		for r := rng[0]; r <= rng[1]; r++ {
			f := []rune(vietnamese.Fold(string(r)))
			if len(f) == 1 {
				m[r] = f[0]
			}
		}
	}
	return m
}()

// fold returns vietnamese.Fold of term, through foldTable when it can.
func fold(term []byte) []byte {
	out := make([]byte, 0, len(term))
	for _, r := range string(term) {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			out = append(out, byte(r))
		case foldTable[r] != 0:
			out = utf8.AppendRune(out, foldTable[r])
		default:
			return []byte(vietnamese.Fold(string(term)))
		}
	}
	return out
}

// Filter implements analysis.TokenFilter.
func (foldFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	out := in[:0]
	for _, t := range in {
		if !isASCII(t.Term) {
			t.Term = fold(t.Term)
		} else if bytes.IndexFunc(t.Term, unicode.IsUpper) >= 0 {
			t.Term = bytes.ToLower(t.Term)
		}
		if len(t.Term) > 0 {
			out = append(out, t)
		}
	}
	return out
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Index field names. A Document property may feed several index fields
// (title is indexed exact, folded and as syllable pairs).
const (
	fTitle          = "title"
	fTitleFolded    = "title_folded"
	fTitleBigram    = "title_bigram"
	fTitlePrefix    = "title_prefix"
	fTitleSort      = "title_sort"
	fSubtitle       = "subtitle"
	fAuthors        = "authors"
	fAuthorsFolded  = "authors_folded"
	fSubjects       = "subjects"
	fSubjectFacet   = "subject"
	fSeries         = "series"
	fPublisher      = "publisher"
	fSummary        = "summary"
	fISBN           = "isbn"
	fFormat         = "format"
	fLanguages      = "language"
	fYear           = "year"
	fYearSort       = "year_sort"
	fDecade         = "decade"
	fLibraryIDs     = "library"
	fDistricts      = "district"
	fLibraryTypes   = "library_type"
	fAvailableAt    = "available_at"
	fTotalItems     = "total_items"
	fAvailableItems = "available_items"
	// fCopies is "total/available", one keyword per work kept as a doc
	// value, so that a hit's availability comes from the index's columns.
	fCopies = "copies"
	// fAny holds every searchable text folded, for matching: a query word is
	// required in it (one postings list a word), while the per-field clauses
	// only score.
	fAny = "any"
)

// schemaVersion names the shape of the mapping below. An index written with
// another version is refused by Open (ErrIncompatible): the index is derived
// data and is rebuilt rather than migrated.
const schemaVersion = "thuvienso-search-3"

// newMapping returns the index mapping: the analyzers above and one static
// document mapping (no dynamic fields, nothing in _all).
func newMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	if err := im.AddCustomTokenFilter(filterNFC, map[string]interface{}{
		"type": unicodenorm.Name,
		"form": unicodenorm.NFC,
	}); err != nil {
		return nil, fmt.Errorf("search mapping: %w", err)
	}
	if err := im.AddCustomTokenFilter(filterShingle, map[string]interface{}{
		"type":            shingle.Name,
		"min":             2.0,
		"max":             2.0,
		"output_original": false,
		"separator":       " ",
	}); err != nil {
		return nil, fmt.Errorf("search mapping: %w", err)
	}
	base := []string{filterNFC, lowercase.Name, ToneFilterName}
	analyzers := map[string][]string{
		AnalyzerExact:  base,
		AnalyzerFolded: append(append([]string(nil), base...), FoldFilterName),
		AnalyzerBigram: append(append([]string(nil), base...), FoldFilterName, filterShingle),
	}
	for name, filters := range analyzers {
		if err := im.AddCustomAnalyzer(name, map[string]interface{}{
			"type":          custom.Name,
			"tokenizer":     unicodetok.Name,
			"token_filters": filters,
		}); err != nil {
			return nil, fmt.Errorf("search mapping: analyzer %s: %w", name, err)
		}
	}
	im.DefaultAnalyzer = AnalyzerFolded
	im.IndexDynamic, im.StoreDynamic, im.DocValuesDynamic = false, false, false

	// text returns a text field mapping named name.
	text := func(name, analyzer string, store, vectors bool) *mapping.FieldMapping {
		m := bleve.NewTextFieldMapping()
		m.Name, m.Analyzer = name, analyzer
		m.Store, m.IncludeTermVectors = store, vectors
		m.IncludeInAll, m.DocValues = false, false
		return m
	}
	// kw returns a keyword (one term, not analysed) field mapping for
	// filters, facets and sorts. Fields that are never scored skip
	// frequencies and norms (a scored query on such a field yields NaN).
	kw := func(name string, docValues, scored bool) *mapping.FieldMapping {
		m := bleve.NewKeywordFieldMapping()
		m.Name, m.Analyzer = name, keyword.Name
		m.Store, m.IncludeTermVectors, m.IncludeInAll = false, false, false
		m.DocValues = docValues
		m.SkipFreqNorm = !scored
		return m
	}
	num := func(name string) *mapping.FieldMapping {
		m := bleve.NewNumericFieldMapping()
		m.Name = name
		m.Store, m.IncludeInAll, m.DocValues = false, false, false
		return m
	}

	dm := bleve.NewDocumentStaticMapping()
	// Title: exact (stored, for hits and highlights), folded and pairs. Term
	// vectors on the first two give highlight offsets and phrase positions.
	dm.AddFieldMappingsAt(fTitle,
		text(fTitle, AnalyzerExact, true, true),
		text(fTitleFolded, AnalyzerFolded, false, true),
		text(fTitleBigram, AnalyzerBigram, false, false))
	dm.AddFieldMappingsAt(fTitlePrefix, kw(fTitlePrefix, false, true))
	dm.AddFieldMappingsAt(fTitleSort, kw(fTitleSort, true, false))
	dm.AddFieldMappingsAt(fSubtitle, text(fSubtitle, AnalyzerFolded, true, true))
	dm.AddFieldMappingsAt(fAuthors,
		text(fAuthors, AnalyzerExact, true, true),
		text(fAuthorsFolded, AnalyzerFolded, false, true))
	dm.AddFieldMappingsAt(fSubjects,
		text(fSubjects, AnalyzerFolded, false, false),
		kw(fSubjectFacet, true, false))
	dm.AddFieldMappingsAt(fSeries, text(fSeries, AnalyzerFolded, false, false))
	dm.AddFieldMappingsAt(fPublisher, text(fPublisher, AnalyzerFolded, false, false))
	dm.AddFieldMappingsAt(fSummary, text(fSummary, AnalyzerFolded, false, false))
	dm.AddFieldMappingsAt(fAny, text(fAny, AnalyzerFolded, false, false))
	dm.AddFieldMappingsAt(fISBN, kw(fISBN, false, true))
	dm.AddFieldMappingsAt(fFormat, kw(fFormat, true, false))
	dm.AddFieldMappingsAt(fLanguages, kw(fLanguages, true, false))
	dm.AddFieldMappingsAt(fYear, num(fYear))
	dm.AddFieldMappingsAt(fYearSort, kw(fYearSort, true, false))
	dm.AddFieldMappingsAt(fDecade, kw(fDecade, true, false))
	dm.AddFieldMappingsAt(fLibraryIDs, kw(fLibraryIDs, true, false))
	dm.AddFieldMappingsAt(fDistricts, kw(fDistricts, true, false))
	dm.AddFieldMappingsAt(fLibraryTypes, kw(fLibraryTypes, true, false))
	dm.AddFieldMappingsAt(fAvailableAt, kw(fAvailableAt, false, false))
	dm.AddFieldMappingsAt(fTotalItems, num(fTotalItems))
	dm.AddFieldMappingsAt(fAvailableItems, num(fAvailableItems))
	dm.AddFieldMappingsAt(fCopies, kw(fCopies, true, false))
	im.DefaultMapping = dm
	if err := im.Validate(); err != nil {
		return nil, fmt.Errorf("search mapping: %w", err)
	}
	return im, nil
}

// analyzers are the package's own instances of the three analyzers, used to
// read queries exactly as documents are read.
var analyzers = sync.OnceValues(func() (map[string]analysis.Analyzer, error) {
	im, err := newMapping()
	if err != nil {
		return nil, err
	}
	out := map[string]analysis.Analyzer{}
	for _, name := range []string{AnalyzerExact, AnalyzerFolded, AnalyzerBigram} {
		a := im.AnalyzerNamed(name)
		if a == nil {
			return nil, fmt.Errorf("search: analyzer %s not built", name)
		}
		out[name] = a
	}
	return out, nil
})

// Analyze returns the terms the named analyzer (AnalyzerExact,
// AnalyzerFolded or AnalyzerBigram) produces for text, in order. It is what
// the index stores for a field read with that analyzer.
func Analyze(analyzer, text string) ([]string, error) {
	as, err := analyzers()
	if err != nil {
		return nil, err
	}
	a, ok := as[analyzer]
	if !ok {
		return nil, fmt.Errorf("search: no analyzer %q", analyzer)
	}
	ts := a.Analyze([]byte(text))
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t.Term)
	}
	return out, nil
}

// terms is Analyze for the package's own analyzers, which always exist once
// newMapping works (a test checks it); an error yields no terms.
func terms(analyzer, text string) []string {
	ts, err := Analyze(analyzer, text)
	if err != nil {
		return nil
	}
	return ts
}
