package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	neturl "net/url"
	"os"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/cache"
	"github.com/bacninh/thuvienso/cache/cachetest"
	"github.com/bacninh/thuvienso/lock"
	"github.com/bacninh/thuvienso/lock/locktest"
	"github.com/bacninh/thuvienso/pubsub"
	"github.com/bacninh/thuvienso/pubsub/pubsubtest"
	"github.com/bacninh/thuvienso/ratelimit"
	"github.com/bacninh/thuvienso/ratelimit/ratelimittest"
	"github.com/bacninh/thuvienso/redis"
	goredis "github.com/redis/go-redis/v9"
)

// testURL returns TEST_REDIS_URL or skips the test.
func testURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		t.Skip("TEST_REDIS_URL is not set (scripts/test starts a redis-server and sets it)")
	}
	return url
}

// openTest opens a client on TEST_REDIS_URL under a prefix of its own, and
// deletes that prefix's keys when the test ends. Its timeouts are generous:
// the suites test behaviour, on a test machine that may be busy with other
// packages' tests; the production defaults are tested by TestOutageAndRecovery.
func openTest(t *testing.T, opts ...redis.Option) *redis.Client {
	t.Helper()
	return openAt(t, withQuery(t, testURL(t), "dial_timeout", "3s", "read_timeout", "3s",
		"write_timeout", "3s", "pool_timeout", "3s"), opts...)
}

// withQuery sets query parameters on a Redis URL unless it has them already.
func withQuery(t *testing.T, raw string, kv ...string) string {
	t.Helper()
	u, err := neturl.Parse(raw)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		if !q.Has(kv[i]) {
			q.Set(kv[i], kv[i+1])
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func openAt(t *testing.T, url string, opts ...redis.Option) *redis.Client {
	t.Helper()
	prefix := "tvstest:" + randomHex(6) + ":"
	c, err := redis.Open(t.Context(), url, append([]redis.Option{redis.WithPrefix(prefix), redis.WithSubscriberBuffer(32)}, opts...)...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		cleanPrefix(ctx, url, prefix)
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func cleanPrefix(ctx context.Context, url, prefix string) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return
	}
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func TestContractCache(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		testURL(t)
		cachetest.Run(t, func(t *testing.T) cache.Cache { return openTest(t).Cache() })
	})
}

func TestContractLimiter(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		testURL(t)
		ratelimittest.Run(t, func(t *testing.T) ratelimit.Limiter { return openTest(t).Limiter() })
	})
}

func TestContractLocker(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		testURL(t)
		locktest.Run(t, func(t *testing.T) lock.Locker { return openTest(t).Locker() })
	})
}

func TestContractBroker(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		testURL(t)
		pubsubtest.Run(t, func(t *testing.T) pubsub.Broker { return openTest(t).Broker() })
	})
}

// Two clients stand for two server instances: a message published by one
// reaches subscribers of the other, and a lock held by one is refused to the
// other.
func TestAcrossInstances(t *testing.T) {
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
	ctx := t.Context()

	ch, err := b.Broker().Subscribe(ctx, "work:changed")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Broker().Publish(ctx, "work:changed", []byte("w1")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-ch:
		if string(m) != "w1" {
			t.Fatalf("got %q; want w1", m)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("message from the other instance not delivered")
	}

	lease, err := a.Locker().TryObtain(ctx, "scheduler", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Locker().TryObtain(ctx, "scheduler", 5*time.Second); err != lock.ErrNotObtained {
		t.Fatalf("second instance's TryObtain = %v; want ErrNotObtained", err)
	}
	if err := lease.Release(ctx); err != nil {
		t.Fatal(err)
	}

	lim := ratelimit.Limit{Burst: 2, Period: time.Minute}
	for _, c := range []*redis.Client{a, b} {
		if d, err := c.Limiter().Allow(ctx, "ip:203.0.113.7", lim); err != nil || !d.Allowed {
			t.Fatalf("Allow = %+v, %v", d, err)
		}
	}
	if d, err := b.Limiter().Allow(ctx, "ip:203.0.113.7", lim); err != nil || d.Allowed {
		t.Fatalf("third Allow across instances = %+v, %v; want refused: the limit is shared", d, err)
	}
}

// The broker holds one Redis subscription per topic, dropped after the last
// local subscriber leaves.
func TestBrokerSharesOneRedisSubscriptionPerTopic(t *testing.T) {
	url := withQuery(t, testURL(t), "read_timeout", "3s", "write_timeout", "3s")
	prefix := "tvstest:" + randomHex(6) + ":"
	c, err := redis.Open(t.Context(), url, redis.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opt, _ := goredis.ParseURL(url)
	admin := goredis.NewClient(opt)
	defer admin.Close()
	numsub := func() int64 {
		n, err := admin.PubSubNumSub(t.Context(), prefix+"ps:holds").Result()
		if err != nil {
			t.Fatal(err)
		}
		return n[prefix+"ps:holds"]
	}

	ctx, cancel := context.WithCancel(t.Context())
	for range 5 {
		if _, err := c.Broker().Subscribe(ctx, "holds"); err != nil {
			t.Fatal(err)
		}
	}
	if n := numsub(); n != 1 {
		t.Fatalf("5 local subscribers hold %d Redis subscriptions; want 1", n)
	}
	cancel()
	deadline := time.Now().Add(3 * time.Second)
	for numsub() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := numsub(); n != 0 {
		t.Fatalf("%d Redis subscriptions left after every subscriber left; want 0", n)
	}
}

func TestOpenRejectsBadURL(t *testing.T) {
	if _, err := redis.Open(context.Background(), "http://example.invalid"); err == nil {
		t.Fatal("Open with an http URL succeeded; want an error")
	}
}
