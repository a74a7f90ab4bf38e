package signing_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bacninh/thuvienso/signing"
)

// TestRingFollowsARotationByAnotherProcess: after `thuvienso keys rotate`
// (here a second LoadOrCreate of the folder, as the command does) a
// running server's ring signs with the new key, still verifies tokens of
// the previous key, and refuses a key dropped from the folder.
func TestRingFollowsARotationByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	ring, err := signing.LoadRing(dir)
	if err != nil {
		t.Fatal(err)
	}
	claims := func() jwt.Claims {
		return jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)), IssuedAt: jwt.NewNumericDate(time.Now())}
	}
	old, err := ring.Sign(claims())
	if err != nil {
		t.Fatal(err)
	}
	oldKid := ring.Set().Current().ID

	cmd, err := signing.LoadOrCreate(dir) // the keys rotate command
	if err != nil {
		t.Fatal(err)
	}
	k, err := cmd.Rotate(1)
	if err != nil {
		t.Fatal(err)
	}
	// A modification time as coarse as a second must not hide the change:
	// a token naming the new key makes the ring look again.
	signedElsewhere, err := cmd.Sign(claims())
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Verify(signedElsewhere, &jwt.RegisteredClaims{}); err != nil {
		t.Fatalf("a token of the new key, signed by another process: %v", err)
	}
	if got := ring.Set().Current().ID; got != k.ID {
		t.Fatalf("the ring signs with %s, want the new key %s", got, k.ID)
	}
	if err := ring.Verify(old, &jwt.RegisteredClaims{}); err != nil {
		t.Fatalf("a token of the previous key, kept by -keep 1: %v", err)
	}
	if _, err := cmd.Rotate(1); err != nil { // keeps one previous key: the first one goes
		t.Fatal(err)
	}
	if err := ring.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, ok := ring.Set().Lookup(oldKid); ok {
		t.Fatal("a dropped key is still known")
	}
	if err := ring.Verify(old, &jwt.RegisteredClaims{}); err == nil {
		t.Fatal("a token of a dropped key verified")
	}
}
