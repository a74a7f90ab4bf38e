// Package lock defines the lease lock that lets only one server instance do
// a piece of periodic work at a time (the scheduler), and its in-process
// implementation. The Redis implementation is in package redis.
package lock

import (
	"context"
	"errors"
	"time"
)

// ErrNotObtained is returned by TryObtain when someone else holds the lock.
var ErrNotObtained = errors.New("lock: not obtained")

// ErrLost is returned by Refresh and Release when the lease has expired or
// passed to another holder: the caller must stop the guarded work.
var ErrLost = errors.New("lock: lease lost")

// Locker hands out leases on named locks.
type Locker interface {
	// TryObtain takes the lock named key for ttl, or returns ErrNotObtained.
	TryObtain(ctx context.Context, key string, ttl time.Duration) (Lease, error)
}

// Lease is a held lock. Release and Refresh check the lease's own token, so a
// holder whose lease expired can never release or extend someone else's.
type Lease interface {
	// Refresh extends the lease to ttl from now, or returns ErrLost.
	Refresh(ctx context.Context, ttl time.Duration) error
	// Release gives the lock up; ErrLost if it had already passed on.
	Release(ctx context.Context) error
}
