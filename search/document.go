package search

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/vietnamese"
)

// Document is what the index holds for one work: its bibliographic text and
// a summary of its holdings across the network. The caller builds it from
// the work, its records and its items (the catalog store knows all three);
// Index replaces the whole document, so an availability change re-indexes
// the work with new AvailableAt and AvailableItems.
type Document struct {
	// ID identifies the work (the catalog's work key or store id); it is what
	// hits return.
	ID       string
	Title    string
	Subtitle string
	// Authors are display names ("Nguyễn Du", "Paulo Coelho").
	Authors  []string
	Subjects []string
	Series   []string
	// Publisher is the publisher's name.
	Publisher string
	// ISBNs in any form (ISBN-10 or -13, with or without hyphens); each is
	// indexed digits-only in both its 10- and 13-digit forms.
	ISBNs   []string
	Summary string
	Format  catalog.Format
	// Languages are ISO 639-2/B codes ("vie", "eng").
	Languages []string
	// Year of publication, 0 when unknown (such works sort last under NEWEST
	// and never match a year filter).
	Year int

	// LibraryIDs are the libraries holding at least one copy.
	LibraryIDs []string
	// Districts are the districts of those libraries.
	Districts []string
	// LibraryTypes are the library.Type values of those libraries
	// ("PROVINCIAL", "SCHOOL", …).
	LibraryTypes []string
	// AvailableAt are the libraries with a copy on the shelf now (status
	// AVAILABLE).
	AvailableAt    []string
	TotalItems     int
	AvailableItems int
}

// sortKeyEncoding is base64 with its alphabet in ASCII order and no
// padding: the encoding of byte strings sorts as the byte strings do (a
// proper prefix pads with zero bits, so it still sorts first), and it is a
// third shorter than hexadecimal. Keys are kept as doc values and decoded
// for every hit a title sort visits, so their length is sort time.
var sortKeyEncoding = base64.NewEncoding("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz").
	WithPadding(base64.NoPadding)

// TitleSortKey returns the string the index sorts titles by: the Vietnamese
// collation key of title (vietnamese.SortKey) in an order-preserving base64,
// so that bytewise order of the string is the collation order.
func TitleSortKey(title string) string {
	return sortKeyEncoding.EncodeToString(vietnamese.SortKey(title))
}

// ISBNTerms returns the digits-only forms under which an ISBN is indexed and
// looked up: for a valid ISBN both the ISBN-13 and (for the 978 prefix) the
// ISBN-10; for anything else with 10 or 13 digits, the digits as written.
// Hyphens, spaces and an "ISBN" prefix are ignored. It returns nil when s has
// neither 10 nor 13 digits.
func ISBNTerms(s string) []string {
	if n, err := catalog.NormalizeISBN(s); err == nil {
		out := []string{n}
		if ten := isbn10(n); ten != "" {
			out = append(out, ten)
		}
		return out
	}
	d := isbnDigits(s)
	if len(d) == 10 || len(d) == 13 {
		return []string{d}
	}
	return nil
}

// isbnDigits keeps the digits (and an X) of s, uppercased.
func isbnDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == 'x' || c == 'X':
			b.WriteByte('X')
		}
	}
	return b.String()
}

// isbn10 returns the ISBN-10 of a normalised 978 ISBN-13, "" for 979.
func isbn10(n string) string {
	if len(n) != 13 || !strings.HasPrefix(n, "978") {
		return ""
	}
	body := n[3:12]
	sum := 0
	for i := 0; i < 9; i++ {
		sum += (10 - i) * int(body[i]-'0')
	}
	check := (11 - sum%11) % 11
	if check == 10 {
		return body + "X"
	}
	return body + strconv.Itoa(check)
}

// fields returns the document as the property map the mapping indexes, with
// text in NFC. It fails on a document without an ID.
func (d *Document) fields() (map[string]interface{}, error) {
	if strings.TrimSpace(d.ID) == "" {
		return nil, fmt.Errorf("search: document %q: empty ID", d.Title)
	}
	c := vietnamese.Clean
	title := c(d.Title)
	m := map[string]interface{}{
		fTitle:          title,
		fTitlePrefix:    strings.Join(terms(AnalyzerFolded, title), " "),
		fTitleSort:      TitleSortKey(title),
		fSubtitle:       c(d.Subtitle),
		fAuthors:        cleanAll(d.Authors),
		fSubjects:       cleanAll(d.Subjects),
		fSeries:         cleanAll(d.Series),
		fPublisher:      c(d.Publisher),
		fSummary:        vietnamese.NFC(d.Summary),
		fFormat:         string(d.Format),
		fLanguages:      trimAll(d.Languages),
		fLibraryIDs:     trimAll(d.LibraryIDs),
		fDistricts:      cleanAll(d.Districts),
		fLibraryTypes:   trimAll(d.LibraryTypes),
		fAvailableAt:    trimAll(d.AvailableAt),
		fTotalItems:     float64(d.TotalItems),
		fAvailableItems: float64(d.AvailableItems),
		fCopies:         strconv.Itoa(d.TotalItems) + "/" + strconv.Itoa(d.AvailableItems),
		fYearSort:       fmt.Sprintf("%04d", clampYear(d.Year)),
	}
	any := []string{title, m[fSubtitle].(string), m[fPublisher].(string), m[fSummary].(string)}
	for _, f := range []string{fAuthors, fSubjects, fSeries} {
		any = append(any, m[f].([]string)...)
	}
	m[fAny] = any
	if y := clampYear(d.Year); y > 0 {
		m[fYear] = float64(y)
		m[fDecade] = strconv.Itoa(y / 10 * 10)
	}
	var isbns []string
	seen := map[string]bool{}
	for _, s := range d.ISBNs {
		for _, t := range ISBNTerms(s) {
			if !seen[t] {
				seen[t] = true
				isbns = append(isbns, t)
			}
		}
	}
	if len(isbns) > 0 {
		m[fISBN] = isbns
	}
	return m, nil
}

func clampYear(y int) int {
	if y < 0 || y > 9999 {
		return 0
	}
	return y
}

// cleanAll returns the non-empty entries of in, each vietnamese.Clean'ed.
func cleanAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = vietnamese.Clean(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// trimAll returns the non-empty entries of in, trimmed.
func trimAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
