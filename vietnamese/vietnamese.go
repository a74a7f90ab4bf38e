// Package vietnamese owns how the service treats Vietnamese text: Unicode
// normalisation (NFC), the two tone-mark placements, folding away diacritics
// (đ → d) for matching, and Vietnamese collation for sorting.
//
// Every piece of text that enters the service goes through NFC; every
// comparison a reader would call "the same word" goes through Key or Fold.
package vietnamese

import (
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// The five combining tone marks of Vietnamese, as they appear in NFD.
const (
	toneGrave    = '\u0300' // huyền
	toneAcute    = '\u0301' // sắc
	toneTilde    = '\u0303' // ngã
	toneHook     = '\u0309' // hỏi
	toneDotBelow = '\u0323' // nặng
)

func isTone(r rune) bool {
	switch r {
	case toneGrave, toneAcute, toneTilde, toneHook, toneDotBelow:
		return true
	}
	return false
}

// NFC returns s in Unicode Normalization Form C, the form every text is
// stored in. Input from files and keyboards often arrives decomposed (NFD).
func NFC(s string) string {
	return norm.NFC.String(s)
}

// NormalizeTones returns s in NFC with the tone mark of the syllable endings
// oa, oe and uy placed on the second vowel ("new style": hoà, khoẻ, thuỷ), so
// that the old placement (hòa, khỏe, thủy) and the new compare equal.
// Syllables with a final consonant (hoàn, thuyền) are unambiguous and kept.
func NormalizeTones(s string) string {
	d := []rune(norm.NFD.String(s))
	out := make([]rune, 0, len(d))
	for i := 0; i < len(d); i++ {
		r := d[i]
		// Pattern: o|u, tone, a|e|y, then end of syllable (no letter follows).
		if i+2 < len(d) && isTone(d[i+1]) && movable(r, d[i+2]) && endsSyllable(d, i+3) &&
			!partOfConsonant(d, i) {
			out = append(out, r, d[i+2], d[i+1])
			i += 2
			continue
		}
		out = append(out, r)
	}
	return norm.NFC.String(string(out))
}

// movable reports whether first+second is one of the pairs whose tone
// placement varies: oa, oe, uy (any case).
func movable(first, second rune) bool {
	f, s := unicode.ToLower(first), unicode.ToLower(second)
	return (f == 'o' && (s == 'a' || s == 'e')) || (f == 'u' && s == 'y')
}

// partOfConsonant reports whether the u at i belongs to the consonant "qu":
// in quý the mark already sits on the vowel, and a stray qúy is left as typed.
func partOfConsonant(d []rune, i int) bool {
	return i > 0 && unicode.ToLower(d[i]) == 'u' && unicode.ToLower(d[i-1]) == 'q'
}

// endsSyllable reports whether position i in the NFD runes is past the end of
// a syllable: the end of the text or a rune that is neither a letter nor a
// combining mark.
func endsSyllable(d []rune, i int) bool {
	if i >= len(d) {
		return true
	}
	r := d[i]
	return !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r)
}

// Fold returns s lowercased with every diacritic removed and đ mapped to d:
// the form in which a query typed without marks matches text written with
// them ("Đường Thư viện" → "duong thu vien").
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			b.WriteRune('d')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// Key returns the exact matching form of s: NFC, tones placed one way, and
// lowercased, so "Hòa" and "hoà" share one key while "hóa" keeps its own.
func Key(s string) string {
	return strings.ToLower(NormalizeTones(s))
}

// Clean returns s in NFC with surrounding white space removed and inner runs
// of white space collapsed to one space: the form names and titles are
// stored in.
func Clean(s string) string {
	return strings.Join(strings.Fields(NFC(s)), " ")
}

var collators = sync.Pool{New: func() any {
	return collate.New(language.Vietnamese, collate.IgnoreCase)
}}

// Compare orders a and b as a Vietnamese dictionary does (a ă â b c d đ e ê …,
// tones after letters), ignoring case. It returns -1, 0 or +1.
func Compare(a, b string) int {
	c := collators.Get().(*collate.Collator)
	defer collators.Put(c)
	return c.CompareString(a, b)
}

// SortKey returns a byte key whose bytewise order is the Vietnamese
// collation order of s; stores use it to sort in the database.
func SortKey(s string) []byte {
	c := collators.Get().(*collate.Collator)
	defer collators.Put(c)
	var buf collate.Buffer
	k := c.KeyFromString(&buf, s)
	return append([]byte(nil), k...)
}
