package cache_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/cache"
	"github.com/bacninh/thuvienso/cache/cachetest"
)

func TestContractCache(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		cachetest.Run(t, func(*testing.T) cache.Cache { return cache.NewMemory(1000) })
	})
}

func TestMemoryEvictsLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	c := cache.NewMemory(3)
	for i := range 3 {
		if err := c.Set(ctx, fmt.Sprint(i), []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := c.Get(ctx, "0"); !ok { // 0 is now the most recently used
		t.Fatal("0 missing before eviction")
	}
	if err := c.Set(ctx, "3", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.Get(ctx, "1"); ok {
		t.Error("1 still cached; want it evicted as least recently used")
	}
	if _, ok, _ := c.Get(ctx, "0"); !ok {
		t.Error("0 evicted; want it kept")
	}
	if n := c.Len(); n != 3 {
		t.Errorf("Len = %d; want 3", n)
	}
}
