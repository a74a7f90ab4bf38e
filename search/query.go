package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/bacninh/thuvienso/vietnamese"
)

// Bounds of a user query. Longer input is cut, not refused: a pasted
// paragraph still searches on its beginning.
const (
	// MaxQueryRunes is how much of the query text is read.
	MaxQueryRunes = 256
	// MaxQueryTerms is how many words, phrase words and ISBNs are kept.
	MaxQueryTerms = 32
)

// Word is one query word in its two matching forms.
type Word struct {
	// Exact is the word as AnalyzerExact reads it: NFC, lowercase, tones
	// placed one way ("hoà").
	Exact string
	// Folded is the word without diacritics ("hoa").
	Folded string
}

// marked reports whether the word carries diacritics, that is whether an
// exact-form match means more than a folded one.
func (w Word) marked() bool { return w.Exact != w.Folded }

// Query is a parsed user query.
type Query struct {
	// Words are the words outside quotes, in order.
	Words []Word
	// Phrases are the quoted phrases of two words or more; a quoted single
	// word is a Word.
	Phrases [][]Word
	// ISBNs are the lookup forms (see ISBNTerms) of the words that look like
	// an ISBN: 10 or 13 digits written with or without hyphens.
	ISBNs []string
	// Truncated reports that input beyond MaxQueryRunes or MaxQueryTerms was
	// dropped.
	Truncated bool
}

// Empty reports whether q has nothing to match: searching with an empty
// query browses the filtered catalogue.
func (q Query) Empty() bool {
	return len(q.Words) == 0 && len(q.Phrases) == 0 && len(q.ISBNs) == 0
}

// terms counts the query's terms.
func (q Query) terms() int {
	n := len(q.Words) + len(q.ISBNs)
	for _, p := range q.Phrases {
		n += len(p)
	}
	return n
}

// sequences returns the runs of adjacent words whose pairs count as phrases
// for the bigram field: the free words in order, and each quoted phrase.
func (q Query) sequences() [][]Word {
	out := make([][]Word, 0, 1+len(q.Phrases))
	if len(q.Words) > 1 {
		out = append(out, q.Words)
	}
	return append(out, q.Phrases...)
}

// ParseQuery reads user input: invalid UTF-8 and control characters become
// spaces, text is put in NFC, only the first MaxQueryRunes runes and
// MaxQueryTerms terms are kept. Double quotes (straight or curly) delimit
// phrases; an unclosed quote is ignored. A whitespace-separated token made
// of digits and hyphens (optionally "ISBN" before it) with 10 or 13 digits
// is an ISBN; so is a whole query of digits, hyphens and spaces with 10 or
// 13 digits. Other tokens are read with AnalyzerExact and AnalyzerFolded, so
// punctuation separates words as it does in the index.
//
// ParseQuery never fails and never panics; any input gives a Query, maybe
// an empty one.
func ParseQuery(s string) Query {
	var q Query
	s = sanitize(s, &q.Truncated)
	if isbns := isbnToken(s); isbns != nil {
		q.ISBNs = isbns[:1]
		return q
	}
	segments := splitQuotes(s)
	for i, seg := range segments {
		phrase := i%2 == 1 && i < len(segments)-1 // inside a closed pair of quotes
		var words []Word
		prevISBN := false
		for _, tok := range strings.Fields(seg) {
			if strings.EqualFold(tok, "isbn") || strings.EqualFold(tok, "isbn:") {
				prevISBN = true
				continue
			}
			if isbns := isbnToken(tok); isbns != nil {
				if q.terms() < MaxQueryTerms {
					q.ISBNs = append(q.ISBNs, isbns[0])
				} else {
					q.Truncated = true
				}
				prevISBN = false
				continue
			}
			if prevISBN {
				// "ISBN" followed by something that is not one: keep the word.
				words = append(words, analyzeWords("isbn")...)
				prevISBN = false
			}
			words = append(words, analyzeWords(tok)...)
		}
		if prevISBN {
			words = append(words, analyzeWords("isbn")...)
		}
		room := MaxQueryTerms - q.terms()
		if len(words) > room {
			words, q.Truncated = words[:max(room, 0)], true
		}
		if len(words) == 0 {
			continue
		}
		if phrase && len(words) > 1 {
			q.Phrases = append(q.Phrases, words)
		} else {
			q.Words = append(q.Words, words...)
		}
	}
	return q
}

