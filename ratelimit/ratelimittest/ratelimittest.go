// Package ratelimittest is the behavioural suite every ratelimit.Limiter
// must pass. The in-process limiter runs it in package ratelimit, the Redis
// limiter in package redis.
package ratelimittest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/ratelimit"
)

// Run runs the suite; newLimiter returns a limiter whose keys no other test
// uses (it is called once per subtest, and subtests run in parallel).
func Run(t *testing.T, newLimiter func(t *testing.T) ratelimit.Limiter) {
	t.Helper()
	ctx := context.Background()
	// One event per second, three at once: slow enough that the bucket does
	// not refill noticeably while a subtest runs.
	three := ratelimit.Limit{Burst: 3, Period: 3 * time.Second}

	t.Run("BurstThenRefuse", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		for i := range three.Burst {
			d := allow(t, l, "reader:1", three)
			if !d.Allowed || d.Remaining != three.Burst-1-i || d.RetryAfter != 0 {
				t.Fatalf("Allow #%d = %+v; want allowed with %d remaining", i+1, d, three.Burst-1-i)
			}
		}
		d := allow(t, l, "reader:1", three)
		if d.Allowed || d.Remaining != 0 || d.RetryAfter <= 0 || d.RetryAfter > time.Second {
			t.Fatalf("Allow past burst = %+v; want refused, 0 remaining, 0 < RetryAfter <= 1s", d)
		}
		// A refused event is not recorded: the wait does not grow.
		d2 := allow(t, l, "reader:1", three)
		if d2.Allowed || d2.RetryAfter > d.RetryAfter {
			t.Fatalf("second refused Allow = %+v; want refused with RetryAfter <= %v", d2, d.RetryAfter)
		}
		// Other keys are independent.
		if d := allow(t, l, "reader:2", three); !d.Allowed || d.Remaining != 2 {
			t.Fatalf("Allow on another key = %+v; want allowed with 2 remaining", d)
		}
	})

	t.Run("CheckDoesNotConsume", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		for range 10 {
			d := check(t, l, "ip:1", three)
			if !d.Allowed || d.Remaining != three.Burst || d.RetryAfter != 0 {
				t.Fatalf("Check on a fresh key = %+v; want allowed with %d remaining", d, three.Burst)
			}
		}
		for i := range three.Burst {
			if d := allow(t, l, "ip:1", three); !d.Allowed {
				t.Fatalf("Allow #%d after Checks refused: %+v", i+1, d)
			}
			if d := check(t, l, "ip:1", three); d.Allowed != (i < three.Burst-1) || d.Remaining != three.Burst-1-i {
				t.Fatalf("Check after %d Allows = %+v; want %d remaining", i+1, d, three.Burst-1-i)
			}
		}
		d := check(t, l, "ip:1", three)
		if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > time.Second {
			t.Fatalf("Check when exhausted = %+v; want refused with 0 < RetryAfter <= 1s", d)
		}
	})

	t.Run("Refills", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		fast := ratelimit.Limit{Burst: 2, Period: 400 * time.Millisecond}
		allow(t, l, "k", fast)
		allow(t, l, "k", fast)
		d := allow(t, l, "k", fast)
		if d.Allowed {
			t.Fatalf("third Allow = %+v; want refused", d)
		}
		time.Sleep(d.RetryAfter + 50*time.Millisecond)
		if d := allow(t, l, "k", fast); !d.Allowed {
			t.Fatalf("Allow after RetryAfter = %+v; want allowed", d)
		}
	})

	t.Run("Reset", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		for range three.Burst + 1 {
			allow(t, l, "login:an@example.vn", three)
		}
		if err := l.Reset(ctx, "login:an@example.vn"); err != nil {
			t.Fatalf("Reset: %v", err)
		}
		if d := allow(t, l, "login:an@example.vn", three); !d.Allowed || d.Remaining != three.Burst-1 {
			t.Fatalf("Allow after Reset = %+v; want allowed with %d remaining", d, three.Burst-1)
		}
		if err := l.Reset(ctx, "never-used"); err != nil {
			t.Fatalf("Reset of an unused key: %v", err)
		}
	})

	t.Run("ConcurrentAllowsRespectBurst", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		lim := ratelimit.Limit{Burst: 10, Period: time.Minute}
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				for range 5 {
					d, err := l.Allow(ctx, "hot", lim)
					if err != nil {
						t.Error(err)
						return
					}
					if d.Allowed {
						allowed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if n := allowed.Load(); n != int64(lim.Burst) {
			t.Fatalf("%d of 100 concurrent events allowed; want exactly %d", n, lim.Burst)
		}
	})

	t.Run("CostlyEventCountsAsSeveral", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		d, err := l.AllowN(ctx, "mutations", three, 2)
		if err != nil || !d.Allowed || d.Remaining != 1 {
			t.Fatalf("AllowN(2) on a fresh key = %+v, %v; want allowed with 1 remaining", d, err)
		}
		// Two more do not fit, and nothing is recorded: one still does.
		d, err = l.AllowN(ctx, "mutations", three, 2)
		if err != nil || d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > time.Second {
			t.Fatalf("AllowN(2) with 1 left = %+v, %v; want refused with 0 < RetryAfter <= 1s", d, err)
		}
		if d := allow(t, l, "mutations", three); !d.Allowed || d.Remaining != 0 {
			t.Fatalf("Allow after a refused AllowN = %+v; want allowed with 0 remaining", d)
		}
		for _, n := range []int{0, three.Burst + 1} {
			if _, err := l.AllowN(ctx, "other", three, n); err == nil {
				t.Errorf("AllowN(%d) within a burst of %d succeeded; want an error", n, three.Burst)
			}
		}
	})

	t.Run("InvalidLimit", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		if _, err := l.Allow(ctx, "k", ratelimit.Limit{}); err == nil {
			t.Fatal("Allow with a zero Limit succeeded; want an error")
		}
	})
}

func allow(t *testing.T, l ratelimit.Limiter, key string, lim ratelimit.Limit) ratelimit.Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, lim)
	if err != nil {
		t.Fatalf("Allow(%s): %v", key, err)
	}
	return d
}

func check(t *testing.T, l ratelimit.Limiter, key string, lim ratelimit.Limit) ratelimit.Decision {
	t.Helper()
	d, err := l.Check(context.Background(), key, lim)
	if err != nil {
		t.Fatalf("Check(%s): %v", key, err)
	}
	return d
}
