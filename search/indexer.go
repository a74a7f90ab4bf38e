package search

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/library"
)

// Catalog is what the indexer reads from the catalog store.
type Catalog interface {
	catalog.ChangeReader
	WorksByID(ctx context.Context, ids []string) ([]*catalog.StoredWork, error)
	Works(ctx context.Context, afterID string, limit int) ([]*catalog.StoredWork, error)
	ItemsByWork(ctx context.Context, workIDs []string) ([]*catalog.StoredItem, error)
	LatestSeq(ctx context.Context) (int64, error)
}

// Libraries is what the indexer needs to know about libraries: their
// district and type, for filters and facets.
type Libraries interface {
	LibrariesByID(ctx context.Context, ids []string) ([]*library.Library, error)
}

// Indexer keeps an Index in step with the catalog store: Rebuild loads
// every work, Follow applies every change after the index's watermark.
// Each server instance runs its own Indexer over its own index; they agree
// because they follow the same change sequence.
type Indexer struct {
	Index     *Index
	Catalog   Catalog
	Libraries Libraries
	Logger    *slog.Logger
	// Poll is how often Follow looks for changes (default 200 ms): the
	// bound on how old availability in search results can be.
	Poll time.Duration
	// BatchSize is how many works one rebuild batch reads (default 2,000).
	BatchSize int
}

func (x *Indexer) logger() *slog.Logger {
	if x.Logger != nil {
		return x.Logger
	}
	return slog.Default()
}

// Rebuild indexes every live work and removes tombstones, then records the
// change sequence read before it started as the watermark: changes made
// during the rebuild are applied again by Follow, which is harmless.
func (x *Indexer) Rebuild(ctx context.Context) (int, error) {
	start := time.Now()
	seq, err := x.Catalog.LatestSeq(ctx)
	if err != nil {
		return 0, fmt.Errorf("rebuild index: %w", err)
	}
	size := x.BatchSize
	if size <= 0 {
		size = 2000
	}
	n, after := 0, ""
	for {
		works, err := x.Catalog.Works(ctx, after, size)
		if err != nil {
			return n, fmt.Errorf("rebuild index: %w", err)
		}
		if len(works) == 0 {
			break
		}
		docs, deleted, err := x.documents(ctx, works)
		if err != nil {
			return n, fmt.Errorf("rebuild index: %w", err)
		}
		if err := x.Index.Apply(ctx, docs, deleted, -1); err != nil {
			return n, fmt.Errorf("rebuild index: %w", err)
		}
		n += len(docs)
		after = works[len(works)-1].ID
	}
	if err := x.Index.Apply(ctx, nil, nil, seq); err != nil {
		return n, fmt.Errorf("rebuild index: %w", err)
	}
	if err := x.Index.Compact(ctx); err != nil {
		return n, fmt.Errorf("rebuild index: %w", err)
	}
	x.logger().Info("search index rebuilt", "works", n, "watermark", seq, "took", time.Since(start).Round(time.Millisecond))
	return n, nil
}

// Follow applies changes after the index's watermark until ctx ends,
// re-reading each changed work (once per poll, however many times it
// changed). A failing store is retried with backoff, never fatal: search
// keeps answering from the index it has.
func (x *Indexer) Follow(ctx context.Context) error {
	poll := x.Poll
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	backoff := poll
	for {
		w, err := x.Index.Watermark()
		if err != nil {
			return err
		}
		f := &catalog.Follower{After: w}
		err = catalog.Follow(ctx, x.Catalog, f, poll, 1000, x.apply)
		if ctx.Err() != nil {
			return nil
		}
		x.logger().Warn("search index follower failed; retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// apply re-indexes the works of one run of changes and moves the watermark
// to the last change, in one index batch.
func (x *Indexer) apply(ctx context.Context, changes []catalog.Change) error {
	seen := map[string]bool{}
	var ids []string
	for _, c := range changes {
		if !seen[c.WorkID] {
			seen[c.WorkID] = true
			ids = append(ids, c.WorkID)
		}
	}
	works, err := x.Catalog.WorksByID(ctx, ids)
	if err != nil {
		return err
	}
	docs, deleted, err := x.documents(ctx, works)
	if err != nil {
		return err
	}
	found := map[string]bool{}
	for _, w := range works {
		found[w.ID] = true
	}
	for _, id := range ids {
		if !found[id] {
			deleted = append(deleted, id)
		}
	}
	return x.Index.Apply(ctx, docs, deleted, changes[len(changes)-1].Seq)
}

// documents builds the search documents of works with their holdings
// summary: three store round trips for any number of works.
func (x *Indexer) documents(ctx context.Context, works []*catalog.StoredWork) (docs []Document, deleted []string, err error) {
	ids := make([]string, 0, len(works))
	for _, w := range works {
		if w.Deleted {
			deleted = append(deleted, w.ID)
			continue
		}
		ids = append(ids, w.ID)
	}
	if len(ids) == 0 {
		return nil, deleted, nil
	}
	items, err := x.Catalog.ItemsByWork(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("items of %d works: %w", len(ids), err)
	}
	byWork := map[string][]*catalog.StoredItem{}
	libSeen := map[string]bool{}
	var libIDs []string
	for _, it := range items {
		byWork[it.WorkID] = append(byWork[it.WorkID], it)
		if !libSeen[it.LibraryID] {
			libSeen[it.LibraryID] = true
			libIDs = append(libIDs, it.LibraryID)
		}
	}
	libs, err := x.Libraries.LibrariesByID(ctx, libIDs)
	if err != nil {
		return nil, nil, fmt.Errorf("libraries of %d works: %w", len(ids), err)
	}
	libByID := make(map[string]*library.Library, len(libs))
	for _, l := range libs {
		libByID[l.ID] = l
	}
	for _, w := range works {
		if !w.Deleted {
			docs = append(docs, DocumentOf(w, byWork[w.ID], libByID))
		}
	}
	return docs, deleted, nil
}

// DocumentOf builds a work's search document from the work, its items and
// the libraries holding them.
func DocumentOf(w *catalog.StoredWork, items []*catalog.StoredItem, libs map[string]*library.Library) Document {
	d := Document{
		ID: w.ID, Title: w.Title, Subtitle: w.Subtitle, Subjects: w.Subjects, Series: w.Series,
		Publisher: w.Publisher, ISBNs: w.ISBNs, Summary: w.Summary, Format: w.Format,
		Languages: w.Languages, Year: w.Year, TotalItems: len(items),
	}
	for _, a := range w.Authors {
		d.Authors = append(d.Authors, a.Name)
	}
	held, available, districts, types := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, it := range items {
		if !held[it.LibraryID] {
			held[it.LibraryID] = true
			d.LibraryIDs = append(d.LibraryIDs, it.LibraryID)
			if l := libs[it.LibraryID]; l != nil {
				if l.District != "" && !districts[l.District] {
					districts[l.District] = true
					d.Districts = append(d.Districts, l.District)
				}
				if !types[string(l.Type)] {
					types[string(l.Type)] = true
					d.LibraryTypes = append(d.LibraryTypes, string(l.Type))
				}
			}
		}
		if it.Status == catalog.StatusAvailable {
			d.AvailableItems++
			if !available[it.LibraryID] {
				available[it.LibraryID] = true
				d.AvailableAt = append(d.AvailableAt, it.LibraryID)
			}
		}
	}
	return d
}
