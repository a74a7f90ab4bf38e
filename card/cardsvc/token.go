package cardsvc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
)

// Pass is the kind of a card code.
type Pass string

// Passes. An online code is what the app shows while it has network and
// refreshes while on screen; an offline pass lasts a day, for a reader who
// expects to be without network, and says so in its "pass" claim.
const (
	PassOnline  Pass = "online"
	PassOffline Pass = "offline"
)

// Valid reports whether p is a known pass.
func (p Pass) Valid() bool { return p == PassOnline || p == PassOffline }

// Token lifetimes, and the clock skew tolerated between the phone, the
// server and a verifying phone.
const (
	OnlineTTL  = 5 * time.Minute
	OfflineTTL = 24 * time.Hour
	Leeway     = 30 * time.Second
)

// TTL returns how long a code of this pass is valid.
func (p Pass) TTL() time.Duration {
	if p == PassOffline {
		return OfflineTTL
	}
	return OnlineTTL
}

// Issuer and Audience of card codes. The audience differs from access
// tokens', so neither kind of token is accepted as the other.
const (
	Issuer   = "thuvienso"
	Audience = "thuvienso-card"
)

// MaxTokenLength bounds what is parsed at all.
const MaxTokenLength = 4096

// Claims are the claims of a card code (a compact JWS, EdDSA, "kid" in the
// header):
//
//	iss "thuvienso", aud "thuvienso-card", sub the card number,
//	iat, nbf = iat, exp = iat + 5 min (online) or 24 h (offline pass),
//	    never after the card's expiry,
//	nonce      128 random bits, base64url: a code is accepted online once,
//	name       the holder's display name,
//	status     the card's status when signed (ACTIVE, EXPIRED, BLOCKED),
//	card_exp   the card's expiry (NumericDate),
//	lib, lib_name  the home library's id and name,
//	pass       "online" or "offline".
//
// An offline verifier with the JWKS document checks the signature, iss,
// aud, exp and that status is ACTIVE; a desk online also checks the card's
// current status and the nonce (VerifyCard).
type Claims struct {
	jwt.RegisteredClaims
	Nonce           string           `json:"nonce"`
	Name            string           `json:"name"`
	Status          card.Status      `json:"status"`
	CardExpiresAt   *jwt.NumericDate `json:"card_exp"`
	HomeLibraryID   string           `json:"lib"`
	HomeLibraryName string           `json:"lib_name,omitempty"`
	Pass            Pass             `json:"pass"`
}

// DigitalCard is what the app shows: the card, its barcode, and a signed
// code to show as a QR code.
type DigitalCard struct {
	Card      *card.Card
	Number    string
	Symbology card.Symbology
	// BarcodeValue is what the barcode encodes (Symbology.BarcodeValue).
	BarcodeValue    string
	DisplayName     string
	HomeLibraryID   string
	HomeLibraryName string
	// Status is the card's status now; BlockReason is set while BLOCKED.
	Status      card.Status
	BlockReason card.BlockReason
	IssuedAt    time.Time
	ExpiresAt   time.Time
	// Token is the signed QR code; TokenExpiresAt when it stops verifying;
	// RefreshAt when the app should ask for a new one (a minute early).
	Token          string
	Pass           Pass
	TokenExpiresAt time.Time
	RefreshAt      time.Time
}

// DigitalCard returns the account's card with a freshly signed code: the
// holder's own, or a linked child's (a guardian's app switches between
// them), or for staff. pass is PassOnline (default when empty) or
// PassOffline; an offline pass is issued only for an ACTIVE card. An online
// code is signed whatever the status, so that a desk sees why a card is
// refused.
func (s *Service) DigitalCard(ctx context.Context, a auth.Actor, accountID string, pass Pass) (*DigitalCard, error) {
	if pass == "" {
		pass = PassOnline
	}
	if !pass.Valid() {
		return nil, thuvienso.Invalid("pass", "the pass must be online or offline", "Loại mã phải là online hoặc offline")
	}
	acc, _, err := s.access(ctx, a, accountID)
	if err != nil {
		return nil, fmt.Errorf("digital card: %w", err)
	}
	c, err := s.EnsureCard(ctx, acc)
	if err != nil {
		return nil, fmt.Errorf("digital card: %w", err)
	}
	now := s.now()
	status := c.StatusAt(now)
	if pass == PassOffline && status != card.StatusActive {
		return nil, card.ErrOfflinePassNotActive
	}
	libName := ""
	if l, err := s.Libraries.Library(ctx, c.HomeLibraryID); err == nil {
		libName = l.Name
	}
	token, exp, err := s.sign(c, acc.Name, libName, status, pass, now)
	if err != nil {
		return nil, fmt.Errorf("digital card: %w", err)
	}
	dc := &DigitalCard{
		Card: c, Number: c.Number, Symbology: c.Symbology, BarcodeValue: c.Symbology.BarcodeValue(c.Number),
		DisplayName: acc.Name, HomeLibraryID: c.HomeLibraryID, HomeLibraryName: libName,
		Status: status, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt,
		Token: token, Pass: pass, TokenExpiresAt: exp, RefreshAt: exp.Add(-time.Minute),
	}
	if status == card.StatusBlocked {
		dc.BlockReason = c.BlockReason
	}
	if dc.RefreshAt.Before(now) {
		dc.RefreshAt = now
	}
	return dc, nil
}

