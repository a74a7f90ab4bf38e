package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/demo"
	"github.com/bacninh/thuvienso/ebooks"
	"github.com/bacninh/thuvienso/lock"
	"github.com/bacninh/thuvienso/opds"
	"github.com/bacninh/thuvienso/search"
	"github.com/bacninh/thuvienso/vietnamese"
)

// ExpiryInterval is how often the e-book expiry pass runs. A loan ends
// within this of its end time; its content link is refused from the end
// time on regardless, since the content handler checks the loan's end.
const ExpiryInterval = 30 * time.Second

// expiryLockKey names the lock under which one instance at a time runs the
// expiry pass; expiryLockTTL outlives one pass by far (the lease is
// released after each).
const (
	expiryLockKey = "ebooks:expiry"
	expiryLockTTL = 5 * time.Minute
)

// openEbooks builds the lending service: its content folder
// (DATA_DIR/ebooks) and the secret that signs content links
// (KEYS_DIR/ebook-links), generated on first run like the other keys.
func (a *App) openEbooks() error {
	content, err := ebooks.NewFSContentStore(filepath.Join(a.Config.DataDir, "ebooks"))
	if err != nil {
		return err
	}
	a.closers = append(a.closers, func(context.Context) error { return content.Close() })
	signer, err := ebooks.LoadOrCreateLinkSigner(filepath.Join(a.Config.KeysDir, "ebook-links"))
	if err != nil {
		return fmt.Errorf("e-book link key: %w", err)
	}
	a.EbookContent = content
	a.Ebooks = ebooks.NewService(announcingEbookStore{a.Stores.Ebooks, a.Broker, a.Logger}, a.Stores.Events, a.Stores.Auth,
		ebooks.WithLibraries(a.Stores.Libraries), ebooks.WithContentLinks(signer, ""), ebooks.WithClock(a.now))
	return nil
}

// mountEbooks serves loans' files at ebooks.ContentPath and the OPDS
// feeds at opds.Root.
func (a *App) mountEbooks() {
	h := a.Ebooks.ContentHandler(a.EbookContent)
	a.Server.Handle("GET "+ebooks.ContentPath, h)
	a.Server.Handle("HEAD "+ebooks.ContentPath, h)
	(&opds.Handler{Ebooks: a.Ebooks, Authenticate: a.Auth.Authenticate}).Routes(a.Server.Handle)
}

// startEbookExpiry runs the expiry pass every ExpiryInterval until Close.
// Every instance runs the loop, but a pass runs only under the lock, so
// one instance works at a time; the pass is idempotent besides, so a lost
// lease costs nothing but duplicate reads.
func (a *App) startEbookExpiry() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	a.closers = append(a.closers, func(context.Context) error { cancel(); <-done; return nil })
	go func() {
		defer close(done)
		t := time.NewTicker(ExpiryInterval)
		defer t.Stop()
		for {
			a.runEbookExpiry(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// runEbookExpiry runs one pass if this instance gets the lock.
func (a *App) runEbookExpiry(ctx context.Context) {
	lease, err := a.Locker.TryObtain(ctx, expiryLockKey, expiryLockTTL)
	if errors.Is(err, lock.ErrNotObtained) || ctx.Err() != nil {
		return
	}
	if err != nil {
		a.Logger.Warn("e-book expiry: lock unavailable; skipping this pass", "err", err)
		return
	}
	defer func() { _ = lease.Release(context.WithoutCancel(ctx)) }()
	rep, err := a.Ebooks.RunExpiry(ctx, a.now())
	if err != nil && ctx.Err() == nil {
		a.Logger.Error("e-book expiry pass", "err", err)
	}
	if rep != (ebooks.ExpiryReport{}) {
		a.Logger.Info("e-book expiry pass", "report", fmt.Sprintf("%+v", rep))
	}
}

// seedDemoEbooks adds the demo e-books to the works of the demo catalog.
func (a *App) seedDemoEbooks(ctx context.Context) {
	admin := auth.Actor{AccountID: "demo-seed", Role: auth.RoleAdmin}
	n, err := demo.SeedEbooks(ctx, a.Ebooks, a.EbookContent, a.findWork, admin, a.Logger)
	if err != nil && ctx.Err() == nil {
		a.Logger.Error("seed demo e-books", "err", err)
	}
	if n > 0 {
		a.Logger.Info("demo e-books seeded", "titles", n)
	}
}

// findWork returns the catalog work with this title and first author, as
// the search index knows it; "" when none matches exactly.
func (a *App) findWork(ctx context.Context, title, author string) (string, error) {
	res, err := a.Index.Search(ctx, search.Request{Query: title + " " + author, First: 10})
	if err != nil {
		return "", err
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	works, err := a.Stores.Catalog.WorksByID(ctx, ids)
	if err != nil {
		return "", err
	}
	for _, w := range works {
		if matchesWork(w, title, author) {
			return w.ID, nil
		}
	}
	return "", nil
}

// matchesWork compares folded title and first author.
func matchesWork(w *catalog.StoredWork, title, author string) bool {
	if w.Deleted || vietnamese.Fold(w.Title) != vietnamese.Fold(title) || len(w.Authors) == 0 {
		return false
	}
	return vietnamese.Fold(w.Authors[0].Name) == vietnamese.Fold(author)
}
