package pubsub_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/pubsub"
	"github.com/bacninh/thuvienso/pubsub/pubsubtest"
)

func TestContractBroker(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		pubsubtest.Run(t, func(t *testing.T) pubsub.Broker {
			b := pubsub.NewMemory(16)
			t.Cleanup(func() { _ = b.Close() })
			return b
		})
	})
}

func TestMemorySubscriptionsCostNoGoroutine(t *testing.T) {
	b := pubsub.NewMemory(4)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	for range 100 {
		if _, err := b.Subscribe(ctx, "t"); err != nil {
			t.Fatal(err)
		}
	}
	if n := runtime.NumGoroutine(); n > before+5 {
		t.Fatalf("%d goroutines for 100 subscriptions (was %d)", n, before)
	}
	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for b.Subscribers("t") > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := b.Subscribers("t"); n != 0 {
		t.Fatalf("%d subscribers left after their context ended", n)
	}
}

func TestMemoryClose(t *testing.T) {
	b := pubsub.NewMemory(4)
	ch, err := b.Subscribe(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch; ok {
		t.Fatal("channel open after Close")
	}
	if err := b.Publish(context.Background(), "t", nil); !errors.Is(err, pubsub.ErrClosed) {
		t.Fatalf("Publish after Close = %v; want ErrClosed", err)
	}
}
