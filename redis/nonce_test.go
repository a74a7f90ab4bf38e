package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/nonce/noncetest"
	"github.com/bacninh/thuvienso/redis"
)

func TestContractNonces(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		testURL(t)
		noncetest.Run(t, openTest(t).Nonces())
	})
}

// A nonce claimed through one instance is refused through another.
func TestNoncesAcrossInstances(t *testing.T) {
	url := withQuery(t, testURL(t), "read_timeout", "3s", "write_timeout", "3s")
	prefix := "tvstest:" + randomHex(6) + ":"
	open := func() *redis.Client {
		c, err := redis.Open(t.Context(), url, redis.WithPrefix(prefix))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	a, b := open(), open()
	t.Cleanup(func() { cleanPrefix(context.Background(), url, prefix) })
	if first, err := a.Nonces().Claim(t.Context(), "card:x", time.Minute); err != nil || !first {
		t.Fatalf("claim through the first instance = %v, %v", first, err)
	}
	if again, err := b.FallbackNonces(100).Claim(t.Context(), "card:x", time.Minute); err != nil || again {
		t.Fatalf("claim through the second instance = %v, %v; want refused", again, err)
	}
}
