package cardsvc_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/card/cardsvc"
	"github.com/bacninh/thuvienso/signing"
)

// tamperSignature changes one character of a compact JWS's signature to
// another base64url character, so the signature still decodes but is
// another one.
func tamperSignature(token string) string {
	i := strings.LastIndexByte(token, '.') + 10
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

// header decodes a compact JWS's header.
func header(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDigitalCardTokenVerifies(t *testing.T) {
	e := newEnv(t)
	acc, me := e.reader("Nguyễn Thị Hương Giang", auth.CategoryAdult, e.tuSon.ID)
	desk := e.librarian(e.queVo) // any library of the province verifies any card
	dc := e.digital(me, acc.ID, "")

	if dc.Number != acc.CardNumber || !card.ValidNumber(dc.Number) {
		t.Fatalf("card number %q, account's %q: the card takes the number the reader knows", dc.Number, acc.CardNumber)
	}
	if dc.Symbology != card.Code128 || dc.BarcodeValue != dc.Number || dc.DisplayName != acc.Name ||
		dc.HomeLibraryName != e.tuSon.Name || dc.Status != card.StatusActive || dc.Pass != cardsvc.PassOnline {
		t.Fatalf("digital card %+v", dc)
	}
	if got, want := dc.ExpiresAt, card.ExpiryFor(false, e.now()); !got.Equal(want) {
		t.Errorf("card expires %v, want %v", got, want)
	}
	if got := dc.TokenExpiresAt.Sub(e.now()); got != cardsvc.OnlineTTL {
		t.Errorf("online code valid for %v, want %v", got, cardsvc.OnlineTTL)
	}
	if !dc.RefreshAt.Equal(dc.TokenExpiresAt.Add(-time.Minute)) {
		t.Errorf("RefreshAt %v, token expires %v", dc.RefreshAt, dc.TokenExpiresAt)
	}
	h := header(t, dc.Token)
	if h["alg"] != "EdDSA" || h["kid"] != e.svc.Keys.Set().Current().ID {
		t.Fatalf("token header %v", h)
	}

	claims, err := e.svc.ParseToken(dc.Token)
	must(t, "ParseToken", err)
	if claims.Subject != dc.Number || claims.Name != acc.Name || claims.Status != card.StatusActive ||
		claims.Pass != cardsvc.PassOnline || claims.HomeLibraryID != e.tuSon.ID || claims.HomeLibraryName != e.tuSon.Name ||
		len(claims.Nonce) < 20 || !claims.CardExpiresAt.Time.Equal(dc.ExpiresAt) {
		t.Fatalf("claims %+v", claims)
	}

	v, err := e.svc.VerifyCard(e.ctx, desk, dc.Token)
	must(t, "VerifyCard", err)
	if v.Card.Number != dc.Number || v.HolderName != acc.Name || v.Status != card.StatusActive || v.Pass != cardsvc.PassOnline {
		t.Fatalf("verification %+v", v)
	}

	// Each code is fresh: two calls, two nonces.
	again := e.digital(me, acc.ID, cardsvc.PassOnline)
	c2, err := e.svc.ParseToken(again.Token)
	must(t, "ParseToken", err)
	if c2.Nonce == claims.Nonce {
		t.Fatal("two codes share a nonce")
	}

	// Only staff verify online.
	_, err = e.svc.VerifyCard(e.ctx, me, again.Token)
	wantErr(t, "a reader verifying a code", err, thuvienso.ErrForbidden)
}

func TestBadTokensAreRefused(t *testing.T) {
	e := newEnv(t)
	acc, me := e.reader("Trần Văn An", auth.CategoryAdult, e.tuSon.ID)
	desk := e.librarian(e.tuSon)
	good := e.digital(me, acc.ID, "").Token
	parts := strings.Split(good, ".")

	// The same claims re-signed: by a key of another set under its own kid,
	// and under the published kid.
	var claims cardsvc.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(good, &claims); err != nil {
		t.Fatal(err)
	}
	other, _ := signing.NewEphemeral()
	otherKid, err := other.Sign(&claims)
	must(t, "Sign", err)
	forged := jwt.NewWithClaims(jwt.SigningMethodEdDSA, &claims)
	forged.Header["kid"] = e.svc.Keys.Set().Current().ID
	sameKid, err := forged.SignedString(other.Current().Private)
	must(t, "SignedString", err)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, &claims)
	hs.Header["kid"] = e.svc.Keys.Set().Current().ID
	hmac, err := hs.SignedString([]byte(e.svc.Keys.Set().Current().Public()))
	must(t, "SignedString", err)
	none := jwt.NewWithClaims(jwt.SigningMethodNone, &claims)
	none.Header["kid"] = e.svc.Keys.Set().Current().ID
	unsigned, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	must(t, "SignedString", err)

	// The payload changed, the signature kept: another name, another card.
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	renamed := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "Trần", "Trân", 1))) + "." + parts[2]
	flipped := tamperSignature(good)

	tests := []struct {
		name, token string
		want        error
	}{
		{"empty", "", card.ErrTokenInvalid},
		{"garbage", "not a token", card.ErrTokenInvalid},
		{"two parts", parts[0] + "." + parts[1], card.ErrTokenInvalid},
		{"payload tampered", renamed, card.ErrTokenInvalid},
		{"signature tampered", flipped, card.ErrTokenInvalid},
		{"signed by an unknown key", otherKid, card.ErrTokenInvalid},
		{"signed by another key under the published kid", sameKid, card.ErrTokenInvalid},
		{"HS256 with the public key as secret", hmac, card.ErrTokenInvalid},
		{"alg none", unsigned, card.ErrTokenInvalid},
		{"too long", good + strings.Repeat("A", cardsvc.MaxTokenLength), card.ErrTokenInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.ParseToken(tc.token)
			wantErr(t, "ParseToken", err, tc.want)
			_, err = e.svc.VerifyCard(e.ctx, desk, tc.token)
			wantErr(t, "VerifyCard", err, tc.want)
			wantCode(t, "VerifyCard", err, thuvienso.CodeBadUserInput, "input.token")
		})
	}
	// The good one still verifies: none of the above used its nonce.
	_, err = e.svc.VerifyCard(e.ctx, desk, good)
	must(t, "VerifyCard of the good token", err)
}

