package resolvers

import (
	"context"
	"slices"

	"github.com/vikstrous/dataloadgen"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/ebooks"
	"github.com/bacninh/thuvienso/graph/model"
	"github.com/bacninh/thuvienso/relay"
)

// ebookLoaders batch what a page of loans, holds or titles shares: the
// titles they point at and the titles' availability.
type ebookLoaders struct {
	title        *dataloadgen.Loader[string, *ebooks.Title]
	availability *dataloadgen.Loader[string, *ebooks.Availability]
}

func (r *Resolver) newEbookLoaders() ebookLoaders {
	return ebookLoaders{
		title: dataloadgen.NewLoader(func(ctx context.Context, ids []string) ([]*ebooks.Title, []error) {
			ts, err := r.EbookService.TitlesByID(ctx, ids)
			if err != nil {
				return nil, []error{err}
			}
			byID := make(map[string]*ebooks.Title, len(ts))
			for _, t := range ts {
				byID[t.ID] = t
			}
			return inOrder(ids, byID)
		}, dataloadgen.WithWait(batchWait)),
		availability: dataloadgen.NewLoader(func(ctx context.Context, ids []string) ([]*ebooks.Availability, []error) {
			av, err := r.EbookService.Availability(ctx, ids)
			if err != nil {
				return nil, []error{err}
			}
			return inOrder(ids, av)
		}, dataloadgen.WithWait(batchWait)),
	}
}

// ebookTitles pages through titles by ID: the cursor is the last title's
// ID, so a page stays correct while titles are added.
func (r *Resolver) ebookTitles(ctx context.Context, query string, format *ebooks.Format, first *int, after *string) (*model.EbookTitleConnection, error) {
	n, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	conn := &model.EbookTitleConnection{Edges: []*model.EbookTitleEdge{}}
	if n == 0 {
		return conn, nil
	}
	ts, err := r.EbookService.Titles(ctx, ebooks.TitleQuery{Format: deref(format), Text: query, AfterID: deref(after), Limit: n + 1})
	if err != nil {
		return nil, err
	}
	for _, t := range ts[:min(n, len(ts))] {
		conn.Edges = append(conn.Edges, &model.EbookTitleEdge{Cursor: t.ID, Node: *t})
	}
	conn.PageInfo = keysetPageInfo(len(ts) > n, deref(after) != "", len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	return conn, nil
}

// pageSize checks `first` against the schema's bounds.
func pageSize(first *int) (int, error) {
	w, err := relay.Paginate(relay.MaxPageSize, first, nil)
	if err != nil {
		return 0, err
	}
	return w.End, nil
}

// myEbookLoans lists the actor's loans, newest first.
func (r *Resolver) myEbookLoans(ctx context.Context, all bool, first *int, after *string) (*model.EbookLoanConnection, error) {
	a, err := auth.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	ls, err := r.EbookService.MyLoans(ctx, a, all)
	if err != nil {
		return nil, err
	}
	slices.Reverse(ls)
	w, err := relay.Paginate(len(ls), first, after)
	if err != nil {
		return nil, err
	}
	conn := &model.EbookLoanConnection{TotalCount: w.Total, Edges: make([]*model.EbookLoanEdge, 0, w.End-w.Start)}
	for i := w.Start; i < w.End; i++ {
		conn.Edges = append(conn.Edges, &model.EbookLoanEdge{Cursor: relay.Cursor(i), Node: *ls[i]})
	}
	conn.PageInfo = pageInfo(w, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	return conn, nil
}

// myEbookHolds lists the actor's holds, oldest first.
func (r *Resolver) myEbookHolds(ctx context.Context, all bool, first *int, after *string) (*model.EbookHoldConnection, error) {
	a, err := auth.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	hs, err := r.EbookService.MyHolds(ctx, a, all)
	if err != nil {
		return nil, err
	}
	w, err := relay.Paginate(len(hs), first, after)
	if err != nil {
		return nil, err
	}
	conn := &model.EbookHoldConnection{TotalCount: w.Total, Edges: make([]*model.EbookHoldEdge, 0, w.End-w.Start)}
	for i := w.Start; i < w.End; i++ {
		conn.Edges = append(conn.Edges, &model.EbookHoldEdge{Cursor: relay.Cursor(i), Node: *hs[i]})
	}
	conn.PageInfo = pageInfo(w, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	return conn, nil
}

// pageInfo describes a page of n edges of window w.
func pageInfo(w relay.Window, n int, cursor func(i int) string) model.PageInfo {
	return keysetPageInfo(w.HasNext(), w.HasPrevious(), n, cursor)
}

// keysetPageInfo describes a page of n edges; for lists paged by key
// (hasPrevious: the client gave a cursor).
func keysetPageInfo(hasNext, hasPrevious bool, n int, cursor func(i int) string) model.PageInfo {
	p := model.PageInfo{HasNextPage: hasNext, HasPreviousPage: hasPrevious}
	if n > 0 {
		first, last := cursor(0), cursor(n-1)
		p.StartCursor, p.EndCursor = &first, &last
	}
	return p
}

// holdPayload answers a hold mutation with the hold's place in the queue.
func (r *Resolver) holdPayload(ctx context.Context, a auth.Actor, h *ebooks.Hold, err error) (*model.EbookHoldPayload, error) {
	if err != nil {
		return nil, err
	}
	st, err := r.EbookService.HoldStatus(ctx, a, h.ID)
	if err != nil {
		return nil, err
	}
	return &model.EbookHoldPayload{Hold: *st}, nil
}

// unlimitedAsNull turns the domain's ebooks.Unlimited into a null count.
func unlimitedAsNull(n int) *int {
	if n == ebooks.Unlimited {
		return nil
	}
	return &n
}
