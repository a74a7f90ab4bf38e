package search

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/bacninh/thuvienso/cache"
	"github.com/bacninh/thuvienso/vietnamese"
)

// Cached answers searches from a cache when it can. The key is the
// normalised request plus the index's watermark (the catalog change
// sequence it reflects): every catalog or availability change moves the
// watermark, so a cached page never outlives the data it was computed
// from, and there is nothing to invalidate. Cache failures are misses: with
// Redis down, searches are answered uncached.
type Cached struct {
	Index *Index
	Cache cache.Cache
	// TTL bounds how long an entry lives (default 10 minutes); entries of
	// an old watermark are never read again and expire.
	TTL time.Duration

	hits, misses atomic.Uint64
}

// CacheStats counts cache lookups since start, for /metrics.
func (c *Cached) CacheStats() (hits, misses uint64) {
	return c.hits.Load(), c.misses.Load()
}

// Search is Index.Search through the cache.
func (c *Cached) Search(ctx context.Context, req Request) (*Result, error) {
	key, ok := c.key("s", req)
	if ok {
		if raw, found, err := c.Cache.Get(ctx, key); err == nil && found {
			var res Result
			if json.Unmarshal(raw, &res) == nil {
				c.hits.Add(1)
				return &res, nil
			}
		}
	}
	c.misses.Add(1)
	res, err := c.Index.Search(ctx, req)
	if err != nil || !ok {
		return res, err
	}
	if raw, err := json.Marshal(res); err == nil {
		_ = c.Cache.Set(ctx, key, raw, c.ttl())
	}
	return res, nil
}

// Suggest is Index.Suggest through the cache.
func (c *Cached) Suggest(ctx context.Context, prefix string, n int) ([]Suggestion, error) {
	key, ok := c.key("g", struct {
		P string
		N int
	}{vietnamese.Fold(prefix), n})
	if ok {
		if raw, found, err := c.Cache.Get(ctx, key); err == nil && found {
			var out []Suggestion
			if json.Unmarshal(raw, &out) == nil {
				c.hits.Add(1)
				return out, nil
			}
		}
	}
	c.misses.Add(1)
	out, err := c.Index.Suggest(ctx, prefix, n)
	if err != nil || !ok {
		return out, err
	}
	if raw, err := json.Marshal(out); err == nil {
		_ = c.Cache.Set(ctx, key, raw, c.ttl())
	}
	return out, nil
}

func (c *Cached) ttl() time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return 10 * time.Minute
}

// key returns the cache key of a request at the current watermark; ok is
// false when the watermark cannot be read (then the cache is bypassed).
func (c *Cached) key(kind string, req any) (string, bool) {
	w, err := c.Index.Watermark()
	if err != nil {
		return "", false
	}
	if r, isReq := req.(Request); isReq {
		// Queries that differ only by case, tone placement or Unicode form
		// are one search.
		r.Query = vietnamese.Key(r.Query)
		req = r
	}
	raw, err := json.Marshal(req)
	if err != nil {
		return "", false
	}
	sum := sha256.Sum256(raw)
	return "search:" + kind + ":" + strconv.FormatInt(w, 10) + ":" + hex.EncodeToString(sum[:16]), true
}
