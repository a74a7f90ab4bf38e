package auth

import (
	"sync"
	"time"
)

// verifiedTokens remembers, for a short while, the access tokens whose
// signature and claims were checked, so that an app sending the same token
// with every request costs one signature check every verifiedTokenTTL
// rather than one a request (an Ed25519 verification and two JSON parses:
// 7% of the server's CPU under the load test). The session is still read
// for every request, so a logout ends a token at once.
//
// The cost: a signing key removed from KEYS_DIR stops verifying the tokens
// an instance has already seen within verifiedTokenTTL rather than at once.
type verifiedTokens struct {
	mu      sync.Mutex
	entries map[string]verifiedToken
}

type verifiedToken struct {
	claims accessClaims
	// until is when the token must be checked again: verifiedTokenTTL
	// after the check, or when the token expires if sooner.
	until time.Time
}

const (
	// verifiedTokenTTL bounds how long a checked token is trusted.
	verifiedTokenTTL = 30 * time.Second
	// maxVerifiedTokens bounds the memory: about one entry per reader
	// active in the last verifiedTokenTTL.
	maxVerifiedTokens = 50_000
)

// get returns the claims of token if it was checked and is still trusted
// at now.
func (v *verifiedTokens) get(token string, now time.Time) (accessClaims, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.entries[token]
	if !ok || !now.Before(e.until) {
		return accessClaims{}, false
	}
	return e.claims, true
}

// put remembers that token checked out with claims at now, trusted until
// expires (its expiry, leeway included) at the latest.
func (v *verifiedTokens) put(token string, c accessClaims, now, expires time.Time) {
	until := now.Add(verifiedTokenTTL)
	if expires.Before(until) {
		until = expires
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.entries == nil {
		v.entries = map[string]verifiedToken{}
	}
	if len(v.entries) >= maxVerifiedTokens {
		// Drop what is no longer trusted; if all of it is, drop it all:
		// the next requests check their tokens again.
		for k, e := range v.entries {
			if !now.Before(e.until) {
				delete(v.entries, k)
			}
		}
		if len(v.entries) >= maxVerifiedTokens {
			clear(v.entries)
		}
	}
	v.entries[token] = verifiedToken{claims: c, until: until}
}
