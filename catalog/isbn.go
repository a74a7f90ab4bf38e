package catalog

import (
	"strings"

	thuvienso "github.com/bacninh/thuvienso"
)

// ISBN is an ISBN as catalogued together with its normal form.
type ISBN struct {
	// Raw is the number as the source wrote it ("0-85170-577-4").
	Raw string
	// ISBN13 is the normalised ISBN-13 (digits only), "" when Raw is not a
	// valid ISBN. Only valid ISBNs take part in clustering.
	ISBN13 string
	// Qualifier is what the source added ("pbk.", "bìa mềm"), without
	// parentheses.
	Qualifier string
}

// Valid reports whether the ISBN normalised to a valid ISBN-13.
func (i ISBN) Valid() bool { return i.ISBN13 != "" }

// Errors of ISBN normalisation.
var (
	ErrISBNLength   = thuvienso.Invalid("isbn", "an ISBN has 10 or 13 digits", "ISBN phải có 10 hoặc 13 chữ số")
	ErrISBNChars    = thuvienso.Invalid("isbn", "an ISBN contains only digits (and X as the last character of an ISBN-10)", "ISBN chỉ gồm chữ số (và X ở cuối ISBN-10)")
	ErrISBNCheck    = thuvienso.Invalid("isbn", "the ISBN check digit is wrong", "chữ số kiểm tra của ISBN không đúng")
	ErrISBNPrefix   = thuvienso.Invalid("isbn", "an ISBN-13 starts with 978 or 979", "ISBN-13 phải bắt đầu bằng 978 hoặc 979")
	ErrRecordTitle  = thuvienso.Invalid("title", "a record needs a title", "biểu ghi phải có nhan đề")
	ErrRecordSource = thuvienso.Invalid("sourceId", "a record needs its library and source identifier", "biểu ghi phải có thư viện và mã nguồn")
)

// NormalizeISBN returns the ISBN-13 form (13 digits, no separators) of s, an
// ISBN-10 or ISBN-13 written with or without hyphens and spaces, optionally
// prefixed by "ISBN" or "urn:isbn:". The check digit is verified; an ISBN-10
// is converted to ISBN-13 with the 978 prefix and a new check digit.
func NormalizeISBN(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 9 && strings.EqualFold(s[:9], "urn:isbn:") {
		s = s[9:]
	}
	if len(s) >= 4 && strings.EqualFold(s[:4], "isbn") {
		s = strings.TrimLeft(s[4:], "-:13 ")
	}
	var d []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			d = append(d, c)
		case c == 'x' || c == 'X':
			d = append(d, 'X')
		case c == '-' || c == ' ' || c == '\u00a0':
		default:
			return "", ErrISBNChars
		}
		if len(d) > 13 {
			return "", ErrISBNLength
		}
	}
	switch len(d) {
	case 10:
		sum := 0
		for i, c := range d {
			v := int(c - '0')
			if c == 'X' {
				if i != 9 {
					return "", ErrISBNChars
				}
				v = 10
			}
			sum += (10 - i) * v
		}
		if sum%11 != 0 {
			return "", ErrISBNCheck
		}
		d13 := append([]byte("978"), d[:9]...)
		return string(append(d13, isbn13Check(d13))), nil
	case 13:
		for _, c := range d {
			if c == 'X' {
				return "", ErrISBNChars
			}
		}
		if string(d[:3]) != "978" && string(d[:3]) != "979" {
			return "", ErrISBNPrefix
		}
		if isbn13Check(d[:12]) != d[12] {
			return "", ErrISBNCheck
		}
		return string(d), nil
	}
	return "", ErrISBNLength
}

// isbn13Check returns the check digit of the first 12 digits of an ISBN-13.
func isbn13Check(d []byte) byte {
	sum := 0
	for i, c := range d[:12] {
		w := 1
		if i%2 == 1 {
			w = 3
		}
		sum += w * int(c-'0')
	}
	return byte('0' + (10-sum%10)%10)
}

// ParseISBN splits a catalogued ISBN statement such as
// "0851705774 (pbk.) :" or "978-604-1-12345-6 (bìa mềm)" into the number and
// its qualifier and normalises the number. An invalid number is kept in Raw
// with an empty ISBN13 and the reason as err; the ISBN is still usable for
// display.
func ParseISBN(s string) (ISBN, error) {
	s = strings.TrimSpace(s)
	var i ISBN
	if open := strings.IndexByte(s, '('); open >= 0 {
		q := s[open+1:]
		if end := strings.IndexByte(q, ')'); end >= 0 {
			q = q[:end]
		}
		i.Qualifier = strings.TrimSpace(q)
		s = strings.TrimSpace(s[:open])
	}
	s = strings.TrimRight(s, " :;,/")
	// A number followed by words ("9780851705774 pbk."): keep the number part.
	if f := strings.Fields(s); len(f) > 1 {
		if _, err := NormalizeISBN(s); err != nil {
			num := f[0]
			if strings.EqualFold(num, "isbn") {
				num = f[1]
			}
			if _, err2 := NormalizeISBN(num); err2 == nil {
				rest := strings.TrimSpace(s[strings.Index(s, num)+len(num):])
				if i.Qualifier == "" {
					i.Qualifier = strings.Trim(rest, " :;,/")
				}
				s = num
			}
		}
	}
	s = strings.TrimRight(s, ".")
	i.Raw = s
	n, err := NormalizeISBN(s)
	if err != nil {
		return i, err
	}
	i.ISBN13 = n
	return i, nil
}