// sanitize makes s valid NFC text of at most MaxQueryRunes runes with
// control characters replaced by spaces.
func sanitize(s string, truncated *bool) string {
	// Bound the work before normalising: NFC can only shorten Vietnamese,
	// and a cut in the middle of a combining sequence is harmless.
	if len(s) > 4*MaxQueryRunes*4 {
		s, *truncated = s[:4*MaxQueryRunes*4], true
	}
	s = strings.ToValidUTF8(s, " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	s = vietnamese.NFC(s)
	n := 0
	for i := range s {
		if n == MaxQueryRunes {
			s, *truncated = s[:i], true
			break
		}
		n++
	}
	return s
}

// onlyISBNChars reports whether s has only digits, X, hyphens, spaces and
// an optional leading "ISBN" (with ":"), the shape of a typed ISBN.
func onlyISBNChars(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) >= 4 && strings.EqualFold(s[:4], "isbn") {
		s = strings.TrimLeft(s[4:], ": ")
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '-', c == ' ':
		case (c == 'x' || c == 'X') && i == len(s)-1:
		default:
			return false
		}
	}
	return true
}

// isbnToken returns the lookup forms of tok when it is shaped like an ISBN.
func isbnToken(tok string) []string {
	if !onlyISBNChars(tok) {
		return nil
	}
	return ISBNTerms(tok)
}

// splitQuotes splits s at double quotes (", “, ”, „): the odd-numbered
// segments were inside quotes.
func splitQuotes(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		switch r {
		case '"', '“', '”', '„':
			out = append(out, s[start:i])
			start = i + utf8.RuneLen(r)
		}
	}
	return append(out, s[start:])
}

// analyzeWords reads one whitespace-separated token into words.
func analyzeWords(tok string) []Word {
	exact := terms(AnalyzerExact, tok)
	out := make([]Word, 0, len(exact))
	for _, e := range exact {
		f := vietnamese.Fold(e)
		if f == "" {
			continue
		}
		out = append(out, Word{Exact: e, Folded: f})
	}
	return out
}

// Field boosts. Bleve has no index-time boosts, so the ranking of fields is
// all here: an exact-form title match scores its exact and its folded
// clause, a folded-only match (dương for đường) only the latter.
const (
	boostTitleExact   = 4.0
	boostTitleFolded  = 2.0
	boostTitleBigram  = 3.0
	boostAuthorExact  = 3.0
	boostAuthorFolded = 1.5
	boostSubtitle     = 1.2
	boostSubject      = 1.0
	boostSeries       = 1.0
	boostPublisher    = 0.3
	boostSummary      = 0.3
	boostISBN         = 10.0
	boostAny          = 0.01
	boostPhraseTitle  = 4.0
	boostPhraseAuthor = 3.0
)

func term(field, t string, boost float64) query.Query {
	q := bleve.NewTermQuery(t)
	q.SetField(field)
	q.SetBoost(boost)
	return q
}

// wordQuery matches one word in any text field. A word typed with marks is
// a disjunction of two groups, its exact form in title and authors and its
// folded form anywhere: Bleve multiplies a disjunction's summed score by the
// share of its clauses that match, so a work matching both groups (the
// exact form) scores about twice as much as one matching only the folded
// form, however many folded fields that one matches.
//
// A frequent word (see Index.frequentWords) is scored on the title only:
// its per-field clauses would be evaluated on a large share of the
// catalogue for little ranking value, since it matches nearly everywhere.
func wordQuery(w Word, frequent bool) query.Query {
	if frequent {
		folded := term(fTitleFolded, w.Folded, boostTitleFolded)
		if !w.marked() {
			return folded
		}
		return bleve.NewDisjunctionQuery(term(fTitle, w.Exact, boostTitleExact), folded)
	}
	folded := bleve.NewDisjunctionQuery(
		term(fTitleFolded, w.Folded, boostTitleFolded),
		term(fAuthorsFolded, w.Folded, boostAuthorFolded),
		term(fSubtitle, w.Folded, boostSubtitle),
		term(fSubjects, w.Folded, boostSubject),
		term(fSeries, w.Folded, boostSeries),
		term(fPublisher, w.Folded, boostPublisher),
		term(fSummary, w.Folded, boostSummary))
	if !w.marked() {
		return folded
	}
	exact := bleve.NewDisjunctionQuery(
		term(fTitle, w.Exact, boostTitleExact),
		term(fAuthors, w.Exact, boostAuthorExact))
	return bleve.NewDisjunctionQuery(exact, folded)
}

