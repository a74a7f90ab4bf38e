package search

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	thuvienso "github.com/bacninh/thuvienso"
)

// Suggestion sizes.
const (
	// DefaultSuggestions is how many suggestions Suggest returns for n = 0.
	DefaultSuggestions = 10
	// MaxSuggestions is the most Suggest returns.
	MaxSuggestions = 50
	// maxSuggestRunes bounds the prefix read.
	maxSuggestRunes = 100
)

// ErrSuggestSize is returned for a suggestion count outside 0…MaxSuggestions.
var ErrSuggestSize = thuvienso.Invalid("first", "the number of suggestions must be between 0 and 50", "số gợi ý phải từ 0 đến 50")

// SuggestionKind tells what a suggestion completes to.
type SuggestionKind string

// The kinds of suggestion.
const (
	SuggestTitle  SuggestionKind = "TITLE"
	SuggestAuthor SuggestionKind = "AUTHOR"
)

// Suggestion is one autocompletion of a typed prefix.
type Suggestion struct {
	// Text is the title or author name as catalogued ("Truyện Kiều").
	Text string
	Kind SuggestionKind
	// WorkID is a work with this title or author.
	WorkID string
}

// Suggest completes what a reader is typing into up to n titles and author
// names (n = 0 means DefaultSuggestions). Matching ignores diacritics and
// case: every word of prefix but the last must be a word of the title (or
// author), the last may be the beginning of one, so "truyen k" suggests
// "Truyện Kiều". Titles that begin with prefix come first. A prefix of one
// letter suggests nothing (it would expand to too many words).
func (x *Index) Suggest(ctx context.Context, prefix string, n int) ([]Suggestion, error) {
	if n == 0 {
		n = DefaultSuggestions
	}
	if n < 0 || n > MaxSuggestions {
		return nil, ErrSuggestSize
	}
	var truncated bool
	prefix = sanitize(prefix, &truncated)
	if utf8.RuneCountInString(prefix) > maxSuggestRunes {
		prefix = string([]rune(prefix)[:maxSuggestRunes])
	}
	words := terms(AnalyzerFolded, prefix)
	if len(words) > MaxQueryTerms {
		words = words[:MaxQueryTerms]
	}
	if len(words) == 0 {
		return nil, nil
	}
	// The last word is complete when the prefix ends with a space or mark.
	last, _ := utf8.DecodeLastRuneInString(prefix)
	partial := unicode.IsLetter(last) || unicode.IsDigit(last) || unicode.Is(unicode.Mn, last)
	if partial && len(words) == 1 && utf8.RuneCountInString(words[0]) < 2 {
		return nil, nil
	}

	fieldQuery := func(field string) query.Query {
		qs := make([]query.Query, 0, len(words))
		for i, w := range words {
			if partial && i == len(words)-1 {
				p := bleve.NewPrefixQuery(w)
				p.SetField(field)
				qs = append(qs, p)
			} else {
				qs = append(qs, term(field, w, 1))
			}
		}
		if len(qs) == 1 {
			return qs[0]
		}
		return bleve.NewConjunctionQuery(qs...)
	}
	joined := strings.Join(words, " ")
	if !partial {
		joined += " "
	}
	starts := bleve.NewPrefixQuery(joined)
	starts.SetField(fTitlePrefix)
	starts.SetBoost(10)
	titles := bleve.NewBooleanQuery()
	titles.AddMust(fieldQuery(fTitleFolded))
	titles.AddShould(starts)
	q := bleve.NewDisjunctionQuery(titles, fieldQuery(fAuthorsFolded))

	br := bleve.NewSearchRequestOptions(q, 4*n, 0, false)
	br.Fields = []string{fTitle, fAuthors}
	res, err := x.b.SearchInContext(ctx, br)
	if err != nil {
		return nil, fmt.Errorf("search: suggest %q: %w", prefix, err)
	}

	var out []Suggestion
	seen := map[string]bool{}
	add := func(text string, kind SuggestionKind, id string) {
		k := string(kind) + "\x00" + strings.Join(terms(AnalyzerExact, text), " ")
		if len(out) < n && !seen[k] && completes(words, partial, text) {
			seen[k] = true
			out = append(out, Suggestion{Text: text, Kind: kind, WorkID: id})
		}
	}
	for _, h := range res.Hits {
		for _, t := range storedStrings(h.Fields[fTitle]) {
			add(t, SuggestTitle, h.ID)
		}
		for _, a := range storedStrings(h.Fields[fAuthors]) {
			add(a, SuggestAuthor, h.ID)
		}
	}
	return out, nil
}

// completes reports whether text contains the folded words (the last one
// possibly as the beginning of a word when partial).
func completes(words []string, partial bool, text string) bool {
	have := terms(AnalyzerFolded, text)
	set := make(map[string]bool, len(have))
	for _, h := range have {
		set[h] = true
	}
	for i, w := range words {
		if partial && i == len(words)-1 {
			found := false
			for _, h := range have {
				if strings.HasPrefix(h, w) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		} else if !set[w] {
			return false
		}
	}
	return true
}
