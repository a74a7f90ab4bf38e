package signing

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Ring holds a key set and follows its folder: after `thuvienso keys
// rotate` (another process, or another instance sharing KEYS_DIR) every
// instance signs with the new key and stops accepting dropped keys on its
// next use, without a restart. It
// notices a rotation by the folder's modification time (one stat per use;
// a rotation writes a file by rename into the folder), and also reads the
// folder again, at most every reloadEvery, when a code names a key id it
// does not know (for file systems with coarse modification times). It is
// safe for concurrent use.
type Ring struct {
	dir string // "" when the set is not persisted (tests)
	set atomic.Pointer[KeySet]

	mu         sync.Mutex
	modTime    time.Time // of dir when set was loaded
	lastReload time.Time
}

// reloadEvery bounds how often an unknown key id (which anyone can put in
// a forged code) makes the ring read its folder.
const reloadEvery = 10 * time.Second

// LoadRing loads (or creates, on first run) the key set in dir, e.g.
// KEYS_DIR/access or KEYS_DIR/card.
func LoadRing(dir string) (*Ring, error) {
	r := &Ring{dir: dir}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reloadLocked(); err != nil {
		return nil, err
	}
	return r, nil
}

// StaticRing wraps a key set that is never reloaded (tests, tools).
func StaticRing(ks *KeySet) *Ring {
	r := &Ring{}
	r.set.Store(ks)
	return r
}

// Set returns the key set in use, first reading the folder again when it
// changed since it was read.
func (r *Ring) Set() *KeySet {
	if r.dir != "" {
		if fi, err := os.Stat(r.dir); err == nil {
			r.mu.Lock()
			if !fi.ModTime().Equal(r.modTime) {
				_ = r.reloadLocked() // on failure the set in use stays
			}
			r.mu.Unlock()
		}
	}
	return r.set.Load()
}

// Reload reads the folder again (a rotation by another process).
func (r *Ring) Reload() error {
	if r.dir == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadLocked()
}

// reloadLocked reads the key set from the folder; r.mu is held. The
// modification time is taken before reading, so a rotation while reading
// is noticed by the next use (a first key created here is too, harmlessly).
func (r *Ring) reloadLocked() error {
	var mod time.Time
	if fi, err := os.Stat(r.dir); err == nil {
		mod = fi.ModTime()
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("signing: keys in %s: %w", r.dir, err)
	}
	ks, err := LoadOrCreate(r.dir)
	if err != nil {
		return fmt.Errorf("signing: keys in %s: %w", r.dir, err)
	}
	r.set.Store(ks)
	r.modTime, r.lastReload = mod, time.Now()
	return nil
}

// Knows reports whether kid is in the set, reading the folder again when
// it changed, or (at most every reloadEvery) when kid is unknown.
func (r *Ring) Knows(kid string) bool {
	if _, ok := r.Set().Lookup(kid); ok {
		return true
	}
	if r.dir == "" {
		return false
	}
	r.mu.Lock()
	due := time.Since(r.lastReload) >= reloadEvery
	if due {
		_ = r.reloadLocked()
	}
	r.mu.Unlock()
	if !due {
		return false
	}
	_, ok := r.set.Load().Lookup(kid)
	return ok
}

// Sign signs claims with the current key (see KeySet.Sign).
func (r *Ring) Sign(claims jwt.Claims) (string, error) { return r.Set().Sign(claims) }

// Verify checks a token against the set as it is now on disk (see
// KeySet.Verify): a key added by a rotation elsewhere is found, a key
// dropped is refused.
func (r *Ring) Verify(token string, claims jwt.Claims, opts ...jwt.ParserOption) error {
	if kid, ok := tokenKid(token); ok {
		r.Knows(kid)
	}
	return r.Set().Verify(token, claims, opts...)
}

// tokenKid reads the "kid" of a compact JWS header without verifying it.
func tokenKid(token string) (string, bool) {
	t, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		return "", false
	}
	kid, ok := t.Header["kid"].(string)
	return kid, ok
}
