package signing

import (
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func claims(ttl time.Duration) *jwt.RegisteredClaims {
	now := time.Now()
	return &jwt.RegisteredClaims{Subject: "reader-1", IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl))}
}

func TestKeysSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	ks, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ks.Sign(claims(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Current().ID != ks.Current().ID {
		t.Fatalf("reloaded current key %s, want %s", again.Current().ID, ks.Current().ID)
	}
	var c jwt.RegisteredClaims
	if err := again.Verify(tok, &c); err != nil || c.Subject != "reader-1" {
		t.Fatalf("token from before restart: %v (subject %q)", err, c.Subject)
	}
}

func TestRotationKeepsPreviousKeyUntilDropped(t *testing.T) {
	dir := t.TempDir()
	ks, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := ks.Sign(claims(time.Minute))
	if _, err := ks.Rotate(1); err != nil {
		t.Fatal(err)
	}
	var c jwt.RegisteredClaims
	if err := ks.Verify(old, &c); err != nil {
		t.Fatalf("token by previous key refused after one rotation: %v", err)
	}
	if _, err := ks.Rotate(1); err != nil {
		t.Fatal(err)
	}
	if err := ks.Verify(old, &c); err == nil {
		t.Fatal("token by a dropped key still verifies")
	}
	reloaded, _ := LoadOrCreate(dir)
	if err := reloaded.Verify(old, &c); err == nil {
		t.Fatal("dropped key came back after reload")
	}
	var doc struct {
		Keys []struct{ Kid, Kty, Crv, X string }
	}
	raw, _ := reloaded.JWKS()
	if err := json.Unmarshal(raw, &doc); err != nil || len(doc.Keys) != 2 || doc.Keys[0].Kid != ks.Current().ID {
		t.Fatalf("JWKS = %s", raw)
	}
}

func TestVerifyRefusesForgedExpiredAndOtherAlgorithms(t *testing.T) {
	ks, _ := NewEphemeral()
	other, _ := NewEphemeral()
	expired, _ := ks.Sign(claims(-time.Minute))
	forged, _ := other.Sign(claims(time.Minute))
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(time.Minute))
	hs.Header["kid"] = ks.Current().ID
	hmac, _ := hs.SignedString([]byte(ks.Current().Public()))
	good, _ := ks.Sign(claims(time.Minute))
	tampered := good[:len(good)-3] + "AAA"
	for name, tok := range map[string]string{"expired": expired, "forged": forged, "hs256": hmac, "tampered": tampered, "garbage": "x.y.z"} {
		var c jwt.RegisteredClaims
		if err := ks.Verify(tok, &c); err == nil {
			t.Errorf("%s token verified", name)
		}
	}
}

// TestInstancesStartingAtOnceShareTheFirstKey: server instances started
// together on an empty keys folder all sign with one key, so a token of one
// verifies at the others.
func TestInstancesStartingAtOnceShareTheFirstKey(t *testing.T) {
	for round := range 20 {
		dir := t.TempDir()
		sets := make([]*KeySet, 4)
		errs := make([]error, len(sets))
		var wg sync.WaitGroup
		for i := range sets {
			wg.Go(func() { sets[i], errs[i] = LoadOrCreate(dir) })
		}
		wg.Wait()
		for i, ks := range sets {
			if errs[i] != nil {
				t.Fatalf("round %d: %v", round, errs[i])
			}
			if ks.Current().ID != sets[0].Current().ID || len(ks.keys) != 1 {
				t.Fatalf("round %d: process %d has keys %v, process 0 %v", round, i, ks.keys, sets[0].keys)
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 1 {
			t.Fatalf("round %d: the folder holds %v (%v), want the one key file", round, entries, err)
		}
	}
}