func TestExpiredTokensAreRefused(t *testing.T) {
	e := newEnv(t)
	acc, me := e.reader("Lê Thị Mai", auth.CategoryAdult, e.tuSon.ID)
	desk := e.librarian(e.tuSon)
	online := e.digital(me, acc.ID, cardsvc.PassOnline).Token
	offline := e.digital(me, acc.ID, cardsvc.PassOffline)
	if got := offline.TokenExpiresAt.Sub(e.now()); got != cardsvc.OfflineTTL {
		t.Fatalf("offline pass valid for %v, want %v", got, cardsvc.OfflineTTL)
	}
	c, err := e.svc.ParseToken(offline.Token)
	must(t, "ParseToken of the offline pass", err)
	if c.Pass != cardsvc.PassOffline {
		t.Fatalf("offline pass says pass %q", c.Pass)
	}

	// Within the clock skew allowed, still good.
	e.advance(cardsvc.OnlineTTL + cardsvc.Leeway - time.Second)
	_, err = e.svc.ParseToken(online)
	must(t, "ParseToken within the leeway", err)
	e.advance(2 * time.Second)
	_, err = e.svc.ParseToken(online)
	wantErr(t, "ParseToken of an expired online code", err, card.ErrTokenExpired)
	_, err = e.svc.VerifyCard(e.ctx, desk, online)
	wantErr(t, "VerifyCard of an expired online code", err, card.ErrTokenExpired)

	// The offline pass lasts the day.
	e.advance(23 * time.Hour)
	_, err = e.svc.VerifyCard(e.ctx, desk, offline.Token)
	must(t, "VerifyCard of an offline pass after 23 hours", err)
	e.advance(2 * time.Hour)
	_, err = e.svc.ParseToken(offline.Token)
	wantErr(t, "ParseToken of an expired offline pass", err, card.ErrTokenExpired)

	// A code signed in the future (a wrong clock) is not taken either.
	future := e.digital(me, acc.ID, "").Token
	e.advance(-time.Hour)
	_, err = e.svc.ParseToken(future)
	wantErr(t, "ParseToken of a code from the future", err, card.ErrTokenInvalid)
}

