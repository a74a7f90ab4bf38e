package cardsvc_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/card/cardsvc"
	"github.com/bacninh/thuvienso/signing"
)

// serve mounts the card handlers on a mux as the server does.
func (e *env) serve() *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle(cardsvc.JWKSPattern, e.svc.JWKSHandler())
	mux.Handle(cardsvc.PrintPattern, e.svc.PrintHandler(e.auth.Authenticate))
	srv := httptest.NewServer(mux)
	e.t.Cleanup(srv.Close)
	return srv
}

// get fetches path with the given headers and returns the response and body.
func get(t *testing.T, url string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestJWKSIsPublicAndCacheable(t *testing.T) {
	e := newEnv(t)
	srv := e.serve()
	resp, body := get(t, srv.URL+"/.well-known/jwks.json")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=600") {
		t.Fatalf("Cache-Control %q", cc)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatal("the JWKS document is not readable by any origin")
	}
	var doc struct {
		Keys []struct{ Kty, Crv, X, Kid, Alg, Use string }
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if len(doc.Keys) != 1 {
		t.Fatalf("JWKS %s", body)
	}
	k := doc.Keys[0]
	if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" || k.Use != "sig" || len(k.X) != 43 ||
		k.Kid != e.svc.Keys.Set().Current().ID {
		t.Fatalf("key %+v", k)
	}

	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		resp, body = get(t, srv.URL+"/.well-known/jwks.json", "If-None-Match", inm)
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Fatalf("If-None-Match %s: status %d, %d bytes", inm, resp.StatusCode, len(body))
		}
	}
	resp, _ = get(t, srv.URL+"/.well-known/jwks.json", "If-None-Match", `"other"`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("If-None-Match of another tag: status %d", resp.StatusCode)
	}

	// After a rotation the document (and its tag) changes at once.
	ks, err := signing.LoadOrCreate(e.keysDir)
	must(t, "LoadOrCreate", err)
	_, err = ks.Rotate(2)
	must(t, "Rotate", err)
	resp, body = get(t, srv.URL+"/.well-known/jwks.json", "If-None-Match", etag)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag || strings.Count(string(body), `"kid"`) != 2 {
		t.Fatalf("after a rotation: status %d, ETag %s, %s", resp.StatusCode, resp.Header.Get("ETag"), body)
	}
}

// login returns an access token of an account (password: password).
func (e *env) login(login string) string {
	e.t.Helper()
	_, tokens, err := e.auth.Login(e.ctx, login, password, auth.Client{})
	if err != nil {
		e.t.Fatalf("Login %s: %v", login, err)
	}
	return tokens.AccessToken
}

// svgDoc is what the tests read of an SVG.
type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	Width   int      `xml:"width,attr"`
	Height  int      `xml:"height,attr"`
	Title   string   `xml:"title"`
	Rects   []struct {
		X int `xml:"x,attr"`
	} `xml:"g>rect"`
	Text string `xml:"text"`
}

