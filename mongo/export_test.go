package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/bacninh/thuvienso/card"
)

// InterruptReplacement does what CardStore.ReplaceCard does and stops as a
// process that died would: after staging next (backdated by stagedAgo),
// and, when won, after marking the old card LOST too, before promoting.
func InterruptReplacement(ctx context.Context, cs card.Store, oldNumber string, next *card.Card, at time.Time,
	won bool, stagedAgo time.Duration) error {
	s := cs.(*CardStore)
	staged, err := s.stage(ctx, oldNumber, next)
	if err != nil {
		return err
	}
	if stagedAgo > 0 {
		when := bson.DateTime(staged.StagedAt.Time().Add(-stagedAgo).UnixMilli())
		if _, err := s.cards.UpdateOne(ctx, byID(next.Number), bson.D{{Key: "$set", Value: bson.D{{Key: "stagedAt", Value: when}}}}); err != nil {
			return err
		}
	}
	if !won {
		return nil
	}
	return s.win(ctx, oldNumber, next.Number, at)
}