func TestBlockedCardFailsOnlineVerification(t *testing.T) {
	e := newEnv(t)
	acc, me := e.reader("Phạm Minh Đức", auth.CategoryAdult, e.tuSon.ID)
	desk := e.librarian(e.tuSon)
	dc := e.digital(me, acc.ID, "")
	offline := e.digital(me, acc.ID, cardsvc.PassOffline)
	e.block(desk, dc.Number, card.ReasonOverdue)

	// The code still has a good signature (an offline verifier cannot know),
	// but a desk online checks the card now.
	_, err := e.svc.ParseToken(dc.Token)
	must(t, "ParseToken", err)
	for name, tok := range map[string]string{"online code": dc.Token, "offline pass": offline.Token} {
		_, err = e.svc.VerifyCard(e.ctx, desk, tok)
		wantErr(t, "VerifyCard of a blocked card's "+name, err, card.ErrBlocked(card.ReasonOverdue))
		wantCode(t, name, err, thuvienso.CodeForbidden)
	}

	// A code signed while blocked says so, and no offline pass is issued.
	now := e.digital(me, acc.ID, "")
	if now.Status != card.StatusBlocked || now.BlockReason != card.ReasonOverdue {
		t.Fatalf("digital card of a blocked card: status %s, reason %s", now.Status, now.BlockReason)
	}
	c, err := e.svc.ParseToken(now.Token)
	must(t, "ParseToken", err)
	if c.Status != card.StatusBlocked {
		t.Fatalf("a blocked card's code says %s", c.Status)
	}
	_, err = e.svc.DigitalCard(e.ctx, me, acc.ID, cardsvc.PassOffline)
	wantErr(t, "an offline pass for a blocked card", err, card.ErrOfflinePassNotActive)

	// Unblocked, it verifies again.
	_, err = e.svc.UnblockCard(e.ctx, desk, dc.Number)
	must(t, "UnblockCard", err)
	_, err = e.svc.VerifyCard(e.ctx, desk, e.digital(me, acc.ID, "").Token)
	must(t, "VerifyCard after unblocking", err)
}

func TestExpiredCardFailsOnlineVerification(t *testing.T) {
	e := newEnv(t)
	acc, me := e.reader("Vũ Thị Lan", auth.CategoryAdult, e.tuSon.ID)
	desk := e.librarian(e.tuSon)
	c, err := e.svc.Card(e.ctx, me, acc.ID)
	must(t, "Card", err)
	e.setNow(c.ExpiresAt.Add(-2 * time.Minute))
	dc := e.digital(me, acc.ID, cardsvc.PassOffline)
	if !dc.TokenExpiresAt.Equal(c.ExpiresAt) {
		t.Fatalf("a pass outlives the card: token until %v, card until %v", dc.TokenExpiresAt, c.ExpiresAt)
	}
	tok := e.digital(me, acc.ID, "").Token
	e.setNow(c.ExpiresAt.Add(10 * time.Second)) // within the leeway of the code
	_, err = e.svc.VerifyCard(e.ctx, desk, tok)
	wantErr(t, "VerifyCard of an expired card", err, card.ErrCardExpired)
	if dc := e.digital(me, acc.ID, ""); dc.Status != card.StatusExpired {
		t.Fatalf("digital card of an expired card says %s", dc.Status)
	}
	_, err = e.svc.DigitalCard(e.ctx, me, acc.ID, cardsvc.PassOffline)
	wantErr(t, "an offline pass for an expired card", err, card.ErrOfflinePassNotActive)

	// Renewed at the desk, it works again.
	renewed, err := e.svc.RenewCard(e.ctx, desk, c.Number)
	must(t, "RenewCard", err)
	if !renewed.ExpiresAt.After(e.now().AddDate(4, 0, 0)) {
		t.Fatalf("renewed until %v", renewed.ExpiresAt)
	}
	_, err = e.svc.VerifyCard(e.ctx, desk, e.digital(me, acc.ID, "").Token)
	must(t, "VerifyCard after renewal", err)
}

