// Package pubsub defines the broker that carries events between server
// instances (GraphQL subscriptions, index and cache invalidation), and its
// in-process implementation. The Redis implementation is in package redis.
//
// Delivery is at most once and best effort: durable facts live in the store,
// and a subscriber that falls behind loses messages rather than blocking the
// publisher.
package pubsub

import "context"

// Broker publishes and subscribes to byte messages on named topics.
type Broker interface {
	// Publish sends msg to every current subscriber of topic.
	Publish(ctx context.Context, topic string, msg []byte) error
	// Subscribe returns a channel of messages on topic. The channel is
	// closed when ctx ends; messages that do not fit its buffer are dropped.
	Subscribe(ctx context.Context, topic string) (<-chan []byte, error)
}
