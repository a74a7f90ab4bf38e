package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/ingest/marc"
)

// MapMARC turns one MARC 21 bibliographic record into a catalog record and
// the items of its holdings fields (852, Koha 952). raw is the record as ISO
// 2709 (kept in Record.RawMARC). warnings name what was dropped or guessed.
// The record is not yet normalised (Batch readers do that).
//
// Mapping: format from leader/06–07 and 008; languages from 008/35–37 and
// 041 $a; title 245 $a $n $p and subtitle $b (ISBD punctuation trimmed);
// authors 100/110/111 then 700/710/711 (role from $e or $4); subjects 6XX;
// edition 250; place, publisher and year from 264 (second indicator 1) or
// 260 $a $b $c, the year falling back to 008/07–10; ISBNs 020 $a; DDC 082 $a;
// summary 520; series 490, 800/810/811/830; physical description 300; links
// 856 $u. The source ID is 001, else 035 $a, else a hash of the record.
func MapMARC(m *marc.Record, raw []byte, o Options, src catalog.SourceFormat) (catalog.Record, []catalog.Item, []string) {
	var warn []string
	r := catalog.Record{LibraryID: o.LibraryID, SourceFormat: src, RawMARC: raw}
	r.SourceID = strings.TrimSpace(m.Control("001"))
	if r.SourceID == "" {
		if f := m.First("035"); f != nil && strings.TrimSpace(f.Sub('a')) != "" {
			r.SourceID = strings.TrimSpace(f.Sub('a'))
			warn = append(warn, "no 001: source id taken from 035 $a")
		} else {
			sum := sha256.Sum256(raw)
			r.SourceID = "sha256:" + hex.EncodeToString(sum[:12])
			warn = append(warn, "no 001 or 035: source id derived from the record's content")
		}
	}
	f008 := m.Control("008")
	r.Format = marcFormat(m, f008)
	r.Languages = marcLanguages(m, f008)

	if f := m.First("245"); f != nil {
		parts := []string{trimISBD(f.Sub('a'))}
		for _, p := range f.Subs("np") {
			parts = append(parts, trimISBD(p))
		}
		r.Title = trimISBD(strings.Join(nonEmpty(parts), ". "))
		r.Subtitle = trimISBD(f.Sub('b'))
	}
	r.Authors = marcAuthors(m, &warn)
	for _, f := range m.Fields {
		if len(f.Tag) == 3 && f.Tag[0] == '6' && !f.IsControl() {
			if s := subjectHeading(&f); s != "" {
				r.Subjects = append(r.Subjects, s)
			}
		}
	}
	if f := m.First("250"); f != nil {
		r.Edition = trimISBD(strings.Join(f.Subs("ab"), " "))
	}
	pub := publication(m)
	if pub != nil {
		r.Place = trimISBD(pub.Sub('a'))
		r.Publisher = trimISBD(pub.Sub('b'))
		r.Year = extractYear(pub.Sub('c'))
	}
	if r.Year == 0 && len(f008) >= 11 {
		if y, err := strconv.Atoi(f008[7:11]); err == nil && y > 0 {
			r.Year = y
		}
	}
	for _, f := range m.All("020") {
		for _, a := range f.Subs("a") {
			i, err := catalog.ParseISBN(a)
			if i.Raw == "" {
				continue
			}
			if err != nil {
				warn = append(warn, fmt.Sprintf("ISBN %q kept but not used for clustering: %s", i.Raw, reason(err)))
			}
			r.ISBNs = append(r.ISBNs, i)
		}
	}
	if f := m.First("082"); f != nil {
		r.DDC = strings.NewReplacer("/", "", "'", "").Replace(strings.TrimSpace(f.Sub('a')))
	}
	var summary []string
	for _, f := range m.All("520") {
		summary = append(summary, strings.Join(f.Subs("ab"), " "))
	}
	r.Summary = strings.Join(nonEmpty(summary), "\n")
	for _, f := range m.All("490", "800", "810", "811", "830") {
		if s := seriesStatement(f); s != "" {
			r.Series = append(r.Series, s)
		}
	}
	if f := m.First("300"); f != nil {
		// Extent statements end in abbreviations ("244 tr.", "24 cm."): only
		// the ISBD separators are trimmed.
		r.PhysicalDescription = strings.TrimRight(strings.TrimSpace(strings.Join(f.Subs("abcefg3"), " ")), " :;+/")
	}
	for _, f := range m.All("856") {
		note := ""
		if n := f.Subs("3yz"); len(n) > 0 {
			note = n[0]
		}
		for _, u := range f.Subs("u") {
			r.Links = append(r.Links, catalog.Link{URL: strings.TrimSpace(u), Note: note})
		}
	}
	items := marcItems(m, r.SourceID, o, &warn)
	return r, items, warn
}

