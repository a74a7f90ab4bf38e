// Package noncetest is the behavioural suite every nonce.Store passes:
// the in-process one, the fallback, and Redis against a real redis-server.
package noncetest

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/nonce"
)

// Run runs the suite against s. Keys are random, so s may be shared.
func Run(t *testing.T, s nonce.Store) {
	key := func() string {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		return "noncetest:" + hex.EncodeToString(b)
	}
	t.Run("FirstClaimOnly", func(t *testing.T) {
		k := key()
		for i, want := range []bool{true, false, false} {
			got, err := s.Claim(t.Context(), k, time.Minute)
			if err != nil || got != want {
				t.Fatalf("claim %d = %v, %v; want %v", i+1, got, err, want)
			}
		}
		if got, err := s.Claim(t.Context(), key(), time.Minute); err != nil || !got {
			t.Fatalf("another key = %v, %v; want first", got, err)
		}
	})
	t.Run("ClaimableAgainAfterTTL", func(t *testing.T) {
		k := key()
		if got, err := s.Claim(t.Context(), k, 150*time.Millisecond); err != nil || !got {
			t.Fatalf("first claim = %v, %v", got, err)
		}
		time.Sleep(400 * time.Millisecond)
		if got, err := s.Claim(t.Context(), k, time.Minute); err != nil || !got {
			t.Fatalf("claim after the TTL = %v, %v; want first", got, err)
		}
	})
	t.Run("ConcurrentClaimsOneWinner", func(t *testing.T) {
		k := key()
		const n = 32
		var wins atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				got, err := s.Claim(t.Context(), k, time.Minute)
				if err != nil {
					t.Error(err)
				}
				if got {
					wins.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d of %d concurrent claims were first, want 1", wins.Load(), n)
		}
	})
}
