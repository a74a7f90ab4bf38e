package cardsvc_test

import (
	"encoding/base64"
	"strings"
	"testing"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/card/cardsvc"
)

// FuzzVerify: no input makes token verification panic, and whatever
// ParseToken accepts is a well-formed code of this key set. The seed corpus
// is real codes (online, offline pass, of a blocked card), their parts,
// and codes bent in the ways an attacker would try.
//
//	go test -run '^$' -fuzz FuzzVerify ./card/cardsvc/
func FuzzVerify(f *testing.F) {
	e := newEnv(f)
	acc, me := e.reader("Nguyễn Văn Mờ", auth.CategoryAdult, e.tuSon.ID)
	desk := e.librarian(e.tuSon)
	online := e.digital(me, acc.ID, cardsvc.PassOnline)
	offline := e.digital(me, acc.ID, cardsvc.PassOffline).Token
	e.block(desk, online.Number, card.ReasonOverdue)
	blocked := e.digital(me, acc.ID, cardsvc.PassOnline).Token
	parts := strings.Split(online.Token, ".")
	enc := base64.RawURLEncoding.EncodeToString
	for _, s := range []string{
		online.Token, offline, blocked, tamperSignature(online.Token),
		parts[0], parts[0] + "." + parts[1], parts[0] + "." + parts[1] + ".", "..", ".", "",
		enc([]byte(`{"alg":"EdDSA","kid":"`+e.svc.Keys.Set().Current().ID+`"}`)) + "." + parts[1] + "." + parts[2],
		enc([]byte(`{"alg":"none","kid":"`+e.svc.Keys.Set().Current().ID+`"}`)) + "." + parts[1] + ".",
		enc([]byte(`{"alg":"EdDSA","kid":7}`)) + "." + parts[1] + "." + parts[2],
		enc([]byte(`{"alg":"EdDSA","kid":"x","crit":["b64"],"b64":false}`)) + "." + parts[1] + "." + parts[2],
		parts[0] + "." + enc([]byte(`{"sub":"2700000000000","exp":1e308,"iat":-1e308}`)) + "." + parts[2],
		parts[0] + "." + enc([]byte(`[]`)) + "." + parts[2],
		strings.Repeat("A", cardsvc.MaxTokenLength+1),
		" " + online.Token + "\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := e.svc.ParseToken(token)
		if err == nil {
			if c == nil || !card.ValidNumber(c.Subject) || !c.Pass.Valid() || c.ExpiresAt == nil || c.IssuedAt == nil {
				t.Fatalf("ParseToken accepted %q as %+v", token, c)
			}
		} else if code := thuvienso.ErrorCode(err); code != thuvienso.CodeBadUserInput {
			t.Fatalf("ParseToken(%q): %v (code %s)", token, err, code)
		}
		if _, err := e.svc.VerifyCard(e.ctx, desk, token); err != nil && thuvienso.ErrorCode(err) == thuvienso.CodeInternal {
			t.Fatalf("VerifyCard(%q): %v", token, err)
		}
	})
}
