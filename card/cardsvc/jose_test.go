package cardsvc_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/card/cardsvc"
	"github.com/bacninh/thuvienso/signing"
)

// requireNodeEnv, when set (scripts/test sets it after making sure node
// and npm are installed), makes a missing node a failure instead of a skip.
const requireNodeEnv = "THUVIENSO_REQUIRE_NODE"

// nodeWithJose returns the node binary, with the jose package of
// testdata/package-lock.json installed in testdata/node_modules (ignored by
// git). It installs it on first use into a private folder and moves it into
// place, so that test runs at the same time do not trip over each other.
func nodeWithJose(t *testing.T) string {
	t.Helper()
	node, nerr := exec.LookPath("node")
	npm, perr := exec.LookPath("npm")
	if nerr != nil || perr != nil {
		msg := "node and npm are not installed, so card codes are not checked by an independent JWT implementation " +
			"(jose); install the Debian packages nodejs and npm, or run scripts/test, which does"
		if os.Getenv(requireNodeEnv) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir, err := filepath.Abs("testdata")
	must(t, "testdata", err)
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "jose", "package.json")); err == nil {
		return node
	}
	tmp, err := os.MkdirTemp(dir, ".npm-")
	must(t, "MkdirTemp", err)
	defer os.RemoveAll(tmp)
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		must(t, "reading "+f, err)
		must(t, "writing "+f, os.WriteFile(filepath.Join(tmp, f), b, 0o644))
	}
	cmd := exec.CommandContext(t.Context(), npm, "ci", "--prefix", tmp, "--no-audit", "--no-fund", "--ignore-scripts")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("installing jose with npm ci: %v\n%s", err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "node_modules"), modules); err != nil {
		if _, serr := os.Stat(filepath.Join(modules, "jose", "package.json")); serr != nil {
			t.Fatalf("moving jose into place: %v", err)
		} // another run was first
	}
	return node
}

// joseVerify runs testdata/verify-jose.mjs on token with the JWKS document
// and returns the claims it printed, or an error with what it said.
func joseVerify(t *testing.T, node string, jwks []byte, token string) (map[string]any, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jwks.json")
	must(t, "writing the JWKS document", os.WriteFile(path, jwks, 0o644))
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), node, filepath.Join("testdata", "verify-jose.mjs"), path, token)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		var claims map[string]any
		if jerr := json.Unmarshal(stdout.Bytes(), &claims); jerr != nil {
			t.Fatalf("verify-jose.mjs printed %q: %v", stdout.String(), jerr)
		}
		return claims, nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return nil, errors.New(strings.TrimSpace(stderr.String()))
	}
	t.Fatalf("verify-jose.mjs: %v\n%s%s", err, stdout.String(), stderr.String())
	return nil, nil
}

// TestJoseVerifiesCardTokens: a verifier that has only the JWKS document
// and another JWT implementation (jose, on Node) accepts the codes of
// DigitalCard and refuses them tampered, expired, of a blocked card, or
// signed by a key that is not (or no longer) published.
func TestJoseVerifiesCardTokens(t *testing.T) {
	node := nodeWithJose(t)
	e := newEnv(t)
	e.setNow(time.Now()) // jose checks against the real clock
	acc, me := e.reader("Nguyễn Thị Hương Giang", auth.CategoryAdult, e.tuSon.ID)
	desk := e.librarian(e.tuSon)
	jwks := func() []byte {
		doc, err := e.svc.JWKS()
		must(t, "JWKS", err)
		return doc
	}

	online := e.digital(me, acc.ID, cardsvc.PassOnline)
	claims, err := joseVerify(t, node, jwks(), online.Token)
	must(t, "jose on a good online code", err)
	if claims["sub"] != online.Number || claims["name"] != acc.Name || claims["pass"] != "online" ||
		claims["kid"] != e.svc.Keys.Set().Current().ID || claims["lib_name"] != e.tuSon.Name {
		t.Fatalf("jose read the claims %v", claims)
	}
	offline := e.digital(me, acc.ID, cardsvc.PassOffline).Token
	claims, err = joseVerify(t, node, jwks(), offline)
	must(t, "jose on a good offline pass", err)
	if claims["pass"] != "offline" {
		t.Fatalf("offline pass claims %v", claims)
	}

	parts := strings.Split(online.Token, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	renamed := parts[0] + "." + base64.RawURLEncoding.EncodeToString(
		[]byte(strings.Replace(string(payload), `"status":"ACTIVE"`, `"status":"ACTIVE","x":1`, 1))) + "." + parts[2]
	flipped := tamperSignature(online.Token)

	e.setNow(time.Now().Add(-time.Hour))
	expired := e.digital(me, acc.ID, cardsvc.PassOnline).Token
	e.setNow(time.Now())

	var c cardsvc.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(online.Token, &c); err != nil {
		t.Fatal(err)
	}
	stranger, _ := signing.NewEphemeral()
	unknownKey, err := stranger.Sign(&c)
	must(t, "Sign", err)
	forged := jwt.NewWithClaims(jwt.SigningMethodEdDSA, &c)
	forged.Header["kid"] = e.svc.Keys.Set().Current().ID
	sameKid, err := forged.SignedString(stranger.Current().Private)
	must(t, "SignedString", err)

	e.block(desk, online.Number, card.ReasonFines)
	blocked := e.digital(me, acc.ID, cardsvc.PassOnline).Token
	_, err = e.svc.UnblockCard(e.ctx, desk, online.Number)
	must(t, "UnblockCard", err)

	for name, tok := range map[string]string{
		"payload tampered":                   renamed,
		"signature tampered":                 flipped,
		"expired":                            expired,
		"signed by an unpublished key":       unknownKey,
		"signed by another key, same kid":    sameKid,
		"of a blocked card (status BLOCKED)": blocked,
		"not a token":                        "eyJhbGciOiJub25lIn0.e30.",
	} {
		if claims, err := joseVerify(t, node, jwks(), tok); err == nil {
			t.Errorf("jose accepted a code %s: %v", name, claims)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}

	// Rotation: codes of the previous key verify with the new document; a
	// key rotated out of it is refused.
	rotate := func() {
		ks, err := signing.LoadOrCreate(e.keysDir)
		must(t, "LoadOrCreate", err)
		_, err = ks.Rotate(1)
		must(t, "Rotate", err)
	}
	rotate()
	second := e.digital(me, acc.ID, cardsvc.PassOffline).Token
	_, err = joseVerify(t, node, jwks(), offline)
	must(t, "jose on a pass of the previous key after one rotation", err)
	rotate()
	_, err = joseVerify(t, node, jwks(), second)
	must(t, "jose on a pass of the previous key after two rotations", err)
	if claims, err := joseVerify(t, node, jwks(), offline); err == nil {
		t.Fatalf("jose accepted a pass of a key no longer published: %v", claims)
	}
}
