package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bacninh/thuvienso/card/cardsvc"
	"github.com/bacninh/thuvienso/signing"
)

// `thuvienso keys rotate -set card` rotates the card key set in
// KEYS_DIR/card; a running server's key ring follows it without a restart.
func TestKeysRotateCard(t *testing.T) {
	dir := t.TempDir()
	ring, err := cardsvc.LoadKeyRing(filepath.Join(dir, "card")) // as the running server holds it
	if err != nil {
		t.Fatal(err)
	}
	first := ring.Set().Current().ID
	tok, err := ring.Set().Sign(&jwt.RegisteredClaims{Subject: "2700000000001", IssuedAt: jwt.NewNumericDate(time.Now()),
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	rotate := func() {
		t.Helper()
		if err := run([]string{"keys", "rotate", "-set", "card", "-keep", "1", "-keys-dir", dir}); err != nil {
			t.Fatalf("keys rotate -set card: %v", err)
		}
	}
	rotate()
	second := ring.Set().Current().ID
	if second == first {
		t.Fatal("the running key ring still signs with the old key after a rotation")
	}
	var c jwt.RegisteredClaims
	if err := ring.Set().Verify(tok, &c); err != nil {
		t.Fatalf("a code of the previous key after one rotation: %v", err)
	}
	rotate()
	if err := ring.Set().Verify(tok, &c); err == nil {
		t.Fatal("a code of a key rotated out (-keep 1) still verifies")
	}
	doc, _ := ring.Set().JWKS()
	if strings.Contains(string(doc), first) || !strings.Contains(string(doc), second) {
		t.Fatalf("JWKS after two rotations: %s", doc)
	}

	// The access-token set is separate, and other names are refused.
	if err := run([]string{"keys", "rotate", "-keys-dir", dir}); err != nil {
		t.Fatalf("keys rotate (access): %v", err)
	}
	access, err := signing.LoadOrCreate(filepath.Join(dir, "access"))
	if err != nil || access.Current().ID == ring.Set().Current().ID {
		t.Fatalf("access keys: %v", err)
	}
	if err := run([]string{"keys", "rotate", "-set", "cards", "-keys-dir", dir}); err == nil {
		t.Fatal("an unknown key set was rotated")
	}
}
