// Package locktest is the behavioural suite every lock.Locker must pass. The
// in-process locker runs it in package lock, the Redis locker in package
// redis.
package locktest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/lock"
)

// Run runs the suite; newLocker returns a locker whose lock names no other
// test uses (it is called once per subtest, and subtests run in parallel).
func Run(t *testing.T, newLocker func(t *testing.T) lock.Locker) {
	t.Helper()
	ctx := context.Background()

	t.Run("OnlyOneOf20Obtains", func(t *testing.T) {
		t.Parallel()
		l := newLocker(t)
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			leases []lock.Lease
			others []error
		)
		start := make(chan struct{})
		for range 20 {
			wg.Go(func() {
				<-start
				lease, err := l.TryObtain(ctx, "scheduler", 10*time.Second)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					leases = append(leases, lease)
				} else {
					others = append(others, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(leases) != 1 {
			t.Fatalf("%d of 20 goroutines obtained the lock; want 1", len(leases))
		}
		for _, err := range others {
			if !errors.Is(err, lock.ErrNotObtained) {
				t.Fatalf("losing TryObtain returned %v; want ErrNotObtained", err)
			}
		}
		if err := leases[0].Release(ctx); err != nil {
			t.Fatalf("Release: %v", err)
		}
		if err := leases[0].Release(ctx); !errors.Is(err, lock.ErrLost) {
			t.Fatalf("second Release = %v; want ErrLost", err)
		}
		lease := obtain(t, l, "scheduler", time.Second)
		_ = lease.Release(ctx)
	})

	t.Run("ExpiryFreesAndStaleLeaseIsLost", func(t *testing.T) {
		t.Parallel()
		l := newLocker(t)
		stale := obtain(t, l, "harvest", 200*time.Millisecond)
		if _, err := l.TryObtain(ctx, "harvest", time.Second); !errors.Is(err, lock.ErrNotObtained) {
			t.Fatalf("TryObtain while held = %v; want ErrNotObtained", err)
		}
		time.Sleep(400 * time.Millisecond)
		fresh := obtain(t, l, "harvest", 5*time.Second) // expiry freed it
		if err := stale.Release(ctx); !errors.Is(err, lock.ErrLost) {
			t.Fatalf("Release by the stale lease = %v; want ErrLost", err)
		}
		if err := stale.Refresh(ctx, time.Minute); !errors.Is(err, lock.ErrLost) {
			t.Fatalf("Refresh by the stale lease = %v; want ErrLost", err)
		}
		if _, err := l.TryObtain(ctx, "harvest", time.Second); !errors.Is(err, lock.ErrNotObtained) {
			t.Fatalf("stale Release freed the new holder's lock: TryObtain = %v", err)
		}
		if err := fresh.Release(ctx); err != nil {
			t.Fatalf("Release by the holder: %v", err)
		}
	})

	t.Run("ExpiredLeaseIsLostEvenUnclaimed", func(t *testing.T) {
		t.Parallel()
		l := newLocker(t)
		lease := obtain(t, l, "reminders", 150*time.Millisecond)
		time.Sleep(350 * time.Millisecond)
		if err := lease.Refresh(ctx, time.Second); !errors.Is(err, lock.ErrLost) {
			t.Fatalf("Refresh after expiry = %v; want ErrLost", err)
		}
	})

	t.Run("RefreshExtends", func(t *testing.T) {
		t.Parallel()
		l := newLocker(t)
		lease := obtain(t, l, "reindex", 300*time.Millisecond)
		time.Sleep(150 * time.Millisecond)
		if err := lease.Refresh(ctx, 2*time.Second); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		time.Sleep(400 * time.Millisecond) // past the first ttl
		if _, err := l.TryObtain(ctx, "reindex", time.Second); !errors.Is(err, lock.ErrNotObtained) {
			t.Fatalf("TryObtain after Refresh = %v; want ErrNotObtained", err)
		}
		if err := lease.Release(ctx); err != nil {
			t.Fatalf("Release after Refresh: %v", err)
		}
		_ = obtain(t, l, "reindex", time.Second).Release(ctx)
	})

	t.Run("NamesAreIndependent", func(t *testing.T) {
		t.Parallel()
		l := newLocker(t)
		a := obtain(t, l, "a", time.Second)
		b := obtain(t, l, "b", time.Second)
		_ = a.Release(ctx)
		_ = b.Release(ctx)
	})
}

func obtain(t *testing.T, l lock.Locker, key string, ttl time.Duration) lock.Lease {
	t.Helper()
	lease, err := l.TryObtain(context.Background(), key, ttl)
	if err != nil {
		t.Fatalf("TryObtain(%s): %v", key, err)
	}
	return lease
}