// sign signs a code for card c at now, valid for the pass's TTL but never
// after the card expires.
func (s *Service) sign(c *card.Card, name, libName string, status card.Status, pass Pass, now time.Time) (string, time.Time, error) {
	now = now.Truncate(time.Second)
	exp := now.Add(pass.TTL())
	if c.ExpiresAt.After(now) && c.ExpiresAt.Before(exp) {
		exp = c.ExpiresAt.Truncate(time.Second)
	}
	if !exp.After(now) {
		exp = now.Add(OnlineTTL) // an expired card's code: short, and says EXPIRED
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, fmt.Errorf("nonce: %w", err)
	}
	claims := &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Audience: jwt.ClaimStrings{Audience}, Subject: c.Number,
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
		Nonce: base64.RawURLEncoding.EncodeToString(raw), Name: name, Status: status,
		CardExpiresAt: jwt.NewNumericDate(c.ExpiresAt), HomeLibraryID: c.HomeLibraryID, HomeLibraryName: libName,
		Pass: pass,
	}
	tok, err := s.Keys.Set().Sign(claims)
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, exp, nil
}

// ParseToken checks a card code as an offline verifier would, with the
// published keys alone: size, the EdDSA signature by a key of the card key
// set named in "kid" (the current key or a previous one still kept),
// iss, aud, iat/nbf/exp (with Leeway), and well-formed claims (a valid
// card number, a nonce, a known pass whose lifetime is not longer than
// its kind allows). It neither looks at the card's current status nor
// remembers the nonce: see VerifyCard. Any input is safe to pass.
func (s *Service) ParseToken(token string) (*Claims, error) {
	token = strings.TrimSpace(token)
	if token == "" || len(token) > MaxTokenLength {
		return nil, card.ErrTokenInvalid
	}
	if kid, ok := headerKid(token); !ok || !s.Keys.Knows(kid) {
		return nil, card.ErrTokenInvalid
	}
	var c Claims
	err := s.Keys.Set().Verify(token, &c, jwt.WithIssuer(Issuer), jwt.WithAudience(Audience),
		jwt.WithTimeFunc(s.now), jwt.WithLeeway(Leeway))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, card.ErrTokenExpired
	case err != nil:
		return nil, card.ErrTokenInvalid
	}
	if !card.ValidNumber(c.Subject) || len(c.Nonce) < 16 || len(c.Nonce) > 64 || !c.Pass.Valid() ||
		!c.Status.Valid() || c.IssuedAt == nil || c.ExpiresAt.Sub(c.IssuedAt.Time) > c.Pass.TTL() {
		return nil, card.ErrTokenInvalid
	}
	return &c, nil
}

// headerKid returns the "kid" of a compact JWS's header, without verifying
// anything.
func headerKid(token string) (string, bool) {
	head, _, ok := strings.Cut(token, ".")
	if !ok || len(head) > 512 {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", false
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if json.Unmarshal(raw, &h) != nil || h.Kid == "" {
		return "", false
	}
	return h.Kid, true
}

// Verification is what a desk learns from a verified card code.
type Verification struct {
	// Card is the card now (its current status, home library, expiry).
	Card *card.Card
	// HolderName is the holder's name now.
	HolderName string
	// Status is the card's status now: ACTIVE for a successful verification.
	Status         card.Status
	Pass           Pass
	TokenIssuedAt  time.Time
	TokenExpiresAt time.Time
	VerifiedAt     time.Time
}

// VerifyCard checks a card code at a library desk that is online: for
// librarians and admins of any library. Beyond ParseToken it refuses a code
// whose nonce was seen before within its validity (a copy, a screenshot;
// across instances through the shared nonce store) and a card that is now
// lost, blocked (the reason is the error's message) or expired, whatever
// the code says. Every code is good once online, offline passes included:
// the app shows a fresh online code whenever it has network.
func (s *Service) VerifyCard(ctx context.Context, a auth.Actor, token string) (*Verification, error) {
	if !isStaff(a) {
		return nil, thuvienso.ErrForbidden
	}
	claims, err := s.ParseToken(token)
	if err != nil {
		return nil, err
	}
	now := s.now()
	ttl := claims.ExpiresAt.Sub(now) + Leeway
	first, err := s.Nonces.Claim(ctx, "card:"+claims.Nonce, ttl)
	if err != nil {
		return nil, fmt.Errorf("verify card: checking the nonce: %w", err)
	}
	if !first {
		s.logger().Warn("card code replayed", "card", claims.Subject, "verifier", a.AccountID)
		return nil, card.ErrTokenReplayed
	}
	c, err := s.Store.Card(ctx, claims.Subject)
	if errors.Is(err, thuvienso.ErrNotFound) {
		return nil, card.ErrTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("verify card: %w", err)
	}
	switch st := c.StatusAt(now); {
	case !c.Current || st == card.StatusLost:
		return nil, card.ErrCardLost
	case st == card.StatusBlocked:
		return nil, card.ErrBlocked(c.BlockReason)
	case st == card.StatusExpired:
		return nil, card.ErrCardExpired
	}
	acc, err := s.Accounts.Account(ctx, c.AccountID)
	if err != nil {
		return nil, fmt.Errorf("verify card: %w", err)
	}
	return &Verification{
		Card: c, HolderName: acc.Name, Status: c.StatusAt(now), Pass: claims.Pass,
		TokenIssuedAt: claims.IssuedAt.Time.UTC(), TokenExpiresAt: claims.ExpiresAt.Time.UTC(), VerifiedAt: now,
	}, nil
}

// JWKS returns the card key set's public keys (current and previous) as a
// JSON Web Key Set document.
func (s *Service) JWKS() ([]byte, error) { return s.Keys.Set().JWKS() }
