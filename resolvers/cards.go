package resolvers

import (
	"context"
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/card/cardsvc"
	"github.com/bacninh/thuvienso/graph/model"
	"github.com/bacninh/thuvienso/locale"
)

// passes maps the schema's CardPass to the card service's.
var passes = map[model.CardPass]cardsvc.Pass{model.CardPassOnline: cardsvc.PassOnline, model.CardPassOffline: cardsvc.PassOffline}

// cardPass is the schema's form of a pass.
func cardPass(p cardsvc.Pass) model.CardPass {
	if p == cardsvc.PassOffline {
		return model.CardPassOffline
	}
	return model.CardPassOnline
}

// accountOrSelf is the account a card operation is about: the one named,
// else the actor's own.
func accountOrSelf(a auth.Actor, id *string) string {
	if id != nil && *id != "" {
		return *id
	}
	return a.AccountID
}

// blockReason is a card's block reason while it is blocked.
func blockReason(status card.Status, r card.BlockReason) *card.BlockReason {
	if status != card.StatusBlocked || r == "" {
		return nil
	}
	return &r
}

// cardPayload answers a card mutation.
func cardPayload(c *card.Card, err error) (*model.LibraryCardPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.LibraryCardPayload{Card: *c}, nil
}

// linkPayload answers a link mutation.
func linkPayload(l *card.Link, err error) (*model.CardLinkPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.CardLinkPayload{Link: *l}, nil
}

// registerStudentsPayload turns a bulk registration's report into the
// schema's, row errors in the request's language.
func registerStudentsPayload(ctx context.Context, res *cardsvc.RegisterStudentsResult) *model.RegisterStudentsPayload {
	rows := func(in []cardsvc.StudentRow) []*model.RegisteredStudent {
		out := make([]*model.RegisteredStudent, len(in))
		for i, r := range in {
			out[i] = &model.RegisteredStudent{Line: r.Line, StudentID: r.StudentID, Name: r.Name, Class: r.Class,
				AccountID: r.AccountID, CardNumber: r.CardNumber}
		}
		return out
	}
	lang := locale.From(ctx)
	p := &model.RegisterStudentsPayload{Created: rows(res.Created), Existing: rows(res.Existing),
		Errors: make([]*model.StudentRowError, len(res.Errors)), CardsExpireAt: res.ExpiresAt}
	for i, e := range res.Errors {
		p.Errors[i] = &model.StudentRowError{Line: e.Line, StudentID: nonEmpty(e.StudentID), Field: nonEmpty(e.Err.Field),
			Message: e.Err.Message(lang)}
	}
	return p
}

// now is the resolvers' clock for what depends on the moment (a card's
// status turns EXPIRED at its expiry).
func now() time.Time { return time.Now() }
