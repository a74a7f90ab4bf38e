package cardsvc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/locale"
)

// Routes of the HTTP handlers, for server.Server.Handle.
const (
	JWKSPattern  = "GET /.well-known/jwks.json"
	PrintPattern = "GET /cards/{number}/{file}"
)

// JWKSMaxAge is how long verifiers may cache the JWKS document. A
// verifier that meets an unknown kid fetches it again (when it can).
const JWKSMaxAge = 600

// JWKSHandler serves the card key set's public keys, current and previous,
// as a JWKS document that anyone may fetch and cache: a member library's
// scanner or a volunteer's phone keeps it and verifies card codes offline.
func (s *Service) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, err := s.JWKS() // a rotation by another process is picked up here too
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		sum := sha256.Sum256(doc)
		etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
		h := w.Header()
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(JWKSMaxAge))
		h.Set("ETag", etag)
		h.Set("Access-Control-Allow-Origin", "*")
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(doc)
	})
}

// etagMatches reports whether an If-None-Match header value names etag:
// "*", or a comma-separated list of entity tags compared weakly (a proxy
// that compresses the document may have made the tag weak, W/"…").
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// Authenticator turns a bearer access token into the actor (auth.Service's
// Authenticate).
type Authenticator func(ctx context.Context, accessToken string) (auth.Actor, error)

// PrintHandler serves a card's barcode and QR code for printing, at
// /cards/{number}/{file} where number is a card number or "me" (the
// caller's current card) and file is barcode.png, barcode.svg, qr.png or
// qr.svg. The caller authenticates with "Authorization: Bearer <access
// token>" and must be the holder, an active guardian, or staff who may see
// the holder's account. A lost card is not printed.
//
// The QR code holds the card number; with ?pass=online or ?pass=offline it
// holds a freshly signed card code instead (a printed offline pass is a day
// pass for a reader without a phone). ?scale=N sets pixels per module
// (1–20, default 4).
func (s *Service) PrintHandler(authenticate Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, no-store")
		w.Header().Add("Vary", "Authorization")
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", "Bearer")
			s.writeError(w, r, thuvienso.ErrUnauthenticated)
			return
		}
		actor, err := authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		ctx := auth.WithActor(r.Context(), actor)
		kind, format, ok := strings.Cut(r.PathValue("file"), ".")
		if !ok || (kind != "barcode" && kind != "qr") || (format != "png" && format != "svg") {
			s.writeError(w, r, thuvienso.Invalid("file", "ask for barcode.png, barcode.svg, qr.png or qr.svg",
				"Hãy yêu cầu barcode.png, barcode.svg, qr.png hoặc qr.svg"))
			return
		}
		scale := 4
		if v := r.URL.Query().Get("scale"); v != "" {
			if scale, err = strconv.Atoi(v); err != nil || scale < 1 || scale > 20 {
				s.writeError(w, r, thuvienso.Invalid("scale", "scale must be 1 to 20", "scale phải từ 1 đến 20"))
				return
			}
		}
		c, err := s.printableCard(ctx, actor, r.PathValue("number"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var sym *Symbol
		title := "Thẻ thư viện " + c.Number
		if kind == "barcode" {
			sym, err = BarcodeSymbol(c.Number, c.Symbology)
		} else {
			content := c.Number
			if p := Pass(r.URL.Query().Get("pass")); p != "" {
				dc, derr := s.DigitalCard(ctx, actor, c.AccountID, p)
				if derr != nil {
					s.writeError(w, r, derr)
					return
				}
				content, title = dc.Token, title+" ("+string(p)+")"
			}
			sym, err = QRSymbol(content)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var buf bytes.Buffer
		if format == "png" {
			err = sym.WritePNG(&buf, scale)
			w.Header().Set("Content-Type", "image/png")
		} else {
			err = sym.WriteSVG(&buf, scale, title)
			w.Header().Set("Content-Type", "image/svg+xml; charset=utf-8")
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Disposition", `inline; filename="card-`+c.Number+"-"+r.PathValue("file")+`"`)
		_, _ = w.Write(buf.Bytes())
	})
}

// printableCard returns the current card named in the path ("me" or a
// number) if the actor may print it.
func (s *Service) printableCard(ctx context.Context, a auth.Actor, number string) (*card.Card, error) {
	c, err := s.printableCardOf(ctx, a, number)
	if errors.Is(err, thuvienso.ErrNotFound) && !isStaff(a) {
		err = thuvienso.ErrForbidden // a reader learns nothing of other numbers
	}
	return c, err
}

// printableCardOf is printableCard before hiding what a reader may not know.
func (s *Service) printableCardOf(ctx context.Context, a auth.Actor, number string) (*card.Card, error) {
	if number == "me" {
		return s.Card(ctx, a, a.AccountID)
	}
	n, err := ParseNumber("number", number)
	if err != nil {
		return nil, err
	}
	c, err := s.Store.Card(ctx, n)
	if errors.Is(err, thuvienso.ErrNotFound) {
		// An account older than cards: its card is made on first use.
		acc, aerr := s.Accounts.AccountByLogin(ctx, n)
		if aerr != nil {
			return nil, thuvienso.ErrNotFound
		}
		return s.Card(ctx, a, acc.ID)
	}
	if err != nil {
		return nil, err
	}
	if _, _, err := s.access(ctx, a, c.AccountID); err != nil {
		return nil, err
	}
	if !c.Current {
		return nil, card.ErrCardLost
	}
	return c, nil
}

// writeError answers with one GraphQL-shaped error in the request's
// language, the status following its code. Unexpected errors are logged
// and answered as INTERNAL.
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var de *thuvienso.Error
	if !errors.As(err, &de) || de.Code == thuvienso.CodeInternal {
		s.logger().ErrorContext(r.Context(), "card: HTTP request failed", "path", r.URL.Path, "err", err)
		de = thuvienso.ErrInternal
	}
	status := http.StatusInternalServerError
	switch de.Code {
	case thuvienso.CodeBadUserInput:
		status = http.StatusBadRequest
	case thuvienso.CodeUnauthenticated:
		status = http.StatusUnauthorized
	case thuvienso.CodeForbidden:
		status = http.StatusForbidden
	case thuvienso.CodeNotFound:
		status = http.StatusNotFound
	case thuvienso.CodeConflict, thuvienso.CodeLimitReached:
		status = http.StatusConflict
	case thuvienso.CodeRateLimited:
		status = http.StatusTooManyRequests
		if de.RetryAfterSeconds > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(de.RetryAfterSeconds))
		}
	case thuvienso.CodeServiceUnhealthy:
		status = http.StatusServiceUnavailable
	}
	ext := map[string]any{"code": de.Code}
	if de.Field != "" {
		ext["field"] = de.Field
	}
	body, _ := json.Marshal(map[string]any{"errors": []any{map[string]any{
		"message": de.Message(locale.From(r.Context())), "extensions": ext,
	}}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Del("Content-Disposition")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
