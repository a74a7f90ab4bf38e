package catalog

import (
	"context"
	"fmt"
	"time"
)

// DefaultGrace is how long a Follower waits for a missing sequence number
// before it treats it as an allocation whose write failed.
const DefaultGrace = 2 * time.Second

// Follower decides how far a reader of the change sequence (a search index
// on one server instance) may advance without ever skipping a change.
//
// Why gaps happen: on MongoDB a writer allocates sequence numbers from an
// atomic counter ($inc through FindOneAndUpdate) and then inserts its
// changes; writers on several instances commit out of order, so a reader
// may see seq 7 before seq 6 is written. (SQLite serialises writers, so its
// sequence has no gaps, but the rule costs nothing there.) A number may
// also never be written: the writer died or failed after allocating it.
//
// The rule: changes are handled in Seq order up to the first gap. A gap
// stops the follower until it has been seen, on this follower's own clock,
// for Grace; after that it is skipped, taken for an allocation whose write
// failed. The clock is the follower's, not the writers' At, so clock skew
// between instances does not matter. Writers insert a change right after
// allocating it (one round trip), so a Grace of a few seconds is ample; a
// change that arrives after its gap was skipped is lost to this follower
// (the work is re-read on its next change or at the next reindex).
type Follower struct {
	// After is the watermark: every change with Seq ≤ After is handled.
	After int64
	// Grace is how long a gap holds the follower back (DefaultGrace when 0).
	Grace time.Duration

	gapAt    int64     // the first missing seq of the gap being waited on
	gapSince time.Time // when that gap was first seen
}

// Next takes changes read with Seq > f.After, in Seq order, and returns
// the ones to handle now and the watermark to store in f.After once they
// are handled. It does not change f.After itself.
func (f *Follower) Next(changes []Change, now time.Time) (ready []Change, watermark int64) {
	grace := f.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	w := f.After
	for _, c := range changes {
		if c.Seq <= w {
			continue // a duplicate or an old change
		}
		if c.Seq != w+1 {
			if f.gapAt != w+1 {
				f.gapAt, f.gapSince = w+1, now
			}
			if now.Sub(f.gapSince) < grace {
				return ready, w
			}
			// An old gap: an allocation whose write failed. Skip it.
		}
		w = c.Seq
		ready = append(ready, c)
	}
	return ready, w
}

// ChangeReader is the part of Store a follower needs.
type ChangeReader interface {
	Changes(ctx context.Context, afterSeq int64, limit int) ([]Change, error)
}

// Follow polls s every poll interval and calls fn with each run of
// changes that f allows (Seq order, possibly several changes of one work),
// advancing f.After after fn returns nil, until ctx ends or fn fails. It
// reads at most limit changes per call (1000 when ≤ 0).
func Follow(ctx context.Context, s ChangeReader, f *Follower, poll time.Duration, limit int, fn func(context.Context, []Change) error) error {
	if limit <= 0 {
		limit = 1000
	}
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		for {
			cs, err := s.Changes(ctx, f.After, limit)
			if err != nil {
				return fmt.Errorf("following changes after %d: %w", f.After, err)
			}
			ready, w := f.Next(cs, time.Now())
			if len(ready) > 0 {
				if err := fn(ctx, ready); err != nil {
					return fmt.Errorf("handling changes %d..%d: %w", ready[0].Seq, ready[len(ready)-1].Seq, err)
				}
			}
			advanced := w > f.After
			f.After = w
			if !advanced || len(cs) < limit {
				break
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
