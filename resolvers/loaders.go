package resolvers

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/graph/model"
	"github.com/bacninh/thuvienso/library"
)

// loaders batch the lookups many objects of one response share (a page of
// accounts all pointing at a home library, libraries at their parent), so a
// page costs one store round trip per kind instead of one per object. They
// live for one operation: nothing is cached across requests.
type loaders struct {
	library       *dataloadgen.Loader[string, *library.Library]
	work          *dataloadgen.Loader[string, *catalog.StoredWork]
	itemsByWork   *dataloadgen.Loader[string, []*catalog.StoredItem]
	recordsByWork *dataloadgen.Loader[string, []*catalog.StoredRecord]
	ebooks        ebookLoaders
	item          *dataloadgen.Loader[string, *catalog.StoredItem]
	// availability counts a work's copies from itemsByWork, unless a
	// search primed it with the index's counts for its hits.
	availability *dataloadgen.Loader[string, *model.Availability]
}

type loadersKey struct{}

// batchWait is how long a loader waits for sibling fields to ask before it
// runs the batch; gqlgen resolves siblings concurrently within microseconds.
const batchWait = 500 * time.Microsecond

func (r *Resolver) newLoaders() *loaders {
	l := &loaders{
		ebooks: r.newEbookLoaders(),
		item:   r.newItemLoader(),
		library: dataloadgen.NewLoader(func(ctx context.Context, ids []string) ([]*library.Library, []error) {
			libs, err := r.LibraryService.Store.LibrariesByID(ctx, ids)
			if err != nil {
				return nil, []error{err}
			}
			byID := make(map[string]*library.Library, len(libs))
			for _, l := range libs {
				byID[l.ID] = l
			}
			return inOrder(ids, byID)
		}, dataloadgen.WithWait(batchWait)),
		work: dataloadgen.NewLoader(func(ctx context.Context, ids []string) ([]*catalog.StoredWork, []error) {
			works, err := r.CatalogService.Store.WorksByID(ctx, ids)
			if err != nil {
				return nil, []error{err}
			}
			byID := make(map[string]*catalog.StoredWork, len(works))
			for _, w := range works {
				if !w.Deleted {
					byID[w.ID] = w
				}
			}
			return inOrder(ids, byID)
		}, dataloadgen.WithWait(batchWait)),
		itemsByWork: dataloadgen.NewLoader(func(ctx context.Context, ids []string) ([][]*catalog.StoredItem, []error) {
			items, err := r.CatalogService.Store.ItemsByWork(ctx, ids)
			if err != nil {
				return nil, []error{err}
			}
			return groupBy(ids, items, func(it *catalog.StoredItem) string { return it.WorkID }), nil
		}, dataloadgen.WithWait(batchWait)),
		recordsByWork: dataloadgen.NewLoader(func(ctx context.Context, ids []string) ([][]*catalog.StoredRecord, []error) {
			recs, err := r.CatalogService.Store.RecordsByWork(ctx, ids)
			if err != nil {
				return nil, []error{err}
			}
			return groupBy(ids, recs, func(rec *catalog.StoredRecord) string { return rec.WorkID }), nil
		}, dataloadgen.WithWait(batchWait)),
	}
	l.availability = dataloadgen.NewLoader(func(ctx context.Context, ids []string) ([]*model.Availability, []error) {
		items, err := l.itemsByWork.LoadAll(ctx, ids)
		if err != nil {
			return nil, []error{err}
		}
		out := make([]*model.Availability, len(ids))
		for i := range ids {
			out[i] = availability(items[i])
		}
		return out, nil
	}, dataloadgen.WithWait(0)) // itemsByWork's window batches the works; the default wait (16 ms) would add to it
	return l
}

// inOrder answers a batch in the order of its keys, NOT_FOUND where a key
// has no value.
func inOrder[V any](ids []string, byID map[string]*V) ([]*V, []error) {
	out := make([]*V, len(ids))
	var errs []error
	for i, id := range ids {
		if v, ok := byID[id]; ok {
			out[i] = v
			continue
		}
		if errs == nil {
			errs = make([]error, len(ids))
		}
		errs[i] = thuvienso.ErrNotFound
	}
	return out, errs
}

// groupBy answers a batch of "children of each key" from one flat list.
func groupBy[V any](ids []string, all []V, key func(V) string) [][]V {
	by := make(map[string][]V, len(ids))
	for _, v := range all {
		by[key(v)] = append(by[key(v)], v)
	}
	out := make([][]V, len(ids))
	for i, id := range ids {
		out[i] = by[id]
	}
	return out
}

// WithLoaders is a gqlgen operation middleware (handler.AroundOperations)
// that gives each operation its own loaders.
func (r *Resolver) WithLoaders(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, loadersKey{}, r.newLoaders()))
}

// loadersFor returns the operation's loaders; outside an operation (tests
// calling resolvers directly) it makes fresh ones.
func (r *Resolver) loadersFor(ctx context.Context) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return r.newLoaders()
}

// library loads one library through the operation's loader; an empty id is
// no library.
func (r *Resolver) library(ctx context.Context, id string) (*library.Library, error) {
	if id == "" {
		return nil, nil
	}
	return r.loadersFor(ctx).library.Load(ctx, id)
}
