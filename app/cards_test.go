package app

import (
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card/cardsvc"
	"github.com/bacninh/thuvienso/library"
)

// httpGet fetches url with the headers given (name, value, …).
func httpGet(t *testing.T, url string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// The card service is assembled with the app: its JWKS document and the
// printable cards are served behind the server's middleware, its keys
// persist in KEYS_DIR/card, and its codes verify at a desk.
func TestCardsAreServed(t *testing.T) {
	dir := t.TempDir()
	a, srv := testApp(t, dir, "never")
	ctx := t.Context()
	lib := &library.Library{ID: "lib-tuson", Code: "BN-TS", Name: "Thư viện thị xã Từ Sơn", Type: library.TypeDistrict}
	if err := a.Stores.Libraries.CreateLibrary(ctx, lib); err != nil {
		t.Fatal(err)
	}
	reader, err := a.Auth.CreateAccount(ctx, auth.NewAccount{Name: "Nguyễn Thị Lan", Email: "lan@example.vn",
		Password: "mật-khẩu-dài", HomeLibraryID: lib.ID, Role: auth.RoleReader})
	if err != nil {
		t.Fatal(err)
	}
	_, tokens, err := a.Auth.Login(ctx, reader.CardNumber, "mật-khẩu-dài", auth.Client{})
	if err != nil {
		t.Fatal(err)
	}

	resp, body := httpGet(t, srv.URL+"/.well-known/jwks.json")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=") ||
		resp.Header.Get("ETag") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Request-ID") == "" {
		t.Fatalf("JWKS: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	var doc struct{ Keys []struct{ Kid string } }
	if err := json.Unmarshal(body, &doc); err != nil || len(doc.Keys) != 1 || doc.Keys[0].Kid != a.CardKeys.Set().Current().ID {
		t.Fatalf("JWKS %s (%v)", body, err)
	}
	if doc.Keys[0].Kid == a.AccessKeys.Set().Current().ID {
		t.Fatal("card codes are signed by the access-token key")
	}
	if resp, _ := httpGet(t, srv.URL+"/.well-known/jwks.json", "If-None-Match", resp.Header.Get("ETag")); resp.StatusCode != http.StatusNotModified {
		t.Fatalf("JWKS with its ETag: status %d", resp.StatusCode)
	}

	resp, body = httpGet(t, srv.URL+"/cards/me/barcode.png", "Authorization", "Bearer "+tokens.AccessToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("printable barcode: status %d: %s", resp.StatusCode, body)
	}
	if _, err := png.Decode(strings.NewReader(string(body))); err != nil {
		t.Fatalf("printable barcode: %v", err)
	}
	resp, body = httpGet(t, srv.URL+"/cards/me/qr.svg", "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "you need to log in") {
		t.Fatalf("printable QR without a login: status %d: %s", resp.StatusCode, body)
	}

	// The service is there for the resolvers: a reader's code verifies at
	// a desk, once.
	desk, err := a.Auth.CreateAccount(ctx, auth.NewAccount{Name: "Thủ thư", Email: "thuthu@example.vn", Password: "mật-khẩu-dài",
		HomeLibraryID: lib.ID, LibraryID: lib.ID, Role: auth.RoleLibrarian})
	if err != nil {
		t.Fatal(err)
	}
	me := auth.Actor{AccountID: reader.ID, Role: auth.RoleReader}
	dc, err := a.Cards.DigitalCard(ctx, me, reader.ID, cardsvc.PassOnline)
	if err != nil {
		t.Fatal(err)
	}
	staff := auth.Actor{AccountID: desk.ID, Role: auth.RoleLibrarian, LibraryID: lib.ID}
	if _, err := a.Cards.VerifyCard(ctx, staff, dc.Token); err != nil {
		t.Fatalf("VerifyCard: %v", err)
	}
	if _, err := a.Cards.VerifyCard(ctx, staff, dc.Token); err == nil {
		t.Fatal("a replayed code verified")
	}

	// The card keys survive a restart: a code signed before still verifies.
	kid := a.CardKeys.Set().Current().ID
	pass, err := a.Cards.DigitalCard(ctx, me, reader.ID, cardsvc.PassOffline)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	b, _ := testApp(t, dir, "never")
	if b.CardKeys.Set().Current().ID != kid {
		t.Fatal("the card key changed across a restart")
	}
	if _, err := b.Cards.ParseToken(pass.Token); err != nil {
		t.Fatalf("a pass signed before the restart: %v", err)
	}
}
