package resolvers

import (
	"context"
	"errors"

	"github.com/vikstrous/dataloadgen"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/graph/model"
	"github.com/bacninh/thuvienso/locale"
	"github.com/bacninh/thuvienso/relay"
)

// newItemLoader batches copies by barcode: a page of holds or loans
// shows its copies in one round trip.
func (r *Resolver) newItemLoader() *dataloadgen.Loader[string, *catalog.StoredItem] {
	return dataloadgen.NewLoader(func(ctx context.Context, barcodes []string) ([]*catalog.StoredItem, []error) {
		its, err := r.CatalogService.Store.ItemsByBarcode(ctx, barcodes)
		if err != nil {
			return nil, []error{err}
		}
		byBarcode := make(map[string]*catalog.StoredItem, len(its))
		for _, it := range its {
			byBarcode[it.Barcode] = it
		}
		return inOrder(barcodes, byBarcode)
	}, dataloadgen.WithWait(batchWait))
}

// item loads a copy by barcode; null for none.
func (r *Resolver) item(ctx context.Context, barcode string) (*catalog.StoredItem, error) {
	if barcode == "" {
		return nil, nil
	}
	return nullIfNotFound(r.loadersFor(ctx).item.Load(ctx, barcode))
}

// myHolds lists the actor's holds.
func (r *Resolver) myHolds(ctx context.Context, all bool, first *int, after *string) (*model.HoldConnection, error) {
	a, err := auth.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	hs, err := r.CirculationService.MyHolds(ctx, a, all)
	if err != nil {
		return nil, err
	}
	w, err := relay.Paginate(len(hs), first, after)
	if err != nil {
		return nil, err
	}
	conn := &model.HoldConnection{TotalCount: w.Total, Edges: make([]*model.HoldEdge, 0, w.End-w.Start)}
	for i := w.Start; i < w.End; i++ {
		conn.Edges = append(conn.Edges, &model.HoldEdge{Cursor: relay.Cursor(i), Node: *hs[i]})
	}
	conn.PageInfo = pageInfo(w, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	return conn, nil
}

// myLoans lists the actor's loans.
func (r *Resolver) myLoans(ctx context.Context, all bool, first *int, after *string) (*model.LoanConnection, error) {
	a, err := auth.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	ls, err := r.CirculationService.MyLoans(ctx, a, all)
	if err != nil {
		return nil, err
	}
	w, err := relay.Paginate(len(ls), first, after)
	if err != nil {
		return nil, err
	}
	conn := &model.LoanConnection{TotalCount: w.Total, Edges: make([]*model.LoanEdge, 0, w.End-w.Start)}
	for i := w.Start; i < w.End; i++ {
		conn.Edges = append(conn.Edges, &model.LoanEdge{Cursor: relay.Cursor(i), Node: *ls[i]})
	}
	conn.PageInfo = pageInfo(w, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	return conn, nil
}

// physicalHoldPayload answers a hold mutation with the hold's place in
// the queue.
func (r *Resolver) physicalHoldPayload(ctx context.Context, h *circulation.Hold, err error) (*model.HoldPayload, error) {
	if err != nil {
		return nil, err
	}
	st, err := r.CirculationService.HoldStatuses(ctx, []*circulation.Hold{h})
	if err != nil {
		return nil, err
	}
	return &model.HoldPayload{Hold: *st[0]}, nil
}

// holdStatuses gives holds their places in the queue.
func (r *Resolver) holdStatuses(ctx context.Context, hs []*circulation.Hold, err error) ([]*circulation.HoldStatus, error) {
	if err != nil {
		return nil, err
	}
	return r.CirculationService.HoldStatuses(ctx, hs)
}

// loanPayload answers a loan mutation with the loan as its reader sees it.
func (r *Resolver) loanPayload(ctx context.Context, l *circulation.Loan, err error) (*model.LoanPayload, error) {
	if err != nil {
		return nil, err
	}
	st, err := r.CirculationService.StatusOf(ctx, l)
	if err != nil {
		return nil, err
	}
	return &model.LoanPayload{Loan: *st}, nil
}

// checkInPayload describes what a check-in did.
func (r *Resolver) checkInPayload(ctx context.Context, res *circulation.CheckInResult, err error) (*model.CheckInPayload, error) {
	if err != nil {
		return nil, err
	}
	p := &model.CheckInPayload{Item: *res.Item, Action: res.Action}
	if res.Destination != "" {
		if p.Destination, err = r.library(ctx, res.Destination); err != nil {
			return nil, err
		}
	}
	if res.Loan != nil {
		if p.Loan, err = r.CirculationService.StatusOf(ctx, res.Loan); err != nil {
			return nil, err
		}
	}
	if res.Hold != nil {
		st, err := r.CirculationService.HoldStatuses(ctx, []*circulation.Hold{res.Hold})
		if err != nil {
			return nil, err
		}
		p.Hold = st[0]
	}
	return p, nil
}

// renewAll renews what can be and says why not for the rest.
func (r *Resolver) renewAll(ctx context.Context) (*model.RenewAllLoansPayload, error) {
	a, err := auth.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := r.CirculationService.RenewAll(ctx, a)
	if err != nil {
		return nil, err
	}
	out := &model.RenewAllLoansPayload{Results: make([]*model.RenewLoanResult, 0, len(rs))}
	for _, res := range rs {
		st, err := r.CirculationService.StatusOf(ctx, res.Loan)
		if err != nil {
			return nil, err
		}
		rr := &model.RenewLoanResult{Loan: *st, Renewed: res.Err == nil}
		if res.Err != nil {
			var e *thuvienso.Error
			if !errors.As(res.Err, &e) {
				return nil, res.Err
			}
			msg := e.Message(locale.From(ctx))
			rr.Reason = &msg
		}
		out.Results = append(out.Results, rr)
	}
	return out, nil
}

// checkOut lends a copy, finding the reader by card number or by a
// digital card's token verified online (signature, status, replay).
func (r *Resolver) checkOut(ctx context.Context, in model.CheckOutInput) (*model.LoanPayload, error) {
	a, err := auth.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	co := circulation.CheckOutInput{LibraryID: in.LibraryID, CardNumber: deref(in.CardNumber), Barcode: in.Barcode,
		IdempotencyKey: deref(in.IdempotencyKey)}
	if tok := deref(in.CardToken); tok != "" {
		v, err := r.CardService.VerifyCard(ctx, a, tok)
		if err != nil {
			return nil, err
		}
		co.ReaderID, co.CardNumber = v.Card.AccountID, ""
	} else if co.CardNumber == "" {
		return nil, thuvienso.Invalid("input.cardNumber", "give the reader's card number or their card's code",
			"Hãy nhập số thẻ hoặc quét mã thẻ của bạn đọc")
	}
	l, err := r.CirculationService.CheckOut(ctx, a, co)
	return r.loanPayload(ctx, l, err)
}

// readingHistory is a page of the actor's reading history with its total.
func (r *Resolver) readingHistory(ctx context.Context, first *int, after *string) (*model.ReadingHistoryConnection, error) {
	a, err := auth.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	n, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	conn := &model.ReadingHistoryConnection{Edges: []*model.ReadingHistoryEdge{}}
	if conn.TotalCount, err = r.CirculationService.HistoryCount(ctx, a); err != nil {
		return nil, err
	}
	if n == 0 {
		return conn, nil
	}
	p, err := r.CirculationService.History(ctx, a, n, deref(after))
	if err != nil {
		return nil, err
	}
	for _, e := range p.Entries {
		conn.Edges = append(conn.Edges, &model.ReadingHistoryEdge{Cursor: circulation.EncodeHistoryCursor(circulation.HistoryCursorOf(e)), Node: *e})
	}
	conn.PageInfo = keysetPageInfo(p.HasNextPage, deref(after) != "", len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	return conn, nil
}
