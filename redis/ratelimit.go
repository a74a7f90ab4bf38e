package redis

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/bacninh/thuvienso/ratelimit"
	goredis "github.com/redis/go-redis/v9"
)

// gcra is the generic cell rate algorithm in one atomic script, the same
// computation as ratelimit.Memory: per key one value, the theoretical
// arrival time (TAT) in milliseconds of Redis' clock. n events are allowed
// when TAT + n×interval − tolerance ≤ now; recording moves TAT on by
// n×interval. With ARGV[3] = "0" (Check) nothing is written.
//
// KEYS[1] key; ARGV[1] interval ms (Period/Burst); ARGV[2] tolerance ms
// (Period); ARGV[3] "1" to record allowed events; ARGV[4] n (default 1).
// Returns {allowed 0|1, remaining, retry-after ms as a string}.
//
// We do not use github.com/go-redis/redis_rate (v10.0.1) here. Measured
// against redis-server 7.0 with a limit of 3 per 3s: AllowN(n=0) consumes
// nothing and its Remaining is right (3 fresh, 0 when exhausted), but its
// Allowed is the number of events allowed, always 0 for n=0, and its
// RetryAfter stays -1 when the key is exhausted (Allow then says ≈1s), so a
// Check could not report when to retry; it also forces its own "rate:" in
// front of our key prefix.
var gcra = goredis.NewScript(`
local key = KEYS[1]
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local record = ARGV[3] == "1"
local cost = interval * (tonumber(ARGV[4]) or 1)
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call("GET", key) or "0") or 0
if tat < now then tat = now end
local allow_at = tat + cost - tolerance
if allow_at > now then
  return {0, 0, string.format("%.6f", allow_at - now)}
end
if record then
  tat = tat + cost
  redis.call("SET", key, string.format("%.3f", tat), "PX", math.max(1, math.ceil(tat - now)))
end
return {1, math.floor((now - tat + tolerance) / interval + 1e-9), "0"}
`)

// Limiter is the Redis ratelimit.Limiter: a GCRA per key under the prefix
// "<prefix>rate:", shared by every instance and timed by Redis' clock.
type Limiter struct {
	rdb    *goredis.Client
	prefix string
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// Allow records one event under key if it fits within l.
func (r *Limiter) Allow(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Decision, error) {
	return r.run(ctx, key, l, 1, true)
}

// AllowN records n events under key if all of them fit within l.
func (r *Limiter) AllowN(ctx context.Context, key string, l ratelimit.Limit, n int) (ratelimit.Decision, error) {
	return r.run(ctx, key, l, n, true)
}

// Check reports whether one more event under key would fit, writing nothing.
func (r *Limiter) Check(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Decision, error) {
	return r.run(ctx, key, l, 1, false)
}

// Reset forgets every event under key.
func (r *Limiter) Reset(ctx context.Context, key string) error {
	if err := r.rdb.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("redis: rate limit reset %q: %w", key, err)
	}
	return nil
}

func (r *Limiter) run(ctx context.Context, key string, l ratelimit.Limit, n int, record bool) (ratelimit.Decision, error) {
	if err := l.ValidateN(n); err != nil {
		return ratelimit.Decision{}, fmt.Errorf("redis: rate limit %q: %w", key, err)
	}
	flag := "0"
	if record {
		flag = "1"
	}
	interval := float64(l.Period) / float64(l.Burst) / float64(time.Millisecond)
	tolerance := float64(l.Period) / float64(time.Millisecond)
	res, err := gcra.Run(ctx, r.rdb, []string{r.prefix + key},
		strconv.FormatFloat(interval, 'f', -1, 64), strconv.FormatFloat(tolerance, 'f', -1, 64), flag, strconv.Itoa(n)).Slice()
	if err != nil {
		return ratelimit.Decision{}, fmt.Errorf("redis: rate limit %q: %w", key, err)
	}
	d, err := decision(res)
	if err != nil {
		return ratelimit.Decision{}, fmt.Errorf("redis: rate limit %q: %w", key, err)
	}
	return d, nil
}

func decision(res []any) (ratelimit.Decision, error) {
	if len(res) != 3 {
		return ratelimit.Decision{}, fmt.Errorf("unexpected script reply %v", res)
	}
	allowed, ok1 := res[0].(int64)
	remaining, ok2 := res[1].(int64)
	retry, ok3 := res[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return ratelimit.Decision{}, fmt.Errorf("unexpected script reply %v", res)
	}
	ms, err := strconv.ParseFloat(retry, 64)
	if err != nil {
		return ratelimit.Decision{}, fmt.Errorf("unexpected retry-after %q: %w", retry, err)
	}
	return ratelimit.Decision{
		Allowed:    allowed == 1,
		Remaining:  int(remaining),
		RetryAfter: time.Duration(math.Ceil(ms * float64(time.Millisecond))),
	}, nil
}
