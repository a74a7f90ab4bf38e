// Package card owns the province-wide library card: its number (with a
// check digit that catches mistyping), its barcode symbology, status and
// expiry (students' cards follow the school year), guardian–child links,
// the domain's errors and the Store interface that keeps cards and links.
// The behaviour (digital card, signed QR codes, verification, printing,
// family, school registration) is package card/cardsvc.
package card

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
)

// Prefix starts every card number of the network: 27 is Bắc Ninh's
// administrative code.
const Prefix = "27"

// NumberLength is the length of a card number: prefix, 10 digits, check digit.
const NumberLength = 13

// damm is the quasigroup table of the Damm algorithm. Its check digit
// catches every single-digit error and every swap of adjacent digits, which
// a Luhn digit does not (09 ↔ 90).
var damm = [10][10]byte{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// checkDigit returns the Damm check digit of a string of digits.
func checkDigit(digits string) byte {
	var interim byte
	for i := 0; i < len(digits); i++ {
		interim = damm[interim][digits[i]-'0']
	}
	return '0' + interim
}

// NumberFrom builds a card number from ten body digits (e.g. derived from a
// student ID), adding the prefix and the check digit.
func NumberFrom(body string) (string, error) {
	if len(body) != NumberLength-len(Prefix)-1 || strings.Trim(body, "0123456789") != "" {
		return "", fmt.Errorf("card: number body must be %d digits", NumberLength-len(Prefix)-1)
	}
	n := Prefix + body
	return n + string(checkDigit(n)), nil
}

// NewNumber returns a random card number.
func NewNumber() (string, error) {
	max := big.NewInt(10_000_000_000)
	v, err := rand.Int(rand.Reader, max)
	if err != nil {
		return "", fmt.Errorf("card: random number: %w", err)
	}
	return NumberFrom(fmt.Sprintf("%010d", v))
}

// NormalizeNumber strips the spaces and dashes people type or print
// between groups of digits.
func NormalizeNumber(s string) string {
	return strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(s))
}

// ValidNumber reports whether s (normalised) is a well-formed card number
// whose check digit matches.
func ValidNumber(s string) bool {
	if len(s) != NumberLength || !strings.HasPrefix(s, Prefix) || strings.Trim(s, "0123456789") != "" {
		return false
	}
	return checkDigit(s) == '0'
}
