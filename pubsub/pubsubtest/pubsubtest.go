// Package pubsubtest is the behavioural suite every pubsub.Broker must pass.
// The in-process broker runs it in package pubsub, the Redis broker in
// package redis.
package pubsubtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/pubsub"
)

// Run runs the suite; newBroker returns a broker whose topics no other test
// uses (it is called once per subtest, and subtests run in parallel). Its
// subscribers must buffer fewer than 1000 messages.
func Run(t *testing.T, newBroker func(t *testing.T) pubsub.Broker) {
	t.Helper()

	t.Run("FanOutToTwoSubscribers", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		ctx := t.Context()
		a := subscribe(t, b, ctx, "loans")
		c := subscribe(t, b, ctx, "loans")
		other := subscribe(t, b, ctx, "holds")
		publish(t, b, "loans", "copy 42 lent")
		publish(t, b, "loans", "copy 43 lent")
		for _, ch := range []<-chan []byte{a, c} {
			want(t, ch, "copy 42 lent")
			want(t, ch, "copy 43 lent")
		}
		select {
		case m := <-other:
			t.Fatalf("subscriber of another topic got %q", m)
		case <-time.After(200 * time.Millisecond):
		}
	})

	t.Run("PublishWithoutSubscribers", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		publish(t, b, "nobody", "x")
	})

	t.Run("SlowSubscriberDroppedNotBlocking", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		ctx := t.Context()
		slow := subscribe(t, b, ctx, "burst") // never read until the end
		fast := subscribe(t, b, ctx, "burst")
		const n = 1000
		got := make(chan int)
		go func() {
			count := 0
			for m := range fast {
				count++
				if string(m) == "end" {
					break
				}
			}
			got <- count
		}()
		start := time.Now()
		for i := range n {
			publish(t, b, "burst", fmt.Sprint(i))
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("publishing %d messages took %v; a slow subscriber must not block", n, d)
		}
		// The fast reader is not held back by the slow one; it may itself
		// miss some of a burst, but the marker sent after it arrives.
		deadline := time.After(5 * time.Second)
		for {
			publish(t, b, "burst", "end")
			select {
			case count := <-got:
				if count == 0 {
					t.Fatal("fast subscriber got nothing")
				}
				if held := len(slow); held == 0 || held >= n {
					t.Fatalf("slow subscriber holds %d messages; want some dropped (fewer than %d) and some kept", held, n)
				}
				return
			case <-deadline:
				t.Fatal("fast subscriber never got the end marker")
			case <-time.After(100 * time.Millisecond):
			}
		}
	})

	t.Run("UnsubscribeOnContextEnd", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		ctx, cancel := context.WithCancel(t.Context())
		ch := subscribe(t, b, ctx, "ending")
		stay := subscribe(t, b, t.Context(), "ending")
		cancel()
		timeout := time.After(2 * time.Second)
		for closed := false; !closed; {
			select {
			case _, ok := <-ch:
				closed = !ok
			case <-timeout:
				t.Fatal("channel not closed after its context ended")
			}
		}
		publish(t, b, "ending", "still here")
		want(t, stay, "still here")
	})

	t.Run("SubscribeWithEndedContext", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if ch, err := b.Subscribe(ctx, "late"); err == nil {
			// Allowed only if the channel is closed at once.
			select {
			case _, ok := <-ch:
				if ok {
					t.Fatal("got a message on a subscription whose context had ended")
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Subscribe with an ended context returned an open channel")
			}
		}
	})
}

func subscribe(t *testing.T, b pubsub.Broker, ctx context.Context, topic string) <-chan []byte {
	t.Helper()
	ch, err := b.Subscribe(ctx, topic)
	if err != nil {
		t.Fatalf("Subscribe(%s): %v", topic, err)
	}
	return ch
}

func publish(t *testing.T, b pubsub.Broker, topic, msg string) {
	t.Helper()
	if err := b.Publish(context.Background(), topic, []byte(msg)); err != nil {
		t.Fatalf("Publish(%s): %v", topic, err)
	}
}

func want(t *testing.T, ch <-chan []byte, msg string) {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatalf("channel closed; want %q", msg)
		}
		if string(m) != msg {
			t.Fatalf("got %q; want %q", m, msg)
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("no message; want %q", msg)
	}
}
