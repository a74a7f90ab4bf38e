package ratelimit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/ratelimit"
	"github.com/bacninh/thuvienso/ratelimit/ratelimittest"
)

func TestContractLimiter(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		ratelimittest.Run(t, func(*testing.T) ratelimit.Limiter { return ratelimit.NewMemory(1000) })
	})
	t.Run("fallback-over-healthy-memory", func(t *testing.T) {
		ratelimittest.Run(t, func(*testing.T) ratelimit.Limiter {
			return ratelimit.Fallback(ratelimit.NewMemory(1000), ratelimit.NewMemory(1000), slog.Default())
		})
	})
	t.Run("fallback-over-failing-primary", func(t *testing.T) {
		ratelimittest.Run(t, func(*testing.T) ratelimit.Limiter {
			return ratelimit.Fallback(&failing{}, ratelimit.NewMemory(1000), slog.New(slog.DiscardHandler))
		})
	})
}

func TestMemoryBoundsKeys(t *testing.T) {
	ctx := context.Background()
	l := ratelimit.NewMemory(2)
	lim := ratelimit.Limit{Burst: 1, Period: time.Minute}
	for _, k := range []string{"a", "b", "c"} { // c pushes a out
		if d, _ := l.Allow(ctx, k, lim); !d.Allowed {
			t.Fatalf("first Allow(%s) refused", k)
		}
	}
	if d, _ := l.Allow(ctx, "c", lim); d.Allowed {
		t.Fatal("second Allow(c) allowed; want refused")
	}
	if d, _ := l.Allow(ctx, "a", lim); !d.Allowed {
		t.Fatal("Allow(a) after eviction refused; want the evicted key forgotten")
	}
}

// failing is a Limiter whose store is down until up is set.
type failing struct {
	up    atomic.Bool
	calls atomic.Int64
	mem   *ratelimit.Memory
}

var errDown = errors.New("connection refused")

func (f *failing) Allow(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Decision, error) {
	f.calls.Add(1)
	if !f.up.Load() {
		return ratelimit.Decision{}, errDown
	}
	return f.mem.Allow(ctx, key, l)
}

func (f *failing) AllowN(ctx context.Context, key string, l ratelimit.Limit, n int) (ratelimit.Decision, error) {
	f.calls.Add(1)
	if !f.up.Load() {
		return ratelimit.Decision{}, errDown
	}
	return f.mem.AllowN(ctx, key, l, n)
}

func (f *failing) Check(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Decision, error) {
	f.calls.Add(1)
	if !f.up.Load() {
		return ratelimit.Decision{}, errDown
	}
	return f.mem.Check(ctx, key, l)
}

func (f *failing) Reset(ctx context.Context, key string) error {
	f.calls.Add(1)
	if !f.up.Load() {
		return errDown
	}
	return f.mem.Reset(ctx, key)
}

func TestFallbackLogsOncePerOutageAndRecovers(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	primary := &failing{mem: ratelimit.NewMemory(10)}
	l := ratelimit.Fallback(primary, ratelimit.NewMemory(10), slog.New(slog.NewTextHandler(&logs, nil)))
	lim := ratelimit.Limit{Burst: 100, Period: time.Minute}

	for range 50 {
		if d, err := l.Allow(ctx, "k", lim); err != nil || !d.Allowed {
			t.Fatalf("Allow during outage = %+v, %v; want allowed from the secondary", d, err)
		}
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Fatalf("%d warnings during one outage; want 1:\n%s", n, logs.String())
	}
	if n := primary.calls.Load(); n != 1 {
		t.Errorf("primary called %d times within one probe interval; want 1", n)
	}

	primary.up.Store(true)
	time.Sleep(ratelimit.FallbackProbeInterval + 50*time.Millisecond)
	if d, err := l.Allow(ctx, "k", lim); err != nil || d.Remaining != 99 {
		t.Fatalf("Allow after recovery = %+v, %v; want the primary's answer (99 remaining)", d, err)
	}
	if !strings.Contains(logs.String(), "answering again") {
		t.Errorf("no recovery log:\n%s", logs.String())
	}

	// A cancelled caller is not an outage.
	primary.up.Store(false)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Allow(cctx, "k", lim); !errors.Is(err, errDown) {
		t.Fatalf("Allow with a cancelled context = %v; want the primary's error", err)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("a cancelled call logged an outage:\n%s", logs.String())
	}
}
