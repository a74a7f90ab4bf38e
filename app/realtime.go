package app

import (
	"context"
	"log/slog"

	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/ebooks"
	"github.com/bacninh/thuvienso/pubsub"
)

// The stores below announce every stored change of a hold on its reader's
// topic, whichever code path made it (a reader's mutation, a librarian's
// check-in, the expiry pass on another instance), so the holdUpdated and
// ebookHoldUpdated subscriptions need no help from the domains. The
// broker is Redis when several instances run. Announcing is best effort:
// the hold is stored either way, and an app that missed one reads it again.

// announcingEbookStore announces e-book hold changes.
type announcingEbookStore struct {
	ebooks.Store
	broker pubsub.Broker
	log    *slog.Logger
}

// CreateHold implements ebooks.Store.
func (s announcingEbookStore) CreateHold(ctx context.Context, h *ebooks.Hold) error {
	err := s.Store.CreateHold(ctx, h)
	if err == nil {
		announce(ctx, s.broker, s.log, ebooks.HoldTopic(h.ReaderID), h.ID)
	}
	return err
}

// UpdateHold implements ebooks.Store.
func (s announcingEbookStore) UpdateHold(ctx context.Context, h *ebooks.Hold) error {
	err := s.Store.UpdateHold(ctx, h)
	if err == nil {
		announce(ctx, s.broker, s.log, ebooks.HoldTopic(h.ReaderID), h.ID)
	}
	return err
}

// announcingCirculationStore announces hold changes of physical copies.
type announcingCirculationStore struct {
	circulation.Store
	broker pubsub.Broker
	log    *slog.Logger
}

// CreateHold implements circulation.Store.
func (s announcingCirculationStore) CreateHold(ctx context.Context, h *circulation.Hold) error {
	err := s.Store.CreateHold(ctx, h)
	if err == nil {
		announce(ctx, s.broker, s.log, circulation.HoldTopic(h.ReaderID), h.ID)
	}
	return err
}

// UpdateHold implements circulation.Store.
func (s announcingCirculationStore) UpdateHold(ctx context.Context, h *circulation.Hold) error {
	err := s.Store.UpdateHold(ctx, h)
	if err == nil {
		announce(ctx, s.broker, s.log, circulation.HoldTopic(h.ReaderID), h.ID)
	}
	return err
}

func announce(ctx context.Context, b pubsub.Broker, log *slog.Logger, topic, id string) {
	if err := b.Publish(context.WithoutCancel(ctx), topic, []byte(id)); err != nil {
		log.Warn("announcing a hold change failed", "topic", topic, "err", err)
	}
}
