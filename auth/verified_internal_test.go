package auth

import (
	"strconv"
	"testing"
	"time"
)

// The remembered tokens stay within their bound, and a token is trusted
// no longer than its expiry or verifiedTokenTTL.
func TestVerifiedTokensAreBoundedAndExpire(t *testing.T) {
	var v verifiedTokens
	now := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	for i := range maxVerifiedTokens + 10 {
		v.put("token-"+strconv.Itoa(i), accessClaims{SessionID: strconv.Itoa(i)}, now, now.Add(time.Hour))
	}
	if n := len(v.entries); n > maxVerifiedTokens {
		t.Errorf("%d tokens remembered, bound %d", n, maxVerifiedTokens)
	}
	last := "token-" + strconv.Itoa(maxVerifiedTokens+9)
	if c, ok := v.get(last, now); !ok || c.SessionID != strconv.Itoa(maxVerifiedTokens+9) {
		t.Errorf("the last token put: %+v, %v", c, ok)
	}
	if _, ok := v.get(last, now.Add(verifiedTokenTTL)); ok {
		t.Error("a token trusted past verifiedTokenTTL")
	}
	v.put("short", accessClaims{}, now, now.Add(time.Second))
	if _, ok := v.get("short", now.Add(2*time.Second)); ok {
		t.Error("a token trusted past its expiry")
	}
}
