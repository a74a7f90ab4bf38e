package catalog

import (
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/bacninh/thuvienso/vietnamese"
)

// Prefixes of work keys.
const (
	keyISBN  = "isbn:"
	keyTitle = "t:"
)

// NormalizeTitle returns the matching form of a title: tones placed one way,
// diacritics folded (đ → d), lowercase, punctuation removed and words
// separated by one space. "Truyện Kiều : bản mới" → "truyen kieu ban moi".
// Leading articles are kept: Vietnamese has none to drop.
func NormalizeTitle(s string) string {
	return words(vietnamese.Fold(vietnamese.NormalizeTones(s)))
}

// NormalizeAuthor returns the matching form of a person's or body's name:
// folded like NormalizeTitle, dates and other numbers dropped, and the words
// sorted, so that the inverted form "Nguyễn, Nhật Ánh" and the direct form
// "Nguyễn Nhật Ánh" (or "Penz, Francois" and "Francois Penz") agree whichever
// word the source took as the surname.
func NormalizeAuthor(s string) string {
	f := strings.Fields(NormalizeTitle(s))
	out := f[:0]
	for _, w := range f {
		if !isDigits(w) {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// words keeps letters and digits of s, turning every other run into one
// space, trimmed.
func words(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	return b.String()
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// TitleKey returns the title-based clustering key of r: normalised title,
// normalised first author and year, "" when r has no title.
func TitleKey(r *Record) string {
	t := NormalizeTitle(r.Title)
	if t == "" {
		return ""
	}
	y := ""
	if r.Year > 0 {
		y = strconv.Itoa(r.Year)
	}
	return keyTitle + t + "|" + NormalizeAuthor(r.FirstAuthor()) + "|" + y
}

// ISBNKey returns the clustering key of a normalised ISBN-13.
func ISBNKey(isbn13 string) string { return keyISBN + isbn13 }

// WorkKey returns the key that clusters r into a work: the first valid
// ISBN-13 when r has one ("isbn:9786041123456"), otherwise the title key
// ("t:truyen kieu|du nguyen|1820"). It is "" when r has neither, and such a
// record forms a work of its own. Invalid ISBNs never take part.
func WorkKey(r *Record) string {
	for _, i := range r.ISBNs {
		if i.Valid() {
			return ISBNKey(i.ISBN13)
		}
	}
	return TitleKey(r)
}

// WorkKeys returns every key under which r may join an existing work: one per
// valid ISBN, then the title key. A store looks the keys up in this order.
func WorkKeys(r *Record) []string {
	var out []string
	for _, i := range r.ISBNs {
		if i.Valid() {
			out = append(out, ISBNKey(i.ISBN13))
		}
	}
	if t := TitleKey(r); t != "" {
		out = append(out, t)
	}
	return out
}

// Validate reports whether r can enter the catalogue: it needs a library,
// a source identifier and a title.
func (r *Record) Validate() error {
	if r.LibraryID == "" || r.SourceID == "" {
		return ErrRecordSource
	}
	if strings.TrimSpace(r.Title) == "" {
		return ErrRecordTitle
	}
	return nil
}

// Cluster groups records into works, in memory, by the rules of the
// catalogue:
//   - records sharing any valid ISBN are one work;
//   - a record without a valid ISBN joins the work of a record with the same
//     title key (title, first author, year) that has an ISBN — when several
//     such works exist, the one with most records, then the smallest ISBN —
//     and otherwise forms a work with the other ISBN-less records of that
//     key;
//   - records with different ISBNs are not merged through their titles
//     (different editions of one title stay apart).
//
// The result is deterministic: works are ordered by key and the records of a
// work keep their input order. The store applies the same rules
// incrementally through WorkKeys.
func Cluster(records []*Record) []Work {
	n := len(records)
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int) {
		ra, rb := find(a), find(b)
		if ra == rb {
			return
		}
		if ra < rb {
			parent[rb] = ra
		} else {
			parent[ra] = rb
		}
	}
	byISBN := map[string]int{}
	byTitle := map[string][]int{} // title key → records with a valid ISBN
	for i, r := range records {
		isbns := r.ValidISBN13s()
		for _, s := range isbns {
			if j, ok := byISBN[s]; ok {
				union(i, j)
			} else {
				byISBN[s] = i
			}
		}
		if len(isbns) > 0 {
			if t := TitleKey(r); t != "" {
				byTitle[t] = append(byTitle[t], i)
			}
		}
	}
	// Size and smallest ISBN of each ISBN cluster, fixed before ISBN-less
	// records join, so the choice below does not depend on input order.
	size := map[int]int{}
	minISBN := map[int]string{}
	rootOf := make([]int, n)
	for i := range records {
		rootOf[i] = find(i)
	}
	for i, r := range records {
		isbns := r.ValidISBN13s()
		if len(isbns) == 0 {
			continue
		}
		root := rootOf[i]
		size[root]++
		for _, s := range isbns {
			if m, ok := minISBN[root]; !ok || s < m {
				minISBN[root] = s
			}
		}
	}
	bare := map[string]int{} // title key → first ISBN-less record
	for i, r := range records {
		if len(r.ValidISBN13s()) > 0 {
			continue
		}
		t := TitleKey(r)
		if t == "" {
			continue
		}
		if js := byTitle[t]; len(js) > 0 {
			// Several editions share the title key: join the one most
			// libraries hold, then the one with the smallest ISBN.
			best := -1
			for _, j := range js {
				rj := rootOf[j]
				if best < 0 || size[rj] > size[best] || size[rj] == size[best] && minISBN[rj] < minISBN[best] {
					best = rj
				}
			}
			union(i, best)
			continue
		}
		if j, ok := bare[t]; ok {
			union(i, j)
		} else {
			bare[t] = i
		}
	}
	groups := map[int][]int{}
	var roots []int
	for i := range records {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], i)
	}
	works := make([]Work, 0, len(roots))
	for _, root := range roots {
		works = append(works, newWork(records, groups[root]))
	}
	sort.SliceStable(works, func(a, b int) bool { return works[a].Key < works[b].Key })
	return works
}

// newWork builds the work of the records at idx; the first record with the
// most complete description gives the title, authors and year.
func newWork(records []*Record, idx []int) Work {
	var w Work
	best := records[idx[0]]
	for _, i := range idx[1:] {
		if completeness(records[i]) > completeness(best) {
			best = records[i]
		}
	}
	seen := map[string]bool{}
	var key string
	for _, i := range idx {
		r := records[i]
		w.Records = append(w.Records, RecordRef{LibraryID: r.LibraryID, SourceID: r.SourceID})
		for _, s := range r.ValidISBN13s() {
			if !seen[s] {
				seen[s] = true
				w.ISBNs = append(w.ISBNs, s)
			}
		}
	}
	sort.Strings(w.ISBNs)
	if len(w.ISBNs) > 0 {
		key = ISBNKey(w.ISBNs[0])
	} else if key = TitleKey(best); key == "" {
		key = "rec:" + best.LibraryID + ":" + best.SourceID
	}
	w.Key = key
	w.Title, w.Subtitle, w.Year, w.Format = best.Title, best.Subtitle, best.Year, best.Format
	w.Authors = append([]Author(nil), best.Authors...)
	w.Languages = append([]string(nil), best.Languages...)
	return w
}

// completeness scores how much of a description a record carries.
func completeness(r *Record) int {
	n := 0
	for _, ok := range []bool{r.Title != "", r.Subtitle != "", len(r.Authors) > 0, r.Year > 0,
		r.Publisher != "", len(r.ValidISBN13s()) > 0, len(r.Subjects) > 0, r.Summary != "", r.DDC != ""} {
		if ok {
			n++
		}
	}
	return n
}
