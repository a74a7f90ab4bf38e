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

func TestMemoryKeepsWithinItsByteBound(t *testing.T) {
	ctx := context.Background()
	c := cache.NewMemorySized(100, 1000) // room for about three 300-byte values
	value := make([]byte, 300)
	for i := range 5 {
		if err := c.Set(ctx, fmt.Sprint(i), value, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Len(); n != 3 {
		t.Fatalf("Len = %d after five 300-byte values under a 1000-byte bound; want 3", n)
	}
	for i, want := range []bool{false, false, true, true, true} {
		if _, ok, _ := c.Get(ctx, fmt.Sprint(i)); ok != want {
			t.Errorf("%d cached = %v; want %v (the least recently used go first)", i, ok, want)
		}
	}
	// Replacing a value counts its new size only; one larger than the
	// whole bound is not kept, and takes no other entry with it.
	if err := c.Set(ctx, "4", []byte("small"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "huge", make([]byte, 2000), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.Get(ctx, "huge"); ok {
		t.Error("a value larger than the bound was kept")
	}
	if n := c.Len(); n != 3 {
		t.Errorf("Len = %d; want 3", n)
	}
	if err := c.Set(ctx, "5", value, time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := c.Len(); n != 4 { // 300+300+5+300 bytes and keys fit
		t.Errorf("Len = %d after replacing a value with a smaller one; want 4", n)
	}
}