func TestReplayedTokenIsRefused(t *testing.T) {
	e := newEnv(t)
	acc, me := e.reader("Hoàng Văn Bình", auth.CategoryAdult, e.tuSon.ID)
	desk, otherDesk := e.librarian(e.tuSon), e.librarian(e.queVo)
	tok := e.digital(me, acc.ID, "").Token
	_, err := e.svc.VerifyCard(e.ctx, desk, tok)
	must(t, "first VerifyCard", err)
	for _, d := range []auth.Actor{desk, otherDesk} {
		_, err = e.svc.VerifyCard(e.ctx, d, tok)
		wantErr(t, "the same code again", err, card.ErrTokenReplayed)
		wantCode(t, "the same code again", err, thuvienso.CodeBadUserInput, "input.token")
	}
	// The offline pass is good once online too.
	pass := e.digital(me, acc.ID, cardsvc.PassOffline).Token
	_, err = e.svc.VerifyCard(e.ctx, desk, pass)
	must(t, "VerifyCard of an offline pass", err)
	_, err = e.svc.VerifyCard(e.ctx, otherDesk, pass)
	wantErr(t, "the offline pass again", err, card.ErrTokenReplayed)

	// Shown at many desks at once (a screenshot passed round): one wins.
	tok = e.digital(me, acc.ID, "").Token
	const n = 24
	var ok, replayed atomic.Int32
	done := make(chan error, n)
	for range n {
		go func() {
			_, err := e.svc.VerifyCard(e.ctx, desk, tok)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, card.ErrTokenReplayed):
				replayed.Add(1)
			default:
				done <- err
				return
			}
			done <- nil
		}()
	}
	for range n {
		must(t, "concurrent VerifyCard", <-done)
	}
	if ok.Load() != 1 || replayed.Load() != n-1 {
		t.Fatalf("%d verifications of one code succeeded, %d refused as replayed; want 1 and %d", ok.Load(), replayed.Load(), n-1)
	}
}

func TestKeyRotation(t *testing.T) {
	e := newEnv(t)
	acc, me := e.reader("Đỗ Thị Hoa", auth.CategoryAdult, e.tuSon.ID)
	desk := e.librarian(e.tuSon)
	first := e.digital(me, acc.ID, cardsvc.PassOffline).Token
	firstKid := header(t, first)["kid"]

	// `thuvienso keys rotate -set card -keep 1`, from another process.
	rotate := func() string {
		ks, err := signing.LoadOrCreate(e.keysDir)
		must(t, "LoadOrCreate", err)
		k, err := ks.Rotate(1)
		must(t, "Rotate", err)
		return k.ID
	}
	second := rotate()
	tok := e.digital(me, acc.ID, cardsvc.PassOffline).Token
	if kid := header(t, tok)["kid"]; kid != second {
		t.Fatalf("after rotation the running service signs with %v, want the new key %s", kid, second)
	}
	var doc struct{ Keys []struct{ Kid string } }
	raw, err := e.svc.JWKS()
	must(t, "JWKS", err)
	must(t, "JWKS document", json.Unmarshal(raw, &doc))
	if len(doc.Keys) != 2 || doc.Keys[0].Kid != second || doc.Keys[1].Kid != firstKid {
		t.Fatalf("JWKS after one rotation: %s", raw)
	}
	// The previous key's pass still verifies until it expires.
	_, err = e.svc.ParseToken(first)
	must(t, "a pass signed by the previous key", err)
	e.advance(time.Hour)
	_, err = e.svc.VerifyCard(e.ctx, desk, first)
	must(t, "VerifyCard of a pass signed by the previous key", err)

	// Rotated again, keeping one previous key: the first key is no longer
	// published, and its codes are refused.
	third := rotate()
	raw, err = e.svc.JWKS()
	must(t, "JWKS", err)
	if strings.Contains(string(raw), firstKid.(string)) || !strings.Contains(string(raw), third) {
		t.Fatalf("JWKS after two rotations: %s", raw)
	}
	_, err = e.svc.ParseToken(first)
	wantErr(t, "a pass signed by a key no longer published", err, card.ErrTokenInvalid)
	_, err = e.svc.ParseToken(tok)
	must(t, "a code signed by the previous key", err)
}