// marcFormat derives the format from leader/06 (type of record), leader/07
// (bibliographic level) and 008.
func marcFormat(m *marc.Record, f008 string) catalog.Format {
	at := func(i int) byte {
		if i < len(f008) {
			return f008[i]
		}
		return ' '
	}
	typ, level := m.LeaderByte(6), m.LeaderByte(7)
	switch typ {
	case 'a', 't':
		if level == 's' || level == 'b' || level == 'i' {
			return catalog.FormatPeriodical
		}
		if f := at(23); f == 'o' || f == 'q' || f == 's' {
			return catalog.FormatEbook
		}
		if m.First("502") != nil || strings.ContainsRune(string([]byte{at(24), at(25), at(26), at(27)}), 'm') {
			return catalog.FormatThesis
		}
		return catalog.FormatBook
	case 'e', 'f':
		return catalog.FormatMap
	case 'g':
		return catalog.FormatVideo
	case 'i':
		return catalog.FormatAudiobook
	case 'j', 'c', 'd':
		return catalog.FormatMusic
	case 'm':
		if at(26) == 'd' {
			return catalog.FormatEbook
		}
	}
	return catalog.FormatOther
}

func isLangCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// marcLanguages reads 008/35–37 then 041 $a (old records pack several codes
// in one subfield: "engfre").
func marcLanguages(m *marc.Record, f008 string) []string {
	var out []string
	if len(f008) >= 38 && isLangCode(f008[35:38]) {
		out = append(out, strings.ToLower(f008[35:38]))
	}
	for _, f := range m.All("041") {
		for _, a := range f.Subs("a") {
			a = strings.TrimSpace(a)
			for len(a) >= 3 && len(a)%3 == 0 {
				if isLangCode(a[:3]) {
					out = append(out, strings.ToLower(a[:3]))
				}
				a = a[3:]
			}
		}
	}
	return out
}

// relators maps common MARC relator codes ($4) to roles.
var relators = map[string]string{
	"aut": catalog.RoleAuthor, "edt": catalog.RoleEditor, "trl": catalog.RoleTranslator,
	"ill": catalog.RoleIllustrator, "ctb": catalog.RoleContributor, "cmp": "composer",
	"prf": "performer", "nrt": "narrator", "drt": "director", "pht": "photographer",
}

