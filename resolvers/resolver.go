// Package resolvers turns GraphQL operations into calls on the domain
// services and their answers back into the schema's shapes. Resolvers hold
// no rules of their own: validation and authorization live in the domain.
package resolvers

import (
	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card/cardsvc"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/ebooks"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/notifications"
	"github.com/bacninh/thuvienso/pubsub"
	"github.com/bacninh/thuvienso/search"
)

// Resolver is the root resolver; it holds the domain services.
type Resolver struct {
	AuthService    *auth.Service
	LibraryService *library.Service
	CatalogService *catalog.Service
	Searcher       *search.Cached
	EbookService   *ebooks.Service
	CardService    *cardsvc.Service
	// NotificationService is the inbox, devices and preferences.
	NotificationService *notifications.Service
	// CirculationService is holds and loans of physical copies.
	CirculationService *circulation.Service
	// Broker carries the announcements subscriptions follow.
	Broker pubsub.Broker
}

// nullIfNotFound turns a lookup's NOT_FOUND into a null answer, the GraphQL
// convention for `thing(id)` fields.
func nullIfNotFound[T any](v *T, err error) (*T, error) {
	if thuvienso.ErrorCode(err) == thuvienso.CodeNotFound {
		return nil, nil
	}
	return v, err
}
