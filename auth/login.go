package auth

import (
	"net/mail"
	"strings"
	"unicode"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/card"
)

// NormalizeEmail checks an email address and returns it lowercased.
func NormalizeEmail(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return "", thuvienso.Invalid(field, "this is not a valid email address", "Địa chỉ email không hợp lệ")
	}
	return strings.ToLower(s), nil
}

// NormalizePhone checks a Vietnamese phone number and returns it as +84
// followed by nine digits. It accepts the forms people type: 0912 345 678,
// 84912345678, +84 912-345-678.
func NormalizePhone(field, s string) (string, error) {
	digits := strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return r
		}
		if r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '+' {
			return -1
		}
		return 'x'
	}, strings.TrimSpace(s))
	switch {
	case strings.HasPrefix(digits, "84") && len(digits) == 11:
		digits = digits[2:]
	case strings.HasPrefix(digits, "0") && len(digits) == 10:
		digits = digits[1:]
	default:
		digits = "x"
	}
	if len(digits) != 9 || strings.Trim(digits, "0123456789") != "" {
		return "", thuvienso.Invalid(field, "this is not a valid Vietnamese phone number", "Số điện thoại không hợp lệ")
	}
	return "+84" + digits, nil
}

// NormalizeLogin turns what a reader types in the login field (an email, a
// phone number or a card number) into the form the store keeps. It returns
// "" when the input can be none of them.
func NormalizeLogin(s string) string {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "@") {
		return strings.ToLower(s)
	}
	if n := card.NormalizeNumber(s); card.ValidNumber(n) {
		return n
	}
	if p, err := NormalizePhone("login", s); err == nil {
		return p
	}
	return ""
}
