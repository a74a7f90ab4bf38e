package resolvers

import (
	"context"

	"github.com/bacninh/thuvienso/pubsub"
)

// follow subscribes to a topic of announced IDs (see app's announcing
// stores) and sends what load makes of each, until ctx ends (the client
// unsubscribed or the connection closed). An ID that no longer loads, or
// that the subscriber may not see, is skipped.
func follow[T any](ctx context.Context, b pubsub.Broker, topic string, load func(ctx context.Context, id string) (T, error)) (<-chan T, error) {
	msgs, err := b.Subscribe(ctx, topic)
	if err != nil {
		return nil, err
	}
	out := make(chan T, 1)
	go func() {
		defer close(out)
		for m := range msgs {
			v, err := load(ctx, string(m))
			if err != nil {
				continue
			}
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
