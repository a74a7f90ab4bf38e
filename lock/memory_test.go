package lock_test

import (
	"testing"

	"github.com/bacninh/thuvienso/lock"
	"github.com/bacninh/thuvienso/lock/locktest"
)

func TestContractLocker(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		locktest.Run(t, func(*testing.T) lock.Locker { return lock.NewMemory() })
	})
}