// phraseQuery matches a quoted phrase in the title, subtitle or authors.
func phraseQuery(p []Word) query.Query {
	folded := make([]string, len(p))
	for i, w := range p {
		folded[i] = w.Folded
	}
	qs := make([]query.Query, 0, 3)
	for _, f := range []struct {
		field string
		boost float64
	}{{fTitleFolded, boostPhraseTitle}, {fAuthorsFolded, boostPhraseAuthor}, {fSubtitle, boostSubtitle}} {
		pq := bleve.NewPhraseQuery(folded, f.field)
		pq.SetBoost(f.boost)
		qs = append(qs, pq)
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// bigrams returns optional clauses on the title's syllable pairs: a title
// containing "thư viện" as such outranks one with both syllables apart.
func bigrams(q Query) []query.Query {
	var out []query.Query
	seen := map[string]bool{}
	for _, seq := range q.sequences() {
		for i := 0; i+1 < len(seq); i++ {
			t := seq[i].Folded + " " + seq[i+1].Folded
			if !seen[t] {
				seen[t] = true
				out = append(out, term(fTitleBigram, t, boostTitleBigram))
			}
		}
	}
	return out
}

// textQuery builds the two halves of a non-empty parsed query: match
// decides which works are results, score ranks them. With all set every
// word, phrase and ISBN is required; otherwise any one suffices (the
// fallback when requiring all finds nothing).
//
// A word is required in the field that folds every searchable text
// together (fAny): one postings list a word, so matching is a conjunction
// of a few bitmaps even for syllables half the catalogue contains. The
// per-field clauses (wordQuery) and the title's syllable pairs only score;
// their boosts rank the fields. Phrases and ISBNs both match and score.
//
// frequent names the folded words scored on the title only.
func textQuery(q Query, all bool, frequent map[string]bool) (match query.Query, score []query.Query) {
	var must []query.Query
	seen := map[string]bool{}
	for _, w := range q.Words {
		if seen[w.Exact] {
			continue
		}
		seen[w.Exact] = true
		score = append(score, wordQuery(w, frequent[w.Folded]))
		if !seen["\x00"+w.Folded] {
			seen["\x00"+w.Folded] = true
			must = append(must, term(fAny, w.Folded, boostAny))
		}
	}
	for _, p := range q.Phrases {
		pq := phraseQuery(p)
		must, score = append(must, pq), append(score, pq)
	}
	for _, i := range q.ISBNs {
		t := term(fISBN, i, boostISBN)
		must, score = append(must, t), append(score, t)
	}
	score = append(score, bigrams(q)...)
	switch {
	case len(must) == 1:
		match = must[0]
	case all:
		match = bleve.NewConjunctionQuery(must...)
	default:
		match = bleve.NewDisjunctionQuery(must...)
	}
	return match, score
}

// highlightQuery matches the words and phrases of q in the fields a hit's
// highlights show (title, subtitle, authors), in both forms. It only finds
// locations on a page already chosen: a work it does not match simply has
// no highlights. It is nil when q has nothing to highlight.
func highlightQuery(q Query) query.Query {
	var qs []query.Query
	for _, w := range q.Words {
		qs = append(qs,
			term(fTitle, w.Exact, 1), term(fTitleFolded, w.Folded, 1),
			term(fSubtitle, w.Folded, 1),
			term(fAuthors, w.Exact, 1), term(fAuthorsFolded, w.Folded, 1))
	}
	for _, p := range q.Phrases {
		qs = append(qs, phraseQuery(p))
	}
	if len(qs) == 0 {
		return nil // only ISBNs: nothing to highlight
	}
	return bleve.NewDisjunctionQuery(qs...)
}