func marcAuthors(m *marc.Record, warn *[]string) []catalog.Author {
	var out []catalog.Author
	for _, f := range m.All("100", "110", "111", "700", "710", "711") {
		var a catalog.Author
		switch f.Tag[1:] {
		case "00":
			a.Kind = catalog.AuthorPerson
			a.Name = trimISBD(strings.Join(f.Subs("abcq"), " "))
		case "10":
			a.Kind = catalog.AuthorCorporate
			a.Name = trimISBD(joinTrimmed(f.Subs("ab"), ". "))
		case "11":
			a.Kind = catalog.AuthorMeeting
			a.Name = trimISBD(joinTrimmed(f.Subs("acdn"), " "))
		}
		if a.Name == "" {
			continue
		}
		var roles []string
		for _, e := range f.Subs("e") {
			if e = trimISBD(strings.TrimSpace(e)); e != "" {
				roles = append(roles, e)
			}
		}
		if len(roles) == 0 {
			for _, c := range f.Subs("4") {
				c = strings.ToLower(strings.TrimSpace(c))
				if r, ok := relators[c]; ok {
					roles = append(roles, r)
				} else if c != "" {
					roles = append(roles, c)
				}
			}
		}
		switch {
		case len(roles) > 0:
			a.Role = strings.Join(roles, ", ")
		case f.Tag[0] == '1':
			a.Role = catalog.RoleAuthor
		default:
			a.Role = catalog.RoleContributor
		}
		out = append(out, a)
	}
	return out
}

// subjectHeading renders a 6XX field: the heading ($a $b $c $d $q $t) and its
// subdivisions ($v $x $y $z) separated by " -- ".
func subjectHeading(f *marc.Field) string {
	var head []string
	var subs []string
	for _, s := range f.Subfields {
		switch s.Code {
		case 'a', 'b', 'c', 'd', 'g', 'q', 't', 'p', 'n':
			head = append(head, strings.TrimSpace(s.Value))
		case 'v', 'x', 'y', 'z':
			subs = append(subs, trimISBD(s.Value))
		}
	}
	h := trimISBD(strings.Join(nonEmpty(head), " "))
	if h == "" {
		return ""
	}
	return strings.Join(append([]string{h}, nonEmpty(subs)...), " -- ")
}

func seriesStatement(f *marc.Field) string {
	var name []string
	switch f.Tag {
	case "490", "830":
		name = f.Subs("anp")
	default: // 800, 810, 811: name and title of the series
		name = f.Subs("abcdtnp")
	}
	s := trimISBD(joinTrimmed(name, " "))
	if v := trimISBD(f.Sub('v')); v != "" && s != "" {
		s += " ; " + v
	}
	return s
}

// publication returns the first 264 with second indicator 1 (publication),
// else the first 260, else the first 264.
func publication(m *marc.Record) *marc.Field {
	for _, f := range m.All("264") {
		if f.Ind2 == '1' {
			return f
		}
	}
	if f := m.First("260"); f != nil {
		return f
	}
	return m.First("264")
}

// extractYear returns the first plausible year (1000–2999) written as four
// digits in a date statement ("c1996.", "[2015?]", "03 Nov 2008"), 0 if none.
func extractYear(s string) int {
	for i := 0; i+4 <= len(s); i++ {
		if (i > 0 && isDigit(s[i-1])) || !isDigit(s[i]) {
			continue
		}
		if isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) && (i+4 == len(s) || !isDigit(s[i+4])) {
			if y, _ := strconv.Atoi(s[i : i+4]); y >= 1000 && y <= 2999 {
				return y
			}
		}
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// trimISBD removes the punctuation ISBD puts at the end of an element
// (" /", " :", " ;", " =", ",", a final period) and surrounding spaces. A
// period after an initial ("Smith, J."), after a common abbreviation ("Jr.",
// "tr.", "p.") or in an ellipsis is kept.
func trimISBD(s string) string {
	s = strings.TrimSpace(s)
	for {
		before := s
		s = strings.TrimRight(s, " /:;=,")
		if strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "...") {
			t := strings.TrimSuffix(s, ".")
			last := t[strings.LastIndexAny(t, " .,(")+1:]
			if !keepsPeriod(last) {
				s = t
			}
		}
		if s == before {
			return strings.TrimSpace(s)
		}
	}
}

// abbreviations whose period is part of the word.
var abbreviations = map[string]bool{
	"jr": true, "sr": true, "tr": true, "p": true, "pp": true, "ed": true, "eds": true, "co": true,
	"inc": true, "ltd": true, "st": true, "dr": true, "etc": true, "vol": true, "tp": true,
	"ths": true, "ts": true, "pgs": true, "gs": true, "bs": true, "cm": true, "min": true, "ill": true,
}

