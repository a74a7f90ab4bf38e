package resolvers

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/library"
)

// loaders batch the lookups many objects of one response share (a page of
// accounts all pointing at a home library, libraries at their parent), so a
// page costs one store round trip per kind instead of one per object. They
// live for one operation: nothing is cached across requests.
type loaders struct {
	library *dataloadgen.Loader[string, *library.Library]
}

type loadersKey struct{}

// batchWait is how long a loader waits for sibling fields to ask before it
// runs the batch; gqlgen resolves siblings concurrently within microseconds.
const batchWait = 500 * time.Microsecond

func (r *Resolver) newLoaders() *loaders {
	return &loaders{
		library: dataloadgen.NewLoader(func(ctx context.Context, ids []string) ([]*library.Library, []error) {
			libs, err := r.LibraryService.LibrariesByID(ctx, ids)
			if err != nil {
				return nil, []error{err}
			}
			errs := make([]error, len(ids))
			for i, l := range libs {
				if l == nil {
					errs[i] = thuvienso.ErrNotFound
				}
			}
			return libs, errs
		}, dataloadgen.WithWait(batchWait)),
	}
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
