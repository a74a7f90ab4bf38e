// Package cachetest is the behavioural suite every cache.Cache must pass. The
// in-process cache runs it in package cache, the Redis cache in package redis.
package cachetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/cache"
)

// Run runs the suite; newCache returns an empty cache whose keys no other
// test uses (it is called once per subtest, and subtests run in parallel).
func Run(t *testing.T, newCache func(t *testing.T) cache.Cache) {
	t.Helper()
	ctx := context.Background()

	t.Run("GetMissing", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		v, ok, err := c.Get(ctx, "missing")
		if err != nil || ok || v != nil {
			t.Fatalf("Get(missing) = %q, %v, %v; want nil, false, nil", v, ok, err)
		}
	})

	t.Run("SetGetOverwrite", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		in := []byte("Truyện Kiều")
		mustSet(t, c, "k", in, time.Minute)
		in[0] = 'X' // the cache keeps its own copy
		wantGet(t, c, "k", "Truyện Kiều")
		mustSet(t, c, "k", []byte("Nhật ký trong tù"), time.Minute)
		wantGet(t, c, "k", "Nhật ký trong tù")
		mustSet(t, c, "empty", []byte{}, time.Minute)
		wantGet(t, c, "empty", "")
	})

	t.Run("TTLExpiresByWallClock", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		mustSet(t, c, "short", []byte("v"), 300*time.Millisecond)
		mustSet(t, c, "long", []byte("v"), time.Minute)
		wantGet(t, c, "short", "v")
		time.Sleep(700 * time.Millisecond)
		if _, ok, err := c.Get(ctx, "short"); err != nil || ok {
			t.Fatalf("Get(short) after its ttl = %v, %v; want a miss", ok, err)
		}
		wantGet(t, c, "long", "v")
	})

	t.Run("SetRejectsNonPositiveTTL", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		if err := c.Set(ctx, "k", []byte("v"), 0); err == nil {
			t.Fatal("Set with ttl 0 succeeded; want an error")
		}
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		mustSet(t, c, "a", []byte("1"), time.Minute)
		mustSet(t, c, "b", []byte("2"), time.Minute)
		mustSet(t, c, "c", []byte("3"), time.Minute)
		if err := c.Delete(ctx, "a", "b", "never-set"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if err := c.Delete(ctx); err != nil {
			t.Fatalf("Delete(): %v", err)
		}
		for _, k := range []string{"a", "b"} {
			if _, ok, err := c.Get(ctx, k); err != nil || ok {
				t.Fatalf("Get(%s) after Delete = %v, %v; want a miss", k, ok, err)
			}
		}
		wantGet(t, c, "c", "3")
	})

	t.Run("Incr", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		for want := int64(1); want <= 3; want++ {
			if n, err := c.Incr(ctx, "ver"); err != nil || n != want {
				t.Fatalf("Incr = %d, %v; want %d", n, err, want)
			}
		}
		wantGet(t, c, "ver", "3")
		mustSet(t, c, "set", []byte("41"), time.Minute)
		if n, err := c.Incr(ctx, "set"); err != nil || n != 42 {
			t.Fatalf("Incr after Set 41 = %d, %v; want 42", n, err)
		}
		mustSet(t, c, "text", []byte("sách"), time.Minute)
		if _, err := c.Incr(ctx, "text"); err == nil {
			t.Fatal("Incr of a non-integer succeeded; want an error")
		}
	})

	t.Run("IncrKeepsTTL", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		mustSet(t, c, "n", []byte("1"), 300*time.Millisecond)
		if n, err := c.Incr(ctx, "n"); err != nil || n != 2 {
			t.Fatalf("Incr = %d, %v; want 2", n, err)
		}
		time.Sleep(700 * time.Millisecond)
		if _, ok, err := c.Get(ctx, "n"); err != nil || ok {
			t.Fatalf("Get after ttl = %v, %v; want a miss", ok, err)
		}
		if n, err := c.Incr(ctx, "n"); err != nil || n != 1 {
			t.Fatalf("Incr after expiry = %d, %v; want 1", n, err)
		}
	})

	t.Run("ConcurrentIncr", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		const workers, each = 10, 20
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Go(func() {
				for range each {
					if _, err := c.Incr(ctx, "hits"); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := errors.Join(slicesOf(errs)...); err != nil {
			t.Fatal(err)
		}
		wantGet(t, c, "hits", fmt.Sprint(workers*each))
	})
}

func slicesOf(ch <-chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}

func mustSet(t *testing.T, c cache.Cache, key string, v []byte, ttl time.Duration) {
	t.Helper()
	if err := c.Set(context.Background(), key, v, ttl); err != nil {
		t.Fatalf("Set(%s): %v", key, err)
	}
}

func wantGet(t *testing.T, c cache.Cache, key, want string) {
	t.Helper()
	v, ok, err := c.Get(context.Background(), key)
	if err != nil || !ok || string(v) != want {
		t.Fatalf("Get(%s) = %q, %v, %v; want %q, true, nil", key, v, ok, err, want)
	}
}
