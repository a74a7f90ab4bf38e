package pubsub

import (
	"context"
	"errors"
	"sync"
)

// DefaultBuffer is the per-subscriber channel buffer used when none is given.
const DefaultBuffer = 64

// ErrClosed is returned by a closed Broker.
var ErrClosed = errors.New("pubsub: broker closed")

// Memory is the in-process Broker: it fans each message out to every
// subscriber of the topic in this process. Each subscriber has its own
// buffered channel; a message that does not fit is dropped for that
// subscriber only, so Publish never blocks. A subscription costs no
// goroutine: the channel is closed by a context.AfterFunc when its context
// ends, or by Close.
//
// The Redis broker in package redis uses a Memory for its local fan-out.
type Memory struct {
	buffer int

	mu     sync.RWMutex
	topics map[string]map[*subscriber]struct{}
	closed bool
}

type subscriber struct {
	ch   chan []byte
	stop func() bool // stops the context.AfterFunc
}

var _ Broker = (*Memory)(nil)

// NewMemory returns an in-process Broker whose subscribers each buffer up to
// buffer messages (buffer <= 0 means DefaultBuffer).
func NewMemory(buffer int) *Memory {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	return &Memory{buffer: buffer, topics: make(map[string]map[*subscriber]struct{})}
}

// Publish delivers msg to every current subscriber of topic whose buffer has
// room, and drops it for the others. Subscribers share msg: they must not
// modify it.
func (m *Memory) Publish(_ context.Context, topic string, msg []byte) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	for s := range m.topics[topic] {
		select {
		case s.ch <- msg:
		default: // slow subscriber: drop
		}
	}
	return nil
}

// Subscribe returns a channel of messages on topic, closed when ctx ends or
// the broker is closed.
func (m *Memory) Subscribe(ctx context.Context, topic string) (<-chan []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := &subscriber{ch: make(chan []byte, m.buffer)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	subs := m.topics[topic]
	if subs == nil {
		subs = make(map[*subscriber]struct{})
		m.topics[topic] = subs
	}
	subs[s] = struct{}{}
	s.stop = context.AfterFunc(ctx, func() { m.unsubscribe(topic, s) })
	return s.ch, nil
}

// Subscribers reports how many subscriptions topic has in this process.
func (m *Memory) Subscribers(topic string) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.topics[topic])
}

// Close closes every subscriber's channel; later calls fail with ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed = true
	for topic, subs := range m.topics {
		for s := range subs {
			s.stop()
			close(s.ch)
		}
		delete(m.topics, topic)
	}
	return nil
}

func (m *Memory) unsubscribe(topic string, s *subscriber) {
	m.mu.Lock()
	defer m.mu.Unlock()
	subs := m.topics[topic]
	if _, ok := subs[s]; !ok {
		return // already closed by Close
	}
	delete(subs, s)
	if len(subs) == 0 {
		delete(m.topics, topic)
	}
	close(s.ch)
}
