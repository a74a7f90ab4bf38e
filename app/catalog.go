package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/demo"
	"github.com/bacninh/thuvienso/search"
)

// openCatalog opens the catalog service and this instance's search index.
// The index is derived data: one built by another version of the mapping
// is removed and rebuilt.
func (a *App) openCatalog() error {
	a.Catalog = &catalog.Service{Store: a.Stores.Catalog}
	idx, err := search.Open(a.Config.IndexDir)
	if errors.Is(err, search.ErrIncompatible) {
		a.Logger.Warn("search index is from another version; rebuilding", "dir", a.Config.IndexDir)
		if err := os.RemoveAll(a.Config.IndexDir); err != nil {
			return fmt.Errorf("remove old search index: %w", err)
		}
		idx, err = search.Open(a.Config.IndexDir)
	}
	if err != nil {
		return fmt.Errorf("open search index: %w", err)
	}
	a.Index = idx
	a.closers = append(a.closers, func(context.Context) error { return idx.Close() })
	a.Searcher = &search.Cached{Index: idx, Cache: a.Cache}
	a.Indexer = &search.Indexer{Index: idx, Catalog: a.Stores.Catalog, Libraries: a.Stores.Libraries, Logger: a.Logger}
	return nil
}

// startIndexing runs, in the background: the demo catalog seed (when this
// run seeds the demo province), a rebuild of the index when it has never
// been built, then the change follower, until Close. Serving does not wait
// for it: searches answer from what is indexed so far. But until an index
// built from nothing is complete, /readyz says the instance is not ready
// (searchReady), so that a load balancer sends its traffic to instances
// whose searches find every work.
func (a *App) startIndexing() {
	// The demo seed below fills the store, not the index: the watermark
	// read now is the one the rebuild decision needs.
	w, werr := a.Index.Watermark()
	a.indexBuilding.Store(werr != nil || w == 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	a.closers = append(a.closers, func(context.Context) error { cancel(); <-done; return nil })
	go func() {
		defer close(done)
		if a.Demo != nil && a.Config.DemoCatalog {
			if err := a.seedDemoCatalog(ctx); err != nil && ctx.Err() == nil {
				a.Logger.Error("seed demo catalog", "err", err)
			}
		}
		if werr != nil {
			a.Logger.Error("search index", "err", werr)
			return
		}
		built := true
		if w == 0 {
			if _, err := a.Indexer.Rebuild(ctx); err != nil {
				built = false // not ready: searches would miss works
				if ctx.Err() == nil {
					a.Logger.Error("rebuild search index", "err", err)
				}
			}
		}
		if built {
			a.indexBuilding.Store(false)
		}
		if a.Demo != nil && a.Config.DemoCatalog {
			a.seedDemoEbooks(ctx)
		}
		if err := a.Indexer.Follow(ctx); err != nil {
			a.Logger.Error("search index follower stopped", "err", err)
		}
	}()
}

// searchReady is the readiness check of the search index: it fails while
// the index is being built from nothing.
func (a *App) searchReady(context.Context) error {
	if a.indexBuilding.Load() {
		return errors.New("the search index is being built; searches would miss works")
	}
	return nil
}

// seedDemoCatalog imports the demo catalog, library by library, unless the
// catalog already has works.
func (a *App) seedDemoCatalog(ctx context.Context) error {
	counts, err := a.Stores.Catalog.Counts(ctx)
	if err != nil || counts.Works > 0 {
		return err
	}
	start := time.Now()
	libs, err := a.Stores.Libraries.Libraries(ctx, nil, "")
	if err != nil {
		return err
	}
	records, items := demo.Catalog(libs, 1)
	batches := map[string]*catalog.Batch{}
	var order []string
	for _, r := range records {
		b := batches[r.LibraryID]
		if b == nil {
			b = &catalog.Batch{LibraryID: r.LibraryID}
			batches[r.LibraryID] = b
			order = append(order, r.LibraryID)
		}
		b.Records = append(b.Records, *r)
	}
	for _, it := range items {
		if b := batches[it.LibraryID]; b != nil {
			b.Items = append(b.Items, *it)
		}
	}
	total := &catalog.ApplyResult{}
	for _, id := range order {
		res, err := a.Catalog.Import(ctx, batches[id])
		if err != nil {
			return fmt.Errorf("library %s: %w", id, err)
		}
		total.Add(res)
	}
	a.Logger.Info("demo catalog seeded", "records", total.RecordsNew, "works", total.WorksCreated, "items", total.ItemsNew,
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// registerCatalogMetrics exposes the hit ratios of the search cache and of
// the response cache on /metrics.
func (a *App) registerCatalogMetrics(reg *prometheus.Registry) {
	caches := map[string]func() (uint64, uint64){"search": a.Searcher.CacheStats}
	if rc := a.Server.ResponseCache(); rc != nil {
		caches["response"] = rc.Stats
	}
	for name, stats := range caches {
		for _, result := range []string{"hit", "miss"} {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name:        "thuvienso_cache_lookups_total",
				Help:        "Lookups of cached search results and suggestions (cache=search) and of whole anonymous query responses (cache=response), by result; the hit ratio is hit / (hit + miss).",
				ConstLabels: prometheus.Labels{"cache": name, "result": result},
			}, func() float64 {
				hits, misses := stats()
				if result == "hit" {
					return float64(hits)
				}
				return float64(misses)
			}))
		}
	}
}
