package redis_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/ratelimit"
	"github.com/bacninh/thuvienso/redis"
	"github.com/bacninh/thuvienso/redis/redistest"
)

// TestOutageAndRecovery runs its own redis-server, kills it while a client
// is in use, checks that everything degrades fast instead of failing the
// caller, restarts Redis on the same port and checks that the same client
// recovers: cache, pub/sub subscription, rate limiter.
func TestOutageAndRecovery(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()

	var logs syncBuffer
	c := openAt(t, url, redis.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	ctx := t.Context()
	cc, lim, br := c.Cache(), c.FallbackLimiter(1000), c.Broker()
	sub, err := br.Subscribe(ctx, "loans")
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	if err := cc.Set(ctx, "page", []byte("v1"), time.Minute); err != nil {
		t.Fatalf("Set before the outage: %v", err)
	}
	if err := br.Publish(ctx, "loans", []byte("before")); err != nil {
		t.Fatalf("Publish before the outage: %v", err)
	}
	expectMessage(t, sub, "before", 3*time.Second)

	// Outage.
	srv.Stop()
	for i := range 3 {
		fast(t, fmt.Sprintf("Get #%d", i), func() error { _, _, err := cc.Get(ctx, "page"); return err })
		fast(t, fmt.Sprintf("Set #%d", i), func() error { return cc.Set(ctx, "page", []byte("v2"), time.Minute) })
		fast(t, fmt.Sprintf("Incr #%d", i), func() error { _, err := cc.Incr(ctx, "ver"); return err })
		fast(t, fmt.Sprintf("Delete #%d", i), func() error { return cc.Delete(ctx, "page") })
		fast(t, fmt.Sprintf("Publish #%d", i), func() error { return br.Publish(ctx, "loans", []byte("lost")) })
	}
	start := time.Now()
	if c.Healthy(ctx) {
		t.Fatal("Healthy during the outage")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Healthy took %v during the outage; want < 1s", d)
	}
	limit := ratelimit.Limit{Burst: 5, Period: time.Minute}
	start = time.Now()
	for i := range 8 {
		d, err := lim.Allow(ctx, "ip:198.51.100.1", limit)
		if err != nil {
			t.Fatalf("Fallback limiter Allow #%d during the outage: %v", i+1, err)
		}
		if d.Allowed != (i < limit.Burst) {
			t.Fatalf("Fallback limiter Allow #%d during the outage = %+v; want the in-process limit applied", i+1, d)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("8 limiter calls took %v during the outage; want < 1s", d)
	}
	if n := strings.Count(logs.String(), "rate limiter: shared store failing"); n != 1 {
		t.Fatalf("outage logged %d times by the limiter; want once:\n%s", n, logs.String())
	}

	// Recovery, with the same client.
	srv.Restart()
	eventually(t, "cache works again", 10*time.Second, func() error {
		if err := cc.Set(ctx, "page", []byte("v3"), time.Minute); err != nil {
			return err
		}
		v, ok, err := cc.Get(ctx, "page")
		if err != nil || !ok || string(v) != "v3" {
			return fmt.Errorf("Get = %q, %v, %v", v, ok, err)
		}
		return nil
	})
	if !c.Healthy(ctx) {
		t.Fatal("not Healthy after Redis came back")
	}
	eventually(t, "the old subscription delivers again", 10*time.Second, func() error {
		if err := br.Publish(ctx, "loans", []byte("after")); err != nil {
			return err
		}
		select {
		case m, ok := <-sub:
			if !ok {
				return fmt.Errorf("subscription channel closed")
			}
			if string(m) != "after" {
				return fmt.Errorf("got %q", m)
			}
			return nil
		case <-time.After(200 * time.Millisecond):
			return fmt.Errorf("no message yet")
		}
	})
	time.Sleep(ratelimit.FallbackProbeInterval + 100*time.Millisecond)
	d, err := lim.Allow(ctx, "ip:198.51.100.2", limit)
	if err != nil || !d.Allowed || d.Remaining != limit.Burst-1 {
		t.Fatalf("limiter after recovery = %+v, %v", d, err)
	}
	if !strings.Contains(logs.String(), "rate limiter: shared store answering again") {
		t.Fatalf("limiter recovery not logged:\n%s", logs.String())
	}
	if n, err := c.Limiter().Check(ctx, "ip:198.51.100.2", limit); err != nil || n.Remaining != limit.Burst-1 {
		t.Fatalf("the recovered call did not reach Redis: Check = %+v, %v", n, err)
	}

	// A hung Redis (accepting connections, never answering) fails calls by
	// the read timeout (DefaultIOTimeout), still under a second.
	if err := srv.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	fast(t, "Get from a hung Redis", func() error { _, _, err := cc.Get(ctx, "page"); return err })
	fast(t, "Incr on a hung Redis", func() error { _, err := cc.Incr(ctx, "ver"); return err })
	if err := srv.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	eventually(t, "cache works after the hang", 10*time.Second, func() error {
		_, _, err := cc.Get(ctx, "page")
		return err
	})
}

// fast runs op, which must fail, in under a second.
func fast(t *testing.T, name string, op func() error) {
	t.Helper()
	start := time.Now()
	err := op()
	d := time.Since(start)
	t.Logf("%s failed in %v: %v", name, d, err)
	if err == nil {
		t.Fatalf("%s succeeded with Redis down", name)
	}
	if d > time.Second {
		t.Fatalf("%s took %v to fail with Redis down; want < 1s (%v)", name, d, err)
	}
}

func eventually(t *testing.T, what string, within time.Duration, try func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := try()
		if err == nil {
			t.Logf("%s after %v", what, time.Until(deadline.Add(-within)).Abs())
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func expectMessage(t *testing.T, ch <-chan []byte, want string, within time.Duration) {
	t.Helper()
	select {
	case m := <-ch:
		if string(m) != want {
			t.Fatalf("got %q; want %q", m, want)
		}
	case <-time.After(within):
		t.Fatalf("no message %q within %v", want, within)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
