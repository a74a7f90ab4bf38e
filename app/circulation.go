package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/lock"
)

// CirculationInterval is how often the circulation expiry pass runs: an
// uncollected hold expires, and its copy moves on, within this of its
// pickup deadline (the end of a day).
const CirculationInterval = time.Minute

// openCirculation builds physical circulation on the store, with the
// cards (for the expired-card block), the app's clock, and the lending
// rules of Config.CirculationRules when set (a file that cannot be read or
// is wrong stops the start, with every reason).
func (a *App) openCirculation() error {
	opts := []circulation.Option{circulation.WithCards(a.Stores.Cards), circulation.WithClock(a.now),
		circulation.WithLogger(a.Logger)}
	if path := a.Config.CirculationRules; path != "" {
		rules, err := circulation.LoadRules(path)
		if err != nil {
			return err
		}
		opts = append(opts, circulation.WithRules(rules))
		a.Logger.Info("circulation rules loaded", "path", path)
	}
	a.Circulation = circulation.NewService(announcingCirculationStore{a.Stores.Circulation, a.Broker, a.Logger}, a.Stores.Events, a.Stores.Catalog, a.Stores.Auth,
		a.Stores.Libraries, opts...)
	return nil
}

// startCirculationExpiry runs the circulation expiry pass every
// CirculationInterval until Close. Every instance runs the loop, but a pass
// runs only under the lock (the leader), so one instance works at a time;
// the pass is idempotent besides, so a lost lease costs only duplicate reads.
func (a *App) startCirculationExpiry() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	a.closers = append(a.closers, func(context.Context) error { cancel(); <-done; return nil })
	go func() {
		defer close(done)
		t := time.NewTicker(CirculationInterval)
		defer t.Stop()
		for {
			a.runCirculationExpiry(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// runCirculationExpiry runs one pass if this instance gets the lock.
func (a *App) runCirculationExpiry(ctx context.Context) {
	lease, err := a.Locker.TryObtain(ctx, "circulation:expiry", expiryLockTTL)
	if errors.Is(err, lock.ErrNotObtained) || ctx.Err() != nil {
		return
	}
	if err != nil {
		a.Logger.Warn("circulation expiry: lock unavailable; skipping this pass", "err", err)
		return
	}
	defer func() { _ = lease.Release(context.WithoutCancel(ctx)) }()
	rep, err := a.Circulation.RunExpiry(ctx, a.now())
	if err != nil && ctx.Err() == nil {
		a.Logger.Error("circulation expiry pass", "err", err)
	}
	if rep != (circulation.ExpiryReport{}) {
		a.Logger.Info("circulation expiry pass", "report", fmt.Sprintf("%+v", rep))
	}
}
