package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/bacninh/thuvienso/nonce"
)

// Nonces is the Redis nonce.Store shared by every instance: one key per
// nonce under "<prefix>nonce:", written with SET NX PX so that the first
// claim wins atomically and the key expires with Redis' wall clock when
// the nonce can no longer be presented. Wrap it with nonce.Fallback (or use
// Client.FallbackNonces) so that an outage degrades the check to this
// instance instead of failing verifications.
type Nonces struct {
	c      *Client
	prefix string
}

var _ nonce.Store = (*Nonces)(nil)

// Nonces returns the Redis nonce store.
func (c *Client) Nonces() *Nonces { return &Nonces{c: c, prefix: c.opts.prefix + "nonce:"} }

// FallbackNonces returns Nonces wrapped in nonce.Fallback over an
// in-process store of at most maxKeys keys, logging to the client's logger.
func (c *Client) FallbackNonces(maxKeys int) nonce.Store {
	return nonce.Fallback(c.Nonces(), nonce.NewMemory(maxKeys), c.opts.logger)
}

// Claim implements nonce.Store.
func (n *Nonces) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl < time.Millisecond {
		ttl = time.Millisecond
	}
	ok, err := n.c.rdb.SetNX(ctx, n.prefix+key, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redis: claim nonce: %w", err)
	}
	return ok, nil
}
