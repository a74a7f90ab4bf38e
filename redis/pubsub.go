package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bacninh/thuvienso/pubsub"
	goredis "github.com/redis/go-redis/v9"
)

// SubscribeTimeout bounds how long Subscribe waits for Redis to confirm a
// new channel subscription.
const SubscribeTimeout = 2 * time.Second

// Broker is the Redis pubsub.Broker. Topics are channels named
// "<prefix>ps:<topic>". The process keeps one Redis subscription per topic,
// whatever the number of local subscribers, on one dedicated connection; a
// dispatcher goroutine hands each message to an in-process pubsub.Memory
// that fans it out, dropping it for subscribers whose buffer is full.
//
// go-redis reconnects that connection and resubscribes every topic after
// Redis restarts or the connection breaks (it also pings it every few
// seconds to notice a silent failure). Messages published while the
// connection is down are lost: delivery is best effort.
type Broker struct {
	rdb    *goredis.Client
	prefix string
	log    *slog.Logger
	local  *pubsub.Memory
	ps     *goredis.PubSub
	done   chan struct{} // closed when the dispatcher has stopped

	mu     sync.Mutex
	topics map[string]*topic
	closed bool
}

// topic is this process' Redis subscription to one channel.
type topic struct {
	refs      int           // local subscribers
	ready     chan struct{} // closed when Redis confirmed the subscription
	confirmed bool
}

var _ pubsub.Broker = (*Broker)(nil)

func newBroker(rdb *goredis.Client, o options) *Broker {
	b := &Broker{
		rdb:    rdb,
		prefix: o.prefix + "ps:",
		log:    o.logger,
		local:  pubsub.NewMemory(o.subBuffer),
		ps:     rdb.Subscribe(context.Background()),
		done:   make(chan struct{}),
		topics: make(map[string]*topic),
	}
	msgs := b.ps.ChannelWithSubscriptions(
		goredis.WithChannelSize(1024),
		goredis.WithChannelHealthCheckInterval(3*time.Second),
		goredis.WithChannelSendTimeout(time.Second),
	)
	go b.dispatch(msgs)
	return b
}

// dispatch runs until the go-redis PubSub is closed.
func (b *Broker) dispatch(msgs <-chan any) {
	defer close(b.done)
	for m := range msgs {
		switch m := m.(type) {
		case *goredis.Message:
			name, ok := strings.CutPrefix(m.Channel, b.prefix)
			if !ok {
				continue
			}
			// Never blocks: Memory drops for full subscribers.
			_ = b.local.Publish(context.Background(), name, []byte(m.Payload))
		case *goredis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			name, _ := strings.CutPrefix(m.Channel, b.prefix)
			b.mu.Lock()
			if t := b.topics[name]; t != nil && !t.confirmed {
				t.confirmed = true
				close(t.ready)
			}
			b.mu.Unlock()
		}
	}
}

// Publish sends msg to every subscriber of topic in every instance.
func (b *Broker) Publish(ctx context.Context, topic string, msg []byte) error {
	if err := b.rdb.Publish(ctx, b.prefix+topic, msg).Err(); err != nil {
		return fmt.Errorf("redis: publish to %q: %w", topic, err)
	}
	return nil
}

// Subscribe returns a channel of messages on topic, closed when ctx ends or
// the client is closed. When this process had no subscriber of topic yet, it
// subscribes in Redis and waits (up to SubscribeTimeout) for Redis to
// confirm, so that every message published after Subscribe returns is
// delivered. It fails when Redis does not confirm.
func (b *Broker) Subscribe(ctx context.Context, topic string) (<-chan []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ready, err := b.acquire(ctx, topic)
	if err != nil {
		return nil, err
	}
	wait := time.NewTimer(SubscribeTimeout)
	defer wait.Stop()
	select {
	case <-ready:
	case <-ctx.Done():
		b.release(topic)
		return nil, ctx.Err()
	case <-wait.C:
		b.release(topic)
		return nil, fmt.Errorf("redis: subscribe to %q: not confirmed within %v", topic, SubscribeTimeout)
	}
	ch, err := b.local.Subscribe(ctx, topic)
	if err != nil {
		b.release(topic)
		if errors.Is(err, pubsub.ErrClosed) {
			return nil, err
		}
		return nil, fmt.Errorf("redis: subscribe to %q: %w", topic, err)
	}
	context.AfterFunc(ctx, func() { b.release(topic) })
	return ch, nil
}

// acquire counts one more local subscriber of topic, subscribing in Redis
// for the first, and returns the channel closed on Redis' confirmation.
func (b *Broker) acquire(ctx context.Context, name string) (<-chan struct{}, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, pubsub.ErrClosed
	}
	t := b.topics[name]
	if t == nil {
		t = &topic{ready: make(chan struct{})}
		b.topics[name] = t
		if err := b.ps.Subscribe(ctx, b.prefix+name); err != nil {
			delete(b.topics, name)
			b.unsubscribeLocked(name)
			return nil, fmt.Errorf("redis: subscribe to %q: %w", name, err)
		}
	}
	t.refs++
	return t.ready, nil
}

// release counts one local subscriber of topic less, unsubscribing in Redis
// after the last.
func (b *Broker) release(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.topics[name]
	if t == nil {
		return
	}
	if t.refs--; t.refs > 0 {
		return
	}
	delete(b.topics, name)
	if !b.closed {
		b.unsubscribeLocked(name)
	}
}

// unsubscribeLocked drops the Redis subscription; b.mu is held. go-redis
// forgets the channel even when Redis cannot be told, so it is not
// resubscribed after a reconnect.
func (b *Broker) unsubscribeLocked(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), SubscribeTimeout)
	defer cancel()
	if err := b.ps.Unsubscribe(ctx, b.prefix+name); err != nil {
		b.log.Debug("redis: unsubscribe failed", "topic", name, "err", err)
	}
}

// Subscribers reports how many subscriptions topic has in this process.
func (b *Broker) Subscribers(topic string) int { return b.local.Subscribers(topic) }

func (b *Broker) close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	_ = b.local.Close()
	err := b.ps.Close()
	<-b.done
	if err != nil {
		return fmt.Errorf("redis: close pubsub: %w", err)
	}
	return nil
}