func keepsPeriod(word string) bool {
	if word == "" {
		return false
	}
	return len([]rune(word)) == 1 || abbreviations[strings.ToLower(word)]
}

func nonEmpty(in []string) []string {
	out := in[:0]
	for _, s := range in {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

func joinTrimmed(in []string, sep string) string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = trimISBD(s); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, sep)
}

// marcItems reads the copies: Koha 952 and MARC 852.
func marcItems(m *marc.Record, sourceID string, o Options, warn *[]string) []catalog.Item {
	var items []catalog.Item
	defaultType := ""
	if f := m.First("942"); f != nil {
		defaultType = strings.TrimSpace(f.Sub('c'))
	}
	for _, f := range m.All("952") {
		it, ok, why := kohaItem(f, defaultType)
		if !ok {
			*warn = append(*warn, "952: "+why)
			continue
		}
		items = append(items, finishItem(it, sourceID, o))
	}
	for _, f := range m.All("852") {
		it := catalog.Item{
			Barcode:    strings.TrimSpace(f.Sub('p')),
			Branch:     strings.TrimSpace(f.Sub('b')),
			Location:   strings.TrimSpace(strings.Join(f.Subs("c"), " ")),
			CallNumber: strings.TrimSpace(strings.Join(nonEmpty(f.Subs("khijm")), " ")),
			Status:     catalog.StatusAvailable,
		}
		if it.Barcode == "" {
			*warn = append(*warn, "852 without barcode ($p): copy skipped")
			continue
		}
		items = append(items, finishItem(it, sourceID, o))
	}
	return items
}

func finishItem(it catalog.Item, sourceID string, o Options) catalog.Item {
	it.RecordSourceID = sourceID
	it.LibraryID = o.LibraryID
	if lib, ok := o.Branches[it.Branch]; ok && lib != "" {
		it.LibraryID = lib
	}
	return it
}

// flag reports whether a Koha numeric status subfield is set ("" and "0"
// mean no).
func flag(s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 1 // a non-numeric authorised value is still "set"
	}
	return n
}

// kohaItem reads a Koha 952 item field: $p barcode, $a home branch, $b
// holding branch, $c shelving location, $o call number, $y item type, and the
// status subfields $0 withdrawn, $1 lost, $4 damaged, $7 not for loan
// (negative: on order / in processing), $q on loan (due date).
func kohaItem(f *marc.Field, defaultType string) (catalog.Item, bool, string) {
	it := catalog.Item{
		Barcode:    strings.TrimSpace(f.Sub('p')),
		Branch:     strings.TrimSpace(f.Sub('a')),
		Location:   strings.TrimSpace(f.Sub('c')),
		CallNumber: strings.TrimSpace(f.Sub('o')),
		LoanType:   strings.TrimSpace(f.Sub('y')),
		Status:     catalog.StatusAvailable,
	}
	if it.Branch == "" {
		it.Branch = strings.TrimSpace(f.Sub('b'))
	}
	if it.LoanType == "" {
		it.LoanType = defaultType
	}
	if it.Barcode == "" {
		return it, false, "item without barcode ($p): copy skipped"
	}
	if flag(f.Sub('0')) != 0 {
		return it, false, fmt.Sprintf("item %q is withdrawn ($0): copy skipped", it.Barcode)
	}
	nfl := flag(f.Sub('7'))
	switch {
	case flag(f.Sub('1')) != 0:
		it.Status = catalog.StatusLost
	case flag(f.Sub('4')) != 0:
		it.Status = catalog.StatusDamaged
	case strings.TrimSpace(f.Sub('q')) != "":
		it.Status = catalog.StatusOnLoan
	case nfl < 0:
		it.Status = catalog.StatusInProcessing
	case nfl > 0:
		it.Status = catalog.StatusReferenceOnly
	}
	return it, true, ""
}