func TestPrintableCard(t *testing.T) {
	e := newEnv(t)
	acc, me := e.reader("Kiều Thị Phương", auth.CategoryAdult, e.tuSon.ID)
	other, _ := e.reader("Tạ Văn Quân", auth.CategoryAdult, e.tuSon.ID)
	libAcc := e.account("Thủ thư Từ Sơn", auth.RoleLibrarian, auth.CategoryAdult, e.tuSon.ID)
	n := e.digital(me, acc.ID, "").Number
	srv := e.serve()
	mine, theirs, staff := e.login(acc.CardNumber), e.login(other.CardNumber), e.login(libAcc.CardNumber)
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

	for _, path := range []string{"/cards/me/barcode.png", "/cards/me/qr.png", "/cards/" + n + "/qr.png?scale=2"} {
		resp, body := get(t, srv.URL+path, bearer(mine)...)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: status %d, type %q: %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		img, err := png.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b := img.Bounds()
		if r, g, bl, _ := img.At(0, 0).RGBA(); r != 0xffff || g != 0xffff || bl != 0xffff {
			t.Errorf("%s: the quiet zone is not white", path)
		}
		if strings.Contains(path, "qr") && b.Dx() != b.Dy() || strings.Contains(path, "barcode") && b.Dx() <= b.Dy() {
			t.Errorf("%s: %v", path, b)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("%s: Cache-Control %q", path, cc)
		}
	}

	svg := func(path, tok string) svgDoc {
		t.Helper()
		resp, body := get(t, srv.URL+path, bearer(tok)...)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/svg+xml") {
			t.Fatalf("%s: status %d: %s", path, resp.StatusCode, body)
		}
		var d svgDoc
		if err := xml.Unmarshal(body, &d); err != nil {
			t.Fatalf("%s: %v\n%s", path, err, body)
		}
		return d
	}
	bar := svg("/cards/"+n+"/barcode.svg", staff)
	if bar.Text != n || !strings.Contains(bar.Title, n) || len(bar.Rects) < 20 || bar.Width <= bar.Height {
		t.Fatalf("barcode SVG: %+v", bar)
	}
	if bar.Rects[0].X != 10 {
		t.Errorf("the first bar is at %d, want after a quiet zone of 10 modules", bar.Rects[0].X)
	}
	qrNumber := svg("/cards/me/qr.svg", mine)
	qrPass := svg("/cards/me/qr.svg?pass=offline", mine)
	if !strings.Contains(qrPass.Title, "offline") || qrPass.Width <= qrNumber.Width {
		t.Fatalf("a QR code of an offline pass (%d wide, %q) should be larger than one of the number (%d wide)",
			qrPass.Width, qrPass.Title, qrNumber.Width)
	}
	_, err := e.svc.SetSymbology(e.ctx, me, acc.ID, card.Codabar)
	must(t, "SetSymbology", err)
	if cb := svg("/cards/me/barcode.svg", mine); len(cb.Rects) == len(bar.Rects) && cb.Width == bar.Width {
		t.Fatal("the Codabar barcode looks like the Code 128 one")
	}

	tests := []struct {
		name, path string
		headers    []string
		status     int
		code       string
	}{
		{"no login", "/cards/me/qr.png", nil, http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"a bad token", "/cards/me/qr.png", bearer("not-a-token"), http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"another reader's card", "/cards/" + n + "/qr.png", bearer(theirs), http.StatusForbidden, "FORBIDDEN"},
		{"a number nobody has, by a reader", "/cards/" + numberNobodyHas(t) + "/qr.png", bearer(theirs), http.StatusForbidden, "FORBIDDEN"},
		{"a number nobody has, by staff", "/cards/" + numberNobodyHas(t) + "/qr.png", bearer(staff), http.StatusNotFound, "NOT_FOUND"},
		{"a mistyped number", "/cards/" + transposed(n) + "/qr.png", bearer(mine), http.StatusBadRequest, "BAD_USER_INPUT"},
		{"another file", "/cards/me/photo.jpg", bearer(mine), http.StatusBadRequest, "BAD_USER_INPUT"},
		{"a scale too large", "/cards/me/qr.png?scale=200", bearer(mine), http.StatusBadRequest, "BAD_USER_INPUT"},
		{"an unknown pass", "/cards/me/qr.png?pass=forever", bearer(mine), http.StatusBadRequest, "BAD_USER_INPUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, srv.URL+tc.path, tc.headers...)
			var out struct {
				Errors []struct {
					Message    string
					Extensions map[string]any
				}
			}
			if err := json.Unmarshal(body, &out); err != nil || len(out.Errors) != 1 {
				t.Fatalf("status %d, body %s", resp.StatusCode, body)
			}
			if resp.StatusCode != tc.status || out.Errors[0].Extensions["code"] != tc.code || out.Errors[0].Message == "" {
				t.Fatalf("status %d, %+v; want %d %s", resp.StatusCode, out.Errors[0], tc.status, tc.code)
			}
			if resp.Header.Get("Content-Disposition") != "" {
				t.Error("an error answered as an attachment")
			}
		})
	}

	// A lost card is not printed; the new one is.
	next, err := e.svc.ReportLost(e.ctx, me, acc.ID)
	must(t, "ReportLost", err)
	if resp, _ := get(t, srv.URL+"/cards/"+n+"/barcode.png", bearer(staff)...); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("printing a lost card: status %d", resp.StatusCode)
	}
	if d := svg("/cards/me/barcode.svg", mine); d.Text != next.Number {
		t.Fatalf("after the loss the printed number is %s, want %s", d.Text, next.Number)
	}
}

// numberNobodyHas returns a valid card number no test account has.
func numberNobodyHas(t *testing.T) string {
	n, err := card.NumberFrom("9999999999")
	must(t, "NumberFrom", err)
	return n
}

func TestBarcodeSymbols(t *testing.T) {
	n, _ := card.NumberFrom("0123456789")
	for _, sym := range []card.Symbology{card.Code128, card.Codabar} {
		s, err := cardsvc.BarcodeSymbol(n, sym)
		must(t, string(sym), err)
		if !s.Linear || s.Height != 1 || s.Width < 60 || s.Text != n || !s.Dark(0, 0) {
			t.Fatalf("%s symbol: %+v", sym, s)
		}
	}
	q, err := cardsvc.QRSymbol(n)
	must(t, "QRSymbol", err)
	if q.Linear || q.Width != q.Height || q.Width < 21 || !q.Dark(0, 0) {
		t.Fatalf("QR symbol %dx%d", q.Width, q.Height)
	}
	var buf bytes.Buffer
	must(t, "WriteSVG", q.WriteSVG(&buf, 3, `Thẻ <số> & "mã"`))
	var d svgDoc
	if err := xml.Unmarshal(buf.Bytes(), &d); err != nil || d.Title != `Thẻ <số> & "mã"` || d.Width != (q.Width+8)*3 {
		t.Fatalf("SVG %v, %+v", err, d)
	}
}

// transposed is n with its last two adjacent digits that differ swapped,
// the typo a check digit catches. (Swapping the last two digits whatever
// they are made the same number one time in ten.)
func transposed(n string) string {
	b := []byte(n)
	for i := len(b) - 2; i >= 0; i-- {
		if b[i] != b[i+1] {
			b[i], b[i+1] = b[i+1], b[i]
			break
		}
	}
	return string(b)
}
