package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bacninh/thuvienso/lock"
	"github.com/bsm/redislock"
	goredis "github.com/redis/go-redis/v9"
)

// Locker is the Redis lock.Locker, built on github.com/bsm/redislock: a lock
// is a key under "<prefix>lock:" holding a random token with a PX expiry;
// release and refresh are scripts that act only while the key still holds
// the lease's own token.
type Locker struct {
	rl     *redislock.Client
	prefix string
}

var _ lock.Locker = (*Locker)(nil)

func newLocker(rdb *goredis.Client, prefix string) *Locker {
	return &Locker{rl: redislock.New(rdb), prefix: prefix}
}

// TryObtain takes the lock named key for ttl (at least a millisecond), or
// returns lock.ErrNotObtained. It does not wait for the lock to be free.
func (l *Locker) TryObtain(ctx context.Context, key string, ttl time.Duration) (lock.Lease, error) {
	if ttl < time.Millisecond {
		return nil, fmt.Errorf("redis: lock obtain %q: ttl must be at least 1ms, got %v", key, ttl)
	}
	lk, err := l.rl.Obtain(ctx, l.prefix+key, ttl, nil) // nil options: no retry
	if errors.Is(err, redislock.ErrNotObtained) {
		return nil, lock.ErrNotObtained
	}
	if err != nil {
		return nil, fmt.Errorf("redis: lock obtain %q: %w", key, err)
	}
	return &lease{lk: lk, key: key}, nil
}

type lease struct {
	lk  *redislock.Lock
	key string
}

// Refresh extends the lease to ttl from now, or returns lock.ErrLost.
func (l *lease) Refresh(ctx context.Context, ttl time.Duration) error {
	if ttl < time.Millisecond {
		return fmt.Errorf("redis: lock refresh %q: ttl must be at least 1ms, got %v", l.key, ttl)
	}
	err := l.lk.Refresh(ctx, ttl, nil)
	if errors.Is(err, redislock.ErrNotObtained) {
		return lock.ErrLost
	}
	if err != nil {
		return fmt.Errorf("redis: lock refresh %q: %w", l.key, err)
	}
	return nil
}

// Release gives the lock up, or returns lock.ErrLost.
func (l *lease) Release(ctx context.Context) error {
	err := l.lk.Release(ctx)
	if errors.Is(err, redislock.ErrLockNotHeld) {
		return lock.ErrLost
	}
	if err != nil {
		return fmt.Errorf("redis: lock release %q: %w", l.key, err)
	}
	return nil
}
